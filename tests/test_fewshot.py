import dataclasses
import subprocess
import sys
import time

import h5py
import keras
import numpy as np
import pytest
from conftest import DATA, tiny_config
from keras import layers, ops

from dcgan_tf.model import fewshot, fewshot_loss
from dcgan_tf.model.networks import build_discriminator, build_generator

SHAPE = (64, 64, 3)
LATENT_DIM = 8
FILTERS = 4
BATCH = 2


def _latents(count=BATCH, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((count, LATENT_DIM)).astype("float32")


def _images(count=BATCH, seed=1, size=64):
    # Smooth real-like images in [-1, 1]: a colour gradient and a disc.
    rng = np.random.default_rng(seed)
    grid = np.linspace(-1, 1, size, dtype="float32")
    y, x = np.meshgrid(grid, grid, indexing="ij")
    images = []
    for _ in range(count):
        cx, cy, r = rng.uniform(-0.5, 0.5, 2).tolist() + [rng.uniform(0.2, 0.5)]
        disc = ((x - cx) ** 2 + (y - cy) ** 2 < r**2).astype("float32")
        colour = rng.uniform(-1, 1, 3).astype("float32")
        image = 0.5 * x[..., None] * colour + 0.5 * disc[..., None] * colour[::-1]
        images.append(np.clip(image, -1, 1))
    return np.stack(images)


_JITTED = {}


def _gradients(loss_fn, variables, *inputs):
    """`(loss, gradients)` of `loss_fn(*inputs)` with respect to `variables`,
    on any backend (None where a variable does not reach the loss)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn(*inputs)
        return loss, tape.gradient(loss, variables)
    if backend == "torch":
        import torch

        loss = loss_fn(*inputs)
        values = [v.value for v in variables]
        return loss, torch.autograd.grad(loss, values, allow_unused=True)
    import jax

    def pure(values, *inputs):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return loss_fn(*inputs)

    # Compiled once per loss function: op by op, JAX takes minutes here.
    if loss_fn not in _JITTED:
        _JITTED[loss_fn] = jax.jit(jax.value_and_grad(pure))
    loss, grads = _JITTED[loss_fn]([v.value for v in variables], *inputs)
    # JAX gives zeros, not None, where a variable does not reach the loss.
    return loss, [None if not np.any(np.asarray(g)) else g for g in grads]


def test_shapes_and_ranges_at_64_and_128():
    for size in (64, 128):
        shape = (size, size, 3)
        generator = fewshot.build_fewshot_generator(shape, LATENT_DIM, FILTERS)
        discriminator = fewshot.build_fewshot_discriminator(shape, FILTERS)
        decoder_8, decoder_16 = fewshot_loss.build_fewshot_decoders(shape, FILTERS)
        images = generator(_latents(), training=False)
        assert tuple(images.shape) == (BATCH, *shape)
        assert keras.backend.standardize_dtype(images.dtype) == "float32"
        images = ops.convert_to_numpy(images)
        assert images.min() >= -1.0 and images.max() <= 1.0
        logits, features_8, features_16 = discriminator(images, training=True)
        assert tuple(logits.shape) == (BATCH, 1)
        # D's 8x8 and 16x16 block outputs, as wide as its blocks there.
        doublings = {64: 4, 128: 5}[size]
        assert tuple(features_8.shape) == (BATCH, 8, 8, FILTERS * 2 ** (doublings - 2))
        assert tuple(features_16.shape) == (
            BATCH,
            16,
            16,
            FILTERS * 2 ** (doublings - 3),
        )
        rebuilt_8 = ops.convert_to_numpy(decoder_8(features_8))
        rebuilt_16 = ops.convert_to_numpy(
            decoder_16(fewshot_loss.quadrant_of(features_16, 2))
        )
        assert fewshot_loss.reconstruction_size(shape) == 32
        assert rebuilt_8.shape == rebuilt_16.shape == (BATCH, 32, 32, 3)
        assert np.abs(rebuilt_8).max() <= 1.0


def test_excitation_gates_the_32_and_64_maps_from_the_4_and_8_maps():
    generator = fewshot.build_fewshot_generator((128, 128, 3), LATENT_DIM, FILTERS)
    gated = {
        layer.name: (layer.input[0].shape[1], layer.input[1].shape)
        for layer in generator.layers
        if isinstance(layer, layers.Multiply)
    }
    assert {name: side for name, (side, _) in gated.items()} == {
        "block3_excite": 32,
        "block4_excite": 64,
    }
    assert generator.get_layer("block3_excite_conv").input.shape[1:3] == (4, 4)
    assert generator.get_layer("block4_excite_pool").input.shape[1:3] == (8, 8)
    small = fewshot.build_fewshot_generator(SHAPE, LATENT_DIM, FILTERS)
    assert [
        layer.name for layer in small.layers if isinstance(layer, layers.Multiply)
    ] == ["block3_excite"]


def test_skip_layer_excitation_gates_channels_by_the_low_map_alone():
    high = keras.Input((16, 16, 6))
    low = keras.Input((8, 8, 5))
    gated, gates = fewshot.skip_layer_excitation(high, low, "excite")
    model = keras.Model([high, low], [gated, gates])
    rng = np.random.default_rng(0)
    high_values = rng.standard_normal((3, 16, 16, 6)).astype("float32")
    low_values = 10 * rng.standard_normal((3, 8, 8, 5)).astype("float32")
    out, gate_values = (
        ops.convert_to_numpy(x) for x in model([high_values, low_values])
    )
    assert gate_values.shape == (3, 1, 1, 6)
    assert gate_values.min() > 0.0 and gate_values.max() < 1.0
    # One gate per image and channel, the same at every position.
    np.testing.assert_allclose(out, high_values * gate_values, rtol=1e-6, atol=1e-6)
    assert np.ptp(gate_values) > 0  # the gates differ between images/channels
    # The gates depend on the low map only.
    _, again = (ops.convert_to_numpy(x) for x in model([-high_values, low_values]))
    np.testing.assert_array_equal(again, gate_values)


def test_reconstruction_loss_matches_a_hand_computation():
    decoder_8, decoder_16 = fewshot_loss.build_fewshot_decoders(SHAPE, FILTERS)
    discriminator = fewshot.build_fewshot_discriminator(SHAPE, FILTERS)
    real = _images()
    _, features_8, features_16 = discriminator(real, training=False)
    features_8, features_16 = (
        ops.convert_to_numpy(x) for x in (features_8, features_16)
    )
    loss = fewshot_loss.reconstruction_loss(
        real, features_8, features_16, decoder_8, decoder_16, ops.convert_to_tensor(1)
    )

    def pool(x, k):
        b, s, _, c = x.shape
        return x.reshape(b, s // k, k, s // k, k, c).mean(axis=(2, 4))

    def l1(a, b):
        return np.abs(a - b).mean() + np.abs(pool(a, 4) - pool(b, 4)).mean()

    whole = ops.convert_to_numpy(decoder_8(features_8))
    # Quadrant 1: top right, of the 16x16 features and of the image.
    part = ops.convert_to_numpy(decoder_16(features_16[:, :8, 8:]))
    expected = l1(whole, pool(real, 2)) + l1(part, real[:, :32, 32:])
    assert float(ops.convert_to_numpy(loss)) == pytest.approx(expected, rel=1e-5)


def test_reconstruction_loss_decreases_when_d_and_decoders_train_on_it():
    keras.utils.set_random_seed(0)
    discriminator = fewshot.build_fewshot_discriminator(SHAPE, 8)
    decoder_8, decoder_16 = fewshot_loss.build_fewshot_decoders(SHAPE, 8)
    variables = (
        discriminator.trainable_variables
        + decoder_8.trainable_variables
        + decoder_16.trainable_variables
    )
    optimizer = keras.optimizers.Adam(1e-3)
    real = ops.convert_to_tensor(_images(4))
    quadrants = keras.random.randint((20,), 0, 4, seed=keras.random.SeedGenerator(1))

    def loss_fn(quadrant):
        _, features_8, features_16 = discriminator(real, training=True)
        return fewshot_loss.reconstruction_loss(
            real, features_8, features_16, decoder_8, decoder_16, quadrant
        )

    losses = []
    for step in range(20):
        loss, grads = _gradients(loss_fn, variables, quadrants[step])
        # D's last block and logit do not reach this loss.
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        optimizer.apply(*zip(*pairs))
        losses.append(float(ops.convert_to_numpy(loss)))
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3]), losses


def test_gradients_reach_every_weight_of_g_d_and_the_decoders():
    generator = fewshot.build_fewshot_generator(SHAPE, LATENT_DIM, FILTERS)
    discriminator = fewshot.build_fewshot_discriminator(SHAPE, FILTERS)
    decoder_8, decoder_16 = fewshot_loss.build_fewshot_decoders(SHAPE, FILTERS)
    latents = ops.convert_to_tensor(_latents())
    real = ops.convert_to_tensor(_images())

    glu_generator = fewshot.build_fewshot_generator(
        SHAPE, LATENT_DIM, FILTERS, activation="glu"
    )

    def g_loss():
        logits, _, _ = discriminator(generator(latents, training=True), training=True)
        return -ops.mean(logits)

    def glu_g_loss():
        return ops.mean(glu_generator(latents, training=True))

    def d_loss():
        logits, features_8, features_16 = discriminator(real, training=True)
        rebuilt = fewshot_loss.reconstruction_loss(
            real, features_8, features_16, decoder_8, decoder_16, 3
        )
        return ops.mean(ops.relu(1.0 - logits)) + rebuilt

    checks = [
        (g_loss, generator.trainable_variables),
        (glu_g_loss, glu_generator.trainable_variables),
        (
            d_loss,
            discriminator.trainable_variables
            + decoder_8.trainable_variables
            + decoder_16.trainable_variables,
        ),
    ]
    for loss_fn, variables in checks:
        _, grads = _gradients(loss_fn, variables)
        dead = [v.path for v, g in zip(variables, grads) if g is None]
        assert not dead
        for variable, grad in zip(variables, grads):
            assert np.all(np.isfinite(ops.convert_to_numpy(grad))), variable.path


def test_save_and_load_give_the_same_networks(tmp_path):
    generator = fewshot.build_fewshot_generator(SHAPE, LATENT_DIM, FILTERS)
    discriminator = fewshot.build_fewshot_discriminator(SHAPE, FILTERS)
    latents = _latents()
    images = ops.convert_to_numpy(generator(latents, training=False))
    discriminator(images, training=True)  # a power-iteration step moves u
    expected = [ops.convert_to_numpy(x) for x in discriminator(images)]
    generator.save(tmp_path / "generator.keras")
    discriminator.save(tmp_path / "discriminator.keras")
    loaded = keras.models.load_model(tmp_path / "discriminator.keras")
    for got, want in zip(loaded(images), expected):
        np.testing.assert_allclose(ops.convert_to_numpy(got), want, atol=1e-6)
    # The generator holds built-in layers only: a process that never imports
    # dcgan_tf loads it with plain load_model, and draws the same images.
    np.save(tmp_path / "latents.npy", latents)
    script = (
        "import sys, numpy as np, keras\n"
        "g = keras.models.load_model(sys.argv[1] + '/generator.keras')\n"
        "z = np.load(sys.argv[1] + '/latents.npy')\n"
        "np.save(sys.argv[1] + '/images.npy', keras.ops.convert_to_numpy(g(z)))\n"
        "assert 'dcgan_tf' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True)
    np.testing.assert_allclose(np.load(tmp_path / "images.npy"), images, atol=1e-6)


def test_bad_shapes_and_options_are_refused():
    with pytest.raises(ValueError, match="8 times the start side"):
        fewshot.build_fewshot_generator((16, 16, 3), LATENT_DIM, FILTERS)
    with pytest.raises(ValueError, match="stride-2 ladder"):
        fewshot.build_fewshot_discriminator((100, 100, 3), FILTERS)
    with pytest.raises(ValueError, match="unconditional"):
        fewshot.build_fewshot_generator(SHAPE, class_names=["a", "b"])
    generator = fewshot.build_fewshot_generator(
        SHAPE, LATENT_DIM, FILTERS, activation="glu"
    )
    assert generator(_latents()).shape == (BATCH, *SHAPE)
    with pytest.raises(ValueError, match="relu, glu"):
        fewshot.build_fewshot_generator(SHAPE, activation="swish")


def test_other_ladder_sizes_build():
    # Start sides 5 and 7 (40 and 56 px): the excitation takes one whole-map
    # convolution instead of pool and 4x4; D's maps of 2 and 4 starts.
    for size, side in ((40, 20), (56, 28), (32, 16)):
        shape = (size, size, 1)
        generator = fewshot.build_fewshot_generator(shape, LATENT_DIM, FILTERS)
        discriminator = fewshot.build_fewshot_discriminator(shape, FILTERS)
        decoder_8, decoder_16 = fewshot_loss.build_fewshot_decoders(shape, FILTERS)
        images = generator(_latents(4), training=False)
        assert tuple(images.shape) == (4, *shape)
        _, features_8, features_16 = discriminator(images)
        loss = fewshot_loss.reconstruction_loss(
            images, features_8, features_16, decoder_8, decoder_16, 0
        )
        assert (
            decoder_8.output_shape[1] == fewshot_loss.reconstruction_size(shape) == side
        )
        assert np.isfinite(float(ops.convert_to_numpy(loss)))


# --recipe fewshot (issue #30): 32 px, the smallest size of its ladder
# (8 start sides), on the sample folder; one run of 2 steps of 4 images.
RECIPE_STEPS = 2


def _recipe_config(**changes):
    values = dict(
        dataset="folder",
        data_dir=str(DATA / "folder"),
        recipe="fewshot",
        image_size=32,
        batch_size=4,
        steps_per_epoch=RECIPE_STEPS,
        steps_per_execution=1,
        seed=3,
    )
    return tiny_config(**{**values, **changes})


def _recipe_dcgan(seed=0):
    from dcgan_tf.model import build_dcgan

    keras.utils.set_random_seed(seed)
    return build_dcgan(_recipe_config().resolve())


def _recipe_fit(model):
    images = _images(RECIPE_STEPS * 4, size=32)
    return model.fit(
        images, batch_size=4, epochs=1, steps_per_epoch=RECIPE_STEPS, verbose=0
    ).history


def _values(variables):
    return [ops.convert_to_numpy(v).copy() for v in variables]


def test_recipe_builds_the_fewshot_networks_and_trains_the_decoders_with_d():
    config = _recipe_config().resolve()
    assert (config.upsample, config.discriminator_norm, config.loss) == (
        "resize",
        "spectral",
        "hinge",
    )
    assert (config.d_learning_rate, config.g_learning_rate) == (4e-4, 1e-4)
    assert config.augment == "ada"  # the folder preset's
    model = _recipe_dcgan()
    assert len(model.discriminator.outputs) == 3
    assert [d.name for d in model.decoders] == ["decoder_8", "decoder_16"]
    decoder_weights = [w for d in model.decoders for w in d.trainable_weights]
    # Tracked by the model (so saved, and in D's state under JAX) and
    # trained by D's optimiser, after D's own weights.
    tracked = {id(v) for v in model.trainable_variables}
    assert all(id(w) in tracked for w in decoder_weights)
    assert model.d_trainable_variables == (
        model.discriminator.trainable_variables + decoder_weights
    )
    weights = {
        "G": model.generator.trainable_weights,
        # The logit's bias gets no gradient while every hinge margin is active.
        "D": [
            w
            for w in model.discriminator.trainable_weights
            if not w.path.endswith("logit/bias")
        ],
        "decoders": decoder_weights,
    }
    before = {name: _values(ws) for name, ws in weights.items()}
    history = _recipe_fit(model)
    assert np.isfinite(history["d_loss"]).all() and np.isfinite(history["g_loss"]).all()
    for name, ws in weights.items():
        unchanged = [
            w.path for w, b in zip(ws, before[name]) if np.allclose(b, _values([w])[0])
        ]
        assert not unchanged, f"{name}: {unchanged}"
    assert int(model.d_optimizer.iterations) == RECIPE_STEPS


def test_the_reconstruction_is_part_of_d_loss_and_all_that_trains_the_decoders(
    monkeypatch,
):
    with_it = _recipe_dcgan()
    logged = _recipe_fit(with_it)
    monkeypatch.setattr(fewshot_loss, "RECONSTRUCTION_WEIGHT", 0.0)
    without = _recipe_dcgan()
    decoders = _values(w for d in without.decoders for w in d.trainable_weights)
    unweighted = _recipe_fit(without)
    # The first step's D is the same in both (same seed): the logged d_loss
    # (the mean of 2 steps) is larger by the reconstruction, an L1 on
    # images in [-1, 1] of order 0.1 to 1 from untrained decoders.
    assert logged["d_loss"][0] > unweighted["d_loss"][0] + 0.05
    # With no weight the decoders get zero gradients, so Adam leaves them.
    after = _values(w for d in without.decoders for w in d.trainable_weights)
    for b, a in zip(decoders, after, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_fewshot_run_checkpoints_its_decoders_and_its_generator_loads(tmp_path):
    from dcgan_tf.rundir import RunDir
    from dcgan_tf.sampling import load_generator
    from dcgan_tf.training import run as training

    run_dir = tmp_path / "run"
    config = _recipe_config(run_dir=str(run_dir)).resolve()
    run = training.train(config, verbose=0)
    assert not run.diverged
    checkpoint = RunDir(run_dir).latest_checkpoint()
    with h5py.File(checkpoint.weights, "r") as file:
        paths = []
        file.visit(paths.append)
    assert any("decoder_8" in p for p in paths) and any(
        "decoder_16" in p for p in paths
    )
    # A fresh model of the run's configuration reads them back.
    from dcgan_tf.model import build_dcgan

    fresh = build_dcgan(RunDir(run_dir).read_config())
    fresh.load_weights(checkpoint.weights)
    for trained, loaded in zip(run.model.decoders, fresh.decoders, strict=True):
        for a, b in zip(trained.weights, loaded.weights, strict=True):
            np.testing.assert_array_equal(_values([a])[0], _values([b])[0])
    generator = load_generator(run_dir)
    latents = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")
    np.testing.assert_allclose(
        ops.convert_to_numpy(generator.model(latents)),
        ops.convert_to_numpy(run.model.generator(latents)),
        atol=1e-6,
    )
    out = tmp_path / "samples.png"
    result = subprocess.run(
        [sys.executable, "-m", "dcgan_tf.generate", str(run_dir)]
        + ["--num", "4", "--seed", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert out.is_file()


def test_what_the_fewshot_recipe_cannot_build_is_one_line():
    # Checked with the configuration: the networks would fail later, or
    # silently differ from the flags.
    for changes, message in [
        ({"conditional": True}, "--recipe fewshot is unconditional"),
        ({"upsample": "transposed"}, "drop --upsample transposed"),
        ({"discriminator_norm": "batch"}, "drop --discriminator-norm batch"),
    ]:
        with pytest.raises(ValueError, match=message):
            _recipe_config(**changes).validate()
    # A size below 8 start sides: refused before any image is read.
    result = subprocess.run(
        [sys.executable, "-m", "dcgan_tf.train", "--recipe", "fewshot"]
        + ["--dataset", "folder", "--data-dir", str(DATA / "folder")]
        + ["--image-size", "16", "--run-dir", "/nonexistent/run"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "8 times the start side" in lines[0], lines


def test_the_jit_probe_cache_tells_the_fewshot_step_from_the_modern_one():
    # Both recipes resolve to the same options (resize, spectral, hinge,
    # minibatch stddev): the key must name the recipe, whose step differs.
    from dcgan_tf.training import execution

    fewshot_config = _recipe_config().resolve()
    modern = dataclasses.replace(fewshot_config, recipe="modern")
    assert execution.cache_key(fewshot_config) != execution.cache_key(modern)


def test_bench_refuses_the_fewshot_recipe_in_one_line():
    # Its minimal loop calls D for one logit and trains D's weights only.
    from dcgan_tf.speed.harness import run_benchmark

    with pytest.raises(ValueError, match="--recipe fewshot's D and decoders"):
        run_benchmark(_recipe_config().resolve(), steps=1, block=1, synthetic=True)


# Measured, not asserted: parameters and forward + backward time at 128 px
# against the modern recipe's networks of the same widths (python -m pytest
# tests/test_fewshot.py -m slow -s).
@pytest.mark.slow
@pytest.mark.parametrize("filters", [16, 32])
def test_report_cost_at_128(filters):
    shape, batch, latent_dim = (128, 128, 3), 8, 100
    networks = {
        "modern G": build_generator(shape, latent_dim, filters, upsample="resize"),
        "modern D": build_discriminator(
            shape, filters, norm="spectral", minibatch_stddev=True
        ),
        "few-shot G relu": fewshot.build_fewshot_generator(shape, latent_dim, filters),
        "few-shot G glu": fewshot.build_fewshot_generator(
            shape, latent_dim, filters, activation="glu"
        ),
        "few-shot D": fewshot.build_fewshot_discriminator(shape, filters),
    }
    decoders = fewshot_loss.build_fewshot_decoders(shape, filters)
    latents = ops.convert_to_tensor(
        np.random.default_rng(0).standard_normal((batch, latent_dim)), "float32"
    )
    real = ops.convert_to_tensor(_images(batch, size=128))

    def loss_of(name, model):
        def loss():
            if " G" in name:
                return ops.mean(model(latents, training=True))
            outputs = model(real, training=True)
            if name == "modern D":
                return ops.mean(outputs)
            logits, features_8, features_16 = outputs
            return ops.mean(logits) + fewshot_loss.reconstruction_loss(
                real, features_8, features_16, *decoders, 1
            )

        return loss

    for name, model in networks.items():
        variables = model.trainable_variables
        if name == "few-shot D":
            variables += (
                decoders[0].trainable_variables + decoders[1].trainable_variables
            )
        loss = loss_of(name, model)

        def step(loss=loss, variables=variables):
            return _gradients(loss, variables)

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            step = tf.function(step)  # as the train step runs: traced once
        step()  # warm up
        times = []
        for _ in range(5):
            begin = time.perf_counter()
            ops.convert_to_numpy(step()[0])
            times.append(time.perf_counter() - begin)
        params = sum(int(np.prod(v.shape)) for v in variables)
        print(
            f"\n{keras.backend.backend()} filters {filters} {name}: {params:,} "
            f"params, forward+backward batch {batch}: {1000 * min(times):.0f} ms"
        )
