"""The speed bench: its minimal loop and PyTorch peer train as `fit` does, its
command writes what it promises, and `--backend` picks the Keras backend."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from dcgan_tf import bench, cli, speed
from dcgan_tf.model import DCGAN
from dcgan_tf.model.networks import build_discriminator, build_generator
from dcgan_tf.speed import harness
from dcgan_tf.speed.loops import MinimalLoop
from dcgan_tf.system import machine

REPO = Path(__file__).resolve().parent.parent
SHAPE = (16, 16, 1)
LATENT_DIM = 8
BATCH = 4
needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None, reason="torch is not installed"
)


def make_model(seed=3):
    keras.utils.set_random_seed(0)  # the same initial weights every call
    model = DCGAN(
        build_generator(SHAPE, LATENT_DIM, filters=8),
        build_discriminator(SHAPE, filters=8),
        seed=seed,
    )
    model.compile()
    return model


def real_batch():
    images = np.random.default_rng(1).uniform(-1, 1, (BATCH, *SHAPE))
    return images.astype("float32")


def weights(model):
    return [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]


def test_minimal_loop_trains_as_fit_does():
    fitted, looped = make_model(), make_model()
    batch = real_batch()
    history = fitted.fit(batch, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    loop = MinimalLoop(looped)
    d_loss, g_loss = loop.step(keras.ops.convert_to_tensor(batch))
    loop.sync()
    assert float(d_loss) == pytest.approx(history.history["d_loss"][0], rel=1e-4)
    assert float(g_loss) == pytest.approx(history.history["g_loss"][0], rel=1e-4)
    for after_fit, after_loop in zip(weights(fitted), weights(looped)):
        np.testing.assert_allclose(after_loop, after_fit, rtol=1e-4, atol=1e-6)
    before = weights(make_model())
    assert not np.allclose(weights(looped)[0], before[0])  # G learned
    assert not np.allclose(weights(looped)[-1], before[-1])  # D learned


@needs_torch
def test_peer_mirrors_the_networks():
    import torch

    from dcgan_tf.speed.peer import PeerDCGAN

    model = make_model()
    peer = PeerDCGAN(model.generator, model.discriminator)
    latents = np.random.default_rng(2).normal(size=(BATCH, LATENT_DIM))
    latents = latents.astype("float32")
    images = keras.ops.convert_to_numpy(model.generator(latents, training=True))
    with torch.no_grad():
        mirrored = peer.generator(torch.from_numpy(latents)).numpy()
    np.testing.assert_allclose(mirrored.transpose(0, 2, 3, 1), images, atol=1e-5)
    logits = keras.ops.convert_to_numpy(model.discriminator(images, training=True))
    with torch.no_grad():
        nchw = torch.from_numpy(images.transpose(0, 3, 1, 2).copy())
        peer_logits = peer.discriminator(nchw).numpy()
    np.testing.assert_allclose(peer_logits, logits, rtol=1e-4, atol=1e-5)


@needs_torch
def test_peer_step_trains_as_the_minimal_loop():
    import torch

    from dcgan_tf.speed.peer import PeerDCGAN, copy_weights, mirror

    model = make_model()
    # Keras' Adam adds epsilon to sqrt(v) before the bias correction, PyTorch
    # after it: at the first step 1e-7 in Keras is 1e-7 / sqrt(1 - 0.999) here.
    epsilon = 1e-7 / np.sqrt(1 - 0.999)
    peer = PeerDCGAN(model.generator, model.discriminator, epsilon=epsilon)
    # The latents the loop's first step draws: a fresh model's first draw.
    latents = keras.ops.convert_to_numpy(make_model().sample_latents(BATCH))
    batch = real_batch()
    loop = MinimalLoop(model)
    d_loss, g_loss = loop.step(keras.ops.convert_to_tensor(batch))
    loop.sync()
    nchw = torch.from_numpy(batch.transpose(0, 3, 1, 2).copy())
    peer_d_loss, peer_g_loss = peer.step(nchw, torch.from_numpy(latents))
    assert float(peer_d_loss) == pytest.approx(float(d_loss), rel=1e-4)
    assert float(peer_g_loss) == pytest.approx(float(g_loss), rel=1e-4)
    for network, trained in (
        (model.generator, peer.generator),
        (model.discriminator, peer.discriminator),
    ):
        expected = mirror(network)
        copy_weights(network, expected)
        for name, value in expected.named_parameters():
            actual = dict(trained.named_parameters())[name]
            np.testing.assert_allclose(
                actual.detach().numpy(), value.detach().numpy(), atol=1e-6
            )


TINY = ["--dataset", "mnist", "--synthetic", "--generator-filters", "8"]
TINY += ["--discriminator-filters", "8", "--latent-dim", "8", "--batch-size", "8"]
TINY += ["--image-size", "16"]


def skip_compiling(monkeypatch):
    # torch.compile takes a minute: the "compiled" peer runs the networks as
    # they are (its result is checked by the slow test above).
    if importlib.util.find_spec("torch") is not None:
        import torch

        monkeypatch.setattr(torch, "compile", lambda module: module)


def test_bench_writes_its_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(harness, "matmul_rate", lambda framework: 1e10)
    skip_compiling(monkeypatch)
    out = tmp_path / "bench.json"
    argv = [*TINY, "--steps", "2", "--block", "1", "--json", str(out)]
    bench.main(argv)
    result = json.loads(out.read_text())
    peers = {"peer", "peer_compiled"} if "torch" in result["versions"] else set()
    assert set(result["paths"]) == {"fit", "loop"} | peers
    assert result["backend"] == keras.backend.backend()
    assert result["command"].startswith("python -m dcgan_tf.bench --dataset mnist")
    for path in result["paths"].values():
        assert path["images_per_second"] > 0
        assert len(path["block_seconds"]) == 2
    table = capsys.readouterr().out
    assert "| dcgan_tf fit, " in table and "fraction of matmul ceiling" in table
    # The CPU it ran on, in the JSON and one line of the table.
    assert result["cpu"] == machine.cpu_info()
    assert table.splitlines()[1] == f"CPU: {machine.describe(result['cpu'])}"
    if peers:
        paths = result["paths"]
        assert paths["peer"]["over_peer"] == 1.0
        assert paths["peer_compiled"]["over_compiled_peer"] == 1.0
        fit = paths["fit"]
        assert fit["over_compiled_peer"] == pytest.approx(
            fit["images_per_second"] / paths["peer_compiled"]["images_per_second"]
        )
        assert "| / peer | / compiled peer |" in table
        assert "(compiled peer) |" in table
        assert result["not_timed"] == {}


@needs_torch
def test_bench_without_torch_compile_times_the_eager_peer_and_says_why(
    tmp_path, monkeypatch, capsys
):
    import torch

    def broken(module):
        def call(*args):
            raise RuntimeError(
                "InvalidCxxCompiler: No working C++ compiler found\nmore"
            )

        return call

    monkeypatch.setattr(torch, "compile", broken)
    monkeypatch.setattr(harness, "matmul_rate", lambda framework: 1e10)
    out = tmp_path / "bench.json"
    bench.main([*TINY, "--steps", "1", "--block", "1", "--json", str(out)])
    result = json.loads(out.read_text())
    assert set(result["paths"]) == {"fit", "loop", "peer"}
    reason = (
        "compiled PyTorch peer not timed: torch.compile failed "
        "(RuntimeError: InvalidCxxCompiler: No working C++ compiler found)"
    )
    assert result["not_timed"] == {"peer_compiled": reason}
    output = capsys.readouterr()
    assert output.out.splitlines()[-1] == reason
    assert "Traceback" not in output.out + output.err
    assert "over_compiled_peer" not in result["paths"]["fit"]


def test_bench_times_the_plain_dcgan_unless_asked(monkeypatch):
    # The folder preset augments with ADA; the peer it is timed against does not.
    seen = []
    monkeypatch.setattr(speed, "run_benchmark", lambda c, *a: seen.append(c) or {})
    monkeypatch.setattr(speed, "format_table", lambda result: "")
    bench.main(["--dataset", "folder", "--synthetic"])
    bench.main(["--dataset", "folder", "--synthetic", "--augment", "ada"])
    assert [(c.augment, c.ema) for c in seen] == [("none", 0.0), ("ada", 0.0)]


def test_backend_flag_sets_keras_backend():
    others = [
        name
        for name in cli.BACKENDS
        if name != keras.backend.backend() and importlib.util.find_spec(name)
    ]
    if not others:
        pytest.skip("no other backend installed")
    child = (
        "import sys\n"
        "from dcgan_tf import bench, cli, train\n"
        "for command in (train, bench):\n"
        "    args = command.build_parser().parse_args(['--backend', sys.argv[1]])\n"
        "cli.use_backend(args.backend)\n"
        "import keras\n"
        "print(keras.backend.backend())\n"
    )
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    done = subprocess.run(
        [sys.executable, "-c", child, others[0]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split()[-1] == others[0]


def test_backend_flag_after_keras_import_is_refused():
    other = next(name for name in cli.BACKENDS if name != keras.backend.backend())
    with pytest.raises(ValueError, match="before Keras is imported"):
        cli.use_backend(other)
    cli.use_backend(keras.backend.backend())  # the running one is fine


def test_bench_without_torch_prints_its_table_and_how_to_add_the_peer(
    tmp_path, monkeypatch, capsys
):
    # The README's plain `pip install -e .` has no torch: the peer's matmul
    # ceiling imported it anyway, and the bench ended in a traceback.
    if keras.backend.backend() == "torch":
        pytest.skip("the torch backend itself needs torch")
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch fails
    monkeypatch.setitem(sys.modules, "dcgan_tf.speed.peer", None)
    real_rate = harness.matmul_rate
    monkeypatch.setattr(
        harness,
        "matmul_rate",
        lambda framework: real_rate(framework) if framework == "torch" else 1e10,
    )
    out = tmp_path / "bench.json"
    bench.main(
        ["--dataset", "mnist", "--synthetic", "--generator-filters", "8"]
        + ["--discriminator-filters", "8", "--latent-dim", "8", "--batch-size", "4"]
        + ["--image-size", "16", "--steps", "1", "--block", "1", "--json", str(out)]
    )
    result = json.loads(out.read_text())
    assert set(result["paths"]) == {"fit", "loop"}
    assert set(result["matmul_flops_per_second"]) == {keras.backend.backend()}
    assert "torch" not in result["versions"]
    table = capsys.readouterr().out
    assert "| dcgan_tf fit, " in table
    # Which candidate auto would pick, and each one's rate (issue #32).
    from dcgan_tf.config import TrainConfig
    from dcgan_tf.training import candidates

    config = TrainConfig(dataset="mnist", image_size=16).resolve()
    labels = [
        candidates.label(s)
        for s in candidates.candidates(config, keras.backend.backend())
    ]
    assert list(result["candidates"]["rates"]) == labels
    assert result["chosen"] in labels
    (line,) = [line for line in table.splitlines() if line.startswith("auto's")]
    assert line.startswith(f"auto's probe (img/s, x {labels[0]}): ")
    assert f"{result['chosen']} " in line and "chosen)" in line
    assert all(label in line for label in labels)
    assert table.splitlines()[-1] == (
        "plain PyTorch peer not timed: torch is not installed; add it with "
        'pip install -e ".[torch]"'
    )


def test_bench_never_writes_into_a_run(small_run, monkeypatch, capsys):
    monkeypatch.setattr(speed, "run_benchmark", pytest.fail)
    with pytest.raises(SystemExit) as raised:
        bench.main(["--synthetic", "--json", str(small_run / "bench.json")])
    assert raised.value.code == 2
    assert "into the run directory" in capsys.readouterr().err
    assert not (small_run / "bench.json").exists()


def test_minimal_loop_trains_the_modern_recipe_as_fit_does():
    def modern(seed=3):
        keras.utils.set_random_seed(0)
        model = DCGAN(
            build_generator(SHAPE, LATENT_DIM, filters=8, upsample="resize"),
            build_discriminator(SHAPE, 8, norm="spectral", minibatch_stddev=True),
            seed=seed,
            loss="hinge",
        )
        model.compile()
        return model

    fitted, looped = modern(), modern()
    batch = real_batch()
    history = fitted.fit(batch, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    loop = MinimalLoop(looped)
    d_loss, g_loss = loop.step(keras.ops.convert_to_tensor(batch))
    loop.sync()
    assert float(d_loss) == pytest.approx(history.history["d_loss"][0], rel=1e-4)
    assert float(g_loss) == pytest.approx(history.history["g_loss"][0], rel=1e-4)
    # The spectral norm's u vectors moved alike.
    for after_fit, after_loop in zip(fitted.weights, looped.weights, strict=True):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(after_loop),
            keras.ops.convert_to_numpy(after_fit),
            rtol=1e-4,
            atol=1e-6,
        )


def test_bench_times_no_peer_for_another_recipe(monkeypatch, capsys):
    monkeypatch.setattr(harness, "matmul_rate", lambda framework: 1e10)
    argv = ["--dataset", "mnist", "--synthetic", "--recipe", "modern"]
    argv += ["--generator-filters", "8", "--discriminator-filters", "8"]
    argv += ["--latent-dim", "8", "--batch-size", "8", "--image-size", "16"]
    result = bench.main([*argv, "--steps", "1", "--block", "1"])
    assert set(result["paths"]) == {"fit", "loop"}
    assert "--upsample resize" in result["differences_from_paper"]
    assert "no PyTorch peer: it trains the paper's DCGAN" in capsys.readouterr().out


@needs_torch
@pytest.mark.slow  # torch.compile of both networks: about a minute here
def test_compiled_peer_computes_the_eager_peers_losses():
    import torch

    from dcgan_tf.speed.peer import PeerDCGAN

    model = make_model()
    eager = PeerDCGAN(model.generator, model.discriminator)
    compiled = PeerDCGAN(model.generator, model.discriminator, compiled=True)
    rng = np.random.default_rng(2)
    for _ in range(2):
        latents = torch.from_numpy(rng.normal(size=(BATCH, LATENT_DIM)).astype("f4"))
        nchw = torch.from_numpy(real_batch().transpose(0, 3, 1, 2).copy())
        expected = [float(loss) for loss in eager.step(nchw, latents)]
        actual = [float(loss) for loss in compiled.step(nchw, latents)]
        assert actual == pytest.approx(expected, rel=1e-4, abs=1e-6)
    # Both trained the same weights the same way.
    for name, value in eager.generator.named_parameters():
        actual = dict(compiled.generator.named_parameters())[name]
        np.testing.assert_allclose(actual.detach(), value.detach(), atol=1e-5)


CAPPED_CHILD = """
import sys
from dcgan_tf import bench, speed
from dcgan_tf.system import machine

def measure(config, *args):
    import torch
    print("capability", torch.backends.cpu.get_cpu_capability())
    torch.nn.Conv2d(3, 8, 3)(torch.ones(2, 3, 8, 8))  # oneDNN says its ISA
    print("caps", machine.cpu_info()["isa_caps"]["ONEDNN_MAX_CPU_ISA"])
    print("describe", machine.describe(machine.cpu_info()))
    return {}

speed.run_benchmark = measure
speed.format_table = lambda result: ""
frameworks = ("keras", "tensorflow", "torch", "jax")
print("loaded", [name for name in frameworks if name in sys.modules])
bench.main(["--synthetic", "--max-isa", "avx2"])
"""


@needs_torch
def test_max_isa_caps_the_libraries_before_they_load():
    if machine.cpu_info()["isa_level"] != "avx512":
        pytest.skip("capping at AVX2 needs a CPU above it")
    env = {**os.environ, "ONEDNN_VERBOSE": "1"}
    env = {k: v for k, v in env.items() if k not in machine.CAP_VARIABLES}
    done = subprocess.run(
        [sys.executable, "-c", CAPPED_CHILD],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert "loaded []" in lines  # bench's imports load no framework
    assert "capability AVX2" in lines  # PyTorch's own kernels
    assert any(line.endswith("isa:Intel AVX2") for line in lines)  # oneDNN's
    assert "caps AVX2" in lines
    if machine.cpu_info()["isa_level"] == "avx512":
        described = next(line for line in lines if line.startswith("describe"))
        assert described.endswith(", capped at AVX2")


def test_max_isa_above_the_cpu_is_one_line_and_exit_2(monkeypatch, capsys):
    avx2_only = {**machine.cpu_info(), "features": ["avx", "avx2"]}
    avx2_only["isa_level"] = "avx2"
    monkeypatch.setattr(machine, "cpu_info", lambda: avx2_only)
    monkeypatch.setattr(speed, "run_benchmark", pytest.fail)
    with pytest.raises(SystemExit) as raised:
        bench.main(["--synthetic", "--max-isa", "avx512"])
    assert raised.value.code == 2
    error = capsys.readouterr().err
    assert len(error.splitlines()) == 1 and "This CPU has no AVX512" in error


def test_the_cpus_own_level_is_no_cap():
    own = machine.cpu_info()["isa_level"]
    if own not in machine.ISA_CAPS:
        pytest.skip(f"this CPU's level is {own}")
    environ = {}
    assert machine.cap_isa(own, environ) == {} and environ == {}


def test_cap_isa_sets_every_library_and_keeps_other_xla_flags(monkeypatch):
    avx512 = {**machine.cpu_info(), "features": ["avx2", "avx512f"]}
    monkeypatch.setattr(machine, "cpu_info", lambda: {**avx512, "isa_level": "avx512"})
    environ = {"XLA_FLAGS": "--xla_dump_to=x --xla_cpu_max_isa=AVX512"}
    machine.cap_isa("avx2", environ)
    assert environ == {
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "ATEN_CPU_CAPABILITY": "avx2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        "XLA_FLAGS": "--xla_dump_to=x --xla_cpu_max_isa=AVX2",
    }
    # In this process Keras' backend is loaded: too late for a cap.
    with pytest.raises(ValueError, match="only to a fresh process"):
        machine.cap_isa("avx2")


def test_speed_table_names_level_backend_and_both_peers():
    spec = importlib.util.spec_from_file_location(
        "speed_table", REPO / "benchmarks" / "speed_table.py"
    )
    speed_table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed_table)
    cpu = {"model": "Some CPU", "features": ["avx2", "avx512f"], "cpu_count": 2}
    cpu |= {"isa_level": "avx512", "isa_caps": {"ONEDNN_MAX_CPU_ISA": "AVX2"}}

    def path(rate, peer=None, compiled=None):
        figures = {"images_per_second": rate, "over_peer_per_round": [1.0, 2.0]}
        return figures | {"over_peer": peer, "over_compiled_peer": compiled}

    record = {"dataset": "cifar10", "image_shape": [32, 32, 3], "batch_size": 128}
    tensorflow = record | {"backend": "tensorflow", "jit_compile": "auto", "cpu": cpu}
    tensorflow["paths"] = {
        "fit": path(300.0, 1.5, 1.2),
        "peer": path(200.0, 1.0, 0.8),
        "peer_compiled": path(250.0, 1.25, 1.0),
    }
    jax = record | {"backend": "jax", "jit_compile": "auto", "cpu": cpu}
    jax["paths"] = {"fit": path(100.0, 0.5), "peer": path(200.0, 1.0)}
    jax["not_timed"] = {"peer_compiled": "compiled PyTorch peer not timed: why"}
    lines = speed_table.render([jax, tensorflow]).splitlines()
    assert lines[0] == "CPU: Some CPU (2 cores; avx2 avx512f)"  # no cap: per row
    assert lines[3:] == [
        "| avx2 | cifar10 32x32x3 b128 | tensorflow | fit | 300.0 | 1.50 "
        "| 1.00-2.00 | 1.20 |",
        "| avx2 | cifar10 32x32x3 b128 | torch | plain PyTorch (eager peer) "
        "| 200.0 | 1.00 | - | 0.80 |",
        "| avx2 | cifar10 32x32x3 b128 | torch | plain PyTorch, torch.compile "
        "(compiled peer) | 250.0 | 1.25 | 1.00-2.00 | 1.00 |",
        "| avx2 | cifar10 32x32x3 b128 | jax | fit | 100.0 | 0.50 | 1.00-2.00 | - |",
        "avx2, jax: compiled PyTorch peer not timed: why",
    ]
