"""`--jit-compile auto`'s candidates (issue #32): which each backend times,
the fastest kept, a failing one skipped, the choice recorded, applied to the
networks the run trains, kept on resume, and the saved generator plain."""

import dataclasses
import json
import zipfile

import keras
import numpy as np
import pytest
from conftest import DATA
from keras import ops

from dcgan_tf.config import TrainConfig, resume_config
from dcgan_tf.data import synthetic_images
from dcgan_tf.model.subpixel import applies_to
from dcgan_tf.rundir import RunDir
from dcgan_tf.training import candidates, execution, probing
from dcgan_tf.training import run as training

BACKEND = keras.backend.backend()
TINY = TrainConfig(
    dataset="fashion_mnist",
    image_size=16,
    generator_filters=8,
    discriminator_filters=8,
    latent_dim=16,
    batch_size=8,
    epochs=1,
    steps_per_epoch=2,
    grid_size=4,
    tensorboard=False,
    quality_every=0,
    steps_per_execution=1,
    seed=3,
).resolve()
IMAGES = synthetic_images(32, TINY.image_shape, seed=0)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DCGAN_TF_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(execution, "busy", lambda: False)
    return tmp_path / "cache"


def _labels(config, backend, strategy=None):
    return [
        candidates.label(settings)
        for settings in candidates.candidates(config, backend, strategy)
    ]


def test_each_backend_times_the_candidates_it_may_pick():
    assert _labels(TINY, "tensorflow") == [
        "not compiled, transposed",
        "not compiled, sub-pixel",
        "compiled, transposed",
        "compiled, sub-pixel",
    ]
    assert _labels(TINY, "jax") == ["compiled, transposed", "compiled, sub-pixel"]
    assert _labels(TINY, "torch") == [
        "not compiled, transposed",
        "not compiled, sub-pixel",
    ]
    # Under a strategy Keras' choice stands; the formulation is still free.
    assert _labels(TINY, "tensorflow", strategy=object()) == [
        "not compiled, transposed",
        "not compiled, sub-pixel",
    ]
    # A G without transposed convolutions has no sub-pixel form.
    modern = TrainConfig(recipe="modern").resolve()
    assert _labels(modern, "tensorflow") == [
        "not compiled, transposed",
        "compiled, transposed",
    ]
    assert _labels(modern, "jax") == ["compiled, transposed"]
    # A pinned flag leaves one value of its lever.
    pinned = dataclasses.replace(TINY, jit_compile="on", g_formulation="subpixel")
    assert _labels(pinned, "tensorflow") == ["compiled, sub-pixel"]
    subpixel = dataclasses.replace(TINY, g_formulation="subpixel")
    assert _labels(subpixel, "tensorflow") == [
        "not compiled, sub-pixel",
        "compiled, sub-pixel",
    ]


def test_the_fastest_is_picked_unless_within_the_margin_of_the_default():
    options = candidates.candidates(TINY, "tensorflow")
    rates = dict(zip(_labels(TINY, "tensorflow"), (100.0, 90.0, 104.0, 99.0)))
    assert execution.pick(rates, options) == options[0]  # 1.04x: noise
    rates["not compiled, sub-pixel"] = 120.0
    assert execution.pick(rates, options) == options[1]
    # The default failed: the fastest of the rest.
    del rates["not compiled, transposed"]
    assert execution.pick(rates, options) == options[1]
    assert execution.pick({}, options) == options[0]


def _long(config):
    return dataclasses.replace(config, epochs=1000)


def test_the_probe_keeps_the_fastest_of_injected_timings(cache_dir):
    # Every candidate builds and trains for real; the timer decides which
    # is fastest: the last candidate, whichever the backend.
    options = candidates.candidates(TINY, BACKEND)
    fastest = candidates.label(options[-1])
    timed = []

    def timer(label, run):
        run()
        timed.append(label)
        return 1.0 if label == fastest else 3.0

    choice = execution.choose_execution(_long(TINY), IMAGES, timer=timer)
    assert choice.settings == options[-1]
    assert set(timed) == {candidates.label(o) for o in options}
    rates = choice.probe["rates"]
    assert rates[fastest] == pytest.approx(3 * min(rates.values()))
    assert f"{fastest})" in choice.reason or f"{fastest};" in choice.reason
    assert choice.probe["skipped"] == {}
    # Cached: the next run of this shape does not probe.
    assert execution.choose_execution(_long(TINY), IMAGES).settings == options[-1]


def _one_second(label, run):
    run()
    return 1.0


def test_a_candidate_that_fails_is_skipped_with_its_reason(cache_dir, monkeypatch):
    build = probing.build_dcgan

    def build_dcgan(config, *args, **kwargs):
        if config.g_upsample_formulation == "subpixel":
            raise RuntimeError("no kernel for this\nsecond line")
        return build(config, *args, **kwargs)

    monkeypatch.setattr(probing, "build_dcgan", build_dcgan)
    config = dataclasses.replace(_long(TINY), jit_compile="auto")
    choice = execution.choose_execution(config, IMAGES, timer=_one_second)
    assert choice.settings["g_upsample_formulation"] == "transposed"
    skipped = choice.probe["skipped"]
    assert set(skipped) == {
        candidates.label(o)
        for o in candidates.candidates(config, BACKEND)
        if o["g_upsample_formulation"] == "subpixel"
    }
    assert set(skipped.values()) == {"RuntimeError: no kernel for this"}
    assert "sub-pixel failed" in choice.reason


def _subpixel_wins(config, images, labels=None, options=(), timer=None):
    """A probe that measures the sub-pixel form faster, compiled as the
    default is (so that nothing compiles that would not anyway)."""
    rates = {}
    for settings in options:
        rates[candidates.label(settings)] = (
            10.0
            if settings["g_upsample_formulation"] == "subpixel"
            and settings["jit_compiled"] == options[0]["jit_compiled"]
            else 1.0
        )
    return {"rates": rates, "skipped": {}, "steps_each": 2}


def _overridden(model) -> list[str]:
    """The layers whose `call` `use_subpixel` replaced."""
    return [
        layer.path
        for layer in model._flatten_layers(include_self=False, recursive=True)
        if "call" in vars(layer)
    ]


def _weights(model):
    return [ops.convert_to_numpy(w) for w in model.weights]


def test_the_choice_is_recorded_applied_and_kept_on_resume(
    tmp_path, cache_dir, monkeypatch
):
    monkeypatch.setattr(execution, "PROBE_MIN_STEPS", 1)
    monkeypatch.setattr(execution, "probe", _subpixel_wins)
    # The sample images, not a dry run (one epoch, whatever --epochs says).
    data = str(DATA / "fashion-mnist")
    base = dataclasses.replace(TINY, data_dir=data)
    straight = dataclasses.replace(base, epochs=2, run_dir=str(tmp_path / "straight"))
    run = training.train(straight, verbose=0)
    assert run.config.g_upsample_formulation == "subpixel"
    # G's and the averaged G's transposed convolutions with 4 filters or more.
    generators = [run.model.generator]
    if run.model.ema_generator is not None:
        generators.append(run.model.ema_generator)
    for generator in generators:
        wide = [
            layer.path
            for layer in generator._flatten_layers(include_self=False)
            if applies_to(layer) and layer.filters >= 4
        ]
        assert wide and _overridden(generator) == wide
    assert _overridden(run.model.discriminator) == []
    recorded = json.loads((tmp_path / "straight" / "config.json").read_text())
    assert recorded["g_upsample_formulation"] == "subpixel"
    assert recorded["g_formulation"] == "auto" and recorded["jit_compile"] == "auto"
    assert recorded["execution_probe"]["rates"]
    # Half, then a resume under auto: no probe, the same formulation, and
    # the same weights bit for bit as the run without a stop.
    half = dataclasses.replace(base, epochs=1, run_dir=str(tmp_path / "half"))
    training.train(half, verbose=0)
    monkeypatch.setattr(execution, "probe", _no_probe)
    more = resume_config(RunDir(tmp_path / "half").read_config(), {"epochs": 2})
    resumed = training.train(more, resume=tmp_path / "half", verbose=0)
    assert resumed.config.g_upsample_formulation == "subpixel"
    assert resumed.execution.reason.startswith("as the run was trained")
    assert _overridden(resumed.model.generator)
    for a, b in zip(_weights(run.model), _weights(resumed.model), strict=True):
        np.testing.assert_array_equal(a, b)
    # A pinned flag on resume is taken as given.
    recorded = RunDir(tmp_path / "half").read_config()
    again = resume_config(recorded, {"epochs": 3, "g_formulation": "transposed"})
    plain = training.train(again, resume=tmp_path / "half", verbose=0)
    assert plain.config.g_upsample_formulation == "transposed"
    assert _overridden(plain.model) == []


def _no_probe(*args, **kwargs):
    raise AssertionError("probed on resume")


def test_the_generator_saved_after_subpixel_training_loads_plainly(tmp_path):
    config = dataclasses.replace(
        TINY, g_formulation="subpixel", run_dir=str(tmp_path / "r")
    )
    run = training.train(config, dry_run=True, verbose=0)
    assert run.config.g_upsample_formulation == "subpixel"
    path = tmp_path / "r" / "generator.keras"
    with zipfile.ZipFile(path) as archive:
        saved_config = archive.read("config.json").decode()
    assert "subpixel" not in saved_config and "partial" not in saved_config
    loaded = keras.models.load_model(path, compile=False)
    assert _overridden(loaded) == []
    latents = np.random.default_rng(0).normal(size=(4, TINY.latent_dim))
    latents = latents.astype("float32")
    trained = run.model.sampling_generator
    assert _overridden(trained)
    np.testing.assert_allclose(
        ops.convert_to_numpy(loaded(latents, training=False)),
        ops.convert_to_numpy(trained(latents, training=False)),
        atol=2e-5,
    )


def test_subpixel_needs_transposed_convolutions():
    with pytest.raises(ValueError, match="--upsample resize has none"):
        TrainConfig(recipe="modern", g_formulation="subpixel").validate()
    with pytest.raises(ValueError, match="--g-formulation must be one of"):
        TrainConfig(g_formulation="dilated").validate()
    with pytest.raises(ValueError, match="recorded by the run as transposed or"):
        TrainConfig(g_upsample_formulation="dilated").validate()


def test_train_refuses_subpixel_without_transposed_convolutions_in_one_line(capsys):
    from dcgan_tf import train

    with pytest.raises(SystemExit) as raised:
        train.main(["--recipe", "modern", "--g-formulation", "subpixel", "--dry-run"])
    assert raised.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "--upsample resize has none" in line
