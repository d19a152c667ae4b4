"""`--jit-compile auto|on|off`: the choice, its probe, its cache and its record
(the candidates and the formulation: tests/test_auto_candidates.py)."""

import dataclasses
import json

import keras
import numpy as np
import pytest
from keras import ops

from dcgan_tf.config import TrainConfig
from dcgan_tf.data import synthetic_images
from dcgan_tf.rundir import RunDir
from dcgan_tf.training import execution
from dcgan_tf.training import run as training

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
    seed=3,
).resolve()
IMAGES = synthetic_images(32, TINY.image_shape, seed=0)
tensorflow_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the probe times TensorFlow"
)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DCGAN_TF_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(execution, "busy", lambda: False)
    return tmp_path / "cache"


@pytest.mark.parametrize("value, compiled", [("on", True), ("off", False)])
def test_on_and_off_are_taken_as_given(value, compiled, cache_dir):
    choice = execution.choose_jit(dataclasses.replace(TINY, jit_compile=value), IMAGES)
    assert choice.compiled is compiled
    assert f"--jit-compile {value}" in choice.line()
    assert not cache_dir.exists()


@pytest.mark.parametrize(
    "backend, compiled", [("jax", True), ("torch", False), ("numpy", False)]
)
def test_auto_follows_the_rule_off_tensorflow(
    backend, compiled, monkeypatch, cache_dir
):
    # With the formulation pinned, nothing is left to probe off TensorFlow.
    monkeypatch.setattr(keras.backend, "backend", lambda: backend)
    monkeypatch.setattr(execution, "probe", _no_probe)
    long_run = dataclasses.replace(TINY, epochs=1000, g_formulation="transposed")
    assert execution.choose_jit(long_run, IMAGES).compiled is compiled


@tensorflow_only
def test_auto_does_not_probe_under_a_distribution_strategy(cache_dir, monkeypatch):
    monkeypatch.setattr(execution, "probe", _no_probe)
    long_run = dataclasses.replace(TINY, epochs=1000)
    choice = execution.choose_jit(long_run, IMAGES, strategy=object())
    assert choice.compiled is False and "strategy" in choice.reason


@tensorflow_only
def test_auto_does_not_probe_a_short_run(cache_dir, monkeypatch):
    monkeypatch.setattr(execution, "probe", _no_probe)
    choice = execution.choose_jit(TINY, IMAGES)
    assert choice.compiled is False
    assert "too few" in choice.reason


def _no_probe(*args, **kwargs):
    raise AssertionError("probed again")


NOT_COMPILED = {"jit_compiled": False, "g_upsample_formulation": "transposed"}
COMPILED = {"jit_compiled": True, "g_upsample_formulation": "transposed"}


def _entry(settings, rates):
    return {"settings": settings, "rates": rates, "skipped": {}}


@tensorflow_only
def test_the_cached_answer_is_followed(cache_dir, monkeypatch):
    monkeypatch.setattr(execution, "PROBE_MIN_STEPS", 1)
    options = execution.candidates.candidates(TINY, "tensorflow")
    for settings in (COMPILED, NOT_COMPILED):
        rates = {"compiled, transposed": 2.0, "not compiled, transposed": 1.0}
        execution.write_cache(
            execution.cache_key(TINY, options), _entry(settings, rates)
        )
        monkeypatch.setattr(execution, "probe", _no_probe)
        choice = execution.choose_jit(TINY, IMAGES)
        assert choice.settings == settings and "cached" in choice.reason
        assert choice.probe["rates"] == rates


@tensorflow_only
def test_a_probe_on_a_busy_machine_is_not_cached(cache_dir, monkeypatch):
    monkeypatch.setattr(execution, "PROBE_MIN_STEPS", 1)
    monkeypatch.setattr(execution, "busy", lambda: True)
    rates = {"compiled, transposed": 3.0, "not compiled, transposed": 1.0}
    probed = {"rates": rates, "skipped": {}, "steps_each": 6}
    monkeypatch.setattr(execution, "probe", lambda *args, **kwargs: dict(probed))
    choice = execution.choose_jit(TINY, IMAGES)
    assert choice.compiled is True and "not cached" in choice.reason
    assert execution.read_cache() == {}


@tensorflow_only
@pytest.mark.parametrize(
    "rate", ["1e308", "Infinity", "NaN", "0", "-3", "true", '"fast"', "1e9"]
)
def test_a_cached_speed_that_is_no_measurement_is_probed_again(
    cache_dir, monkeypatch, rate
):
    """A cached 1e308 was trusted and printed as a 309-digit number."""
    monkeypatch.setattr(execution, "PROBE_MIN_STEPS", 1)
    monkeypatch.setattr(execution, "busy", lambda: False)
    pinned = dataclasses.replace(TINY, g_formulation="transposed")
    key = execution.cache_key(
        pinned, execution.candidates.candidates(pinned, "tensorflow")
    )
    cache_dir.mkdir()
    (cache_dir / execution.CACHE_FILE).write_text(
        f'{{{json.dumps(key)}: {{"settings": {json.dumps(COMPILED)}, '
        f'"rates": {{"compiled, transposed": {rate}, '
        '"not compiled, transposed": 100.0}}}'
    )
    rates = {"not compiled, transposed": 2.345, "compiled, transposed": 1234.56}
    probed = {"rates": rates, "skipped": {}, "steps_each": 6}
    monkeypatch.setattr(execution, "probe", lambda *args, **kwargs: dict(probed))
    choice = execution.choose_jit(pinned, IMAGES)
    assert choice.reason == (
        "measured on this machine "
        "(2.3 img/s not compiled, transposed; 1235 compiled, transposed)"
    ), choice.reason
    assert execution.read_cache()[key]["rates"] == rates


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[1, 2]",
        '{"k": {"settings": {"jit_compiled": "yes"}, "rates": {"a": 1}}}',
        '{"k": {"settings": {"jit_compiled": true, '
        '"g_upsample_formulation": "dilated"}, "rates": {"a": 1}}}',
        '{"k": {"compiled": true, "compiled_rate": 2, "not_compiled_rate": 1}}',
        '{"k": 3}',
    ],
    ids=["garbled", "a list", "wrong type", "unknown value", "old format", "no entry"],
)
def test_a_damaged_cache_is_an_empty_one(cache_dir, text):
    cache_dir.mkdir()
    (cache_dir / execution.CACHE_FILE).write_text(text)
    assert execution.read_cache() == {}
    execution.write_cache("key", _entry(COMPILED, {"compiled, transposed": 2}))
    assert list(execution.read_cache()) == ["key"]


def test_a_cache_that_cannot_be_written_costs_only_a_probe(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv("DCGAN_TF_CACHE", str(blocker / "cache"))
    execution.write_cache("key", {"compiled": True})  # no error
    monkeypatch.setenv("DCGAN_TF_CACHE", "off")
    execution.write_cache("key", {"compiled": True})
    assert execution.read_cache() == {}


@tensorflow_only
def test_auto_probes_once_and_the_run_trains_as_an_unprobed_one(
    tmp_path, cache_dir, monkeypatch
):
    # The probe builds and trains throwaway networks: the run itself must
    # start from the same weights and seeds as without it.
    monkeypatch.setattr(execution, "PROBE_MIN_STEPS", 1)
    monkeypatch.setattr(execution, "MARGIN", 1e9)  # so both runs are uncompiled
    weights = []
    for jit in ("off", "auto"):
        config = dataclasses.replace(TINY, jit_compile=jit, run_dir=str(tmp_path / jit))
        run = training.train(config, dry_run=True, verbose=0)
        assert run.config.jit_compiled is False
        assert run.model.generator.name == "generator"
        weights.append([ops.convert_to_numpy(w) for w in run.model.weights])
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)
    assert "measured on this machine (" in run.execution.reason
    assert "cached" not in run.execution.reason
    entries = json.loads((cache_dir / execution.CACHE_FILE).read_text())
    (entry,) = entries.values()
    assert entry["settings"] == NOT_COMPILED
    assert len(entry["rates"]) == 4 and min(entry["rates"].values()) > 0
    assert run.config.execution_probe["rates"] == entry["rates"]
    # The next run of this shape reads the answer; another shape probes.
    monkeypatch.setattr(execution, "probe", _no_probe)
    again = execution.choose_jit(run.config, IMAGES)
    assert again.compiled is False and "cached" in again.reason
    wider = dataclasses.replace(run.config, generator_filters=16)
    with pytest.raises(AssertionError, match="probed again"):
        execution.choose_jit(wider, IMAGES)


def test_the_choice_is_recorded_and_a_resume_may_change_it(tmp_path, cache_dir):
    config = dataclasses.replace(TINY, jit_compile="on", run_dir=str(tmp_path / "r"))
    run = training.train(config, dry_run=True, verbose=0)
    recorded = RunDir(tmp_path / "r").read_config()
    assert recorded.jit_compile == "on" and recorded.jit_compiled is True
    assert run.model.jit_compile is True
    from dcgan_tf.config import resume_config

    more = resume_config(recorded, {"epochs": 2, "jit_compile": "off"})
    resumed = training.train(more, resume=tmp_path / "r", dry_run=True, verbose=0)
    assert resumed.model.jit_compile is False
    recorded = RunDir(tmp_path / "r").read_config()
    assert recorded.jit_compile == "off" and recorded.jit_compiled is False


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the probe is TensorFlow's"
)
def test_a_resume_under_auto_keeps_the_execution_the_run_was_trained_with(
    tmp_path, cache_dir, monkeypatch
):
    # Issue #28: a first half too short to be probed ran uncompiled; its
    # resume, long enough, probed and compiled, and so went on in another
    # order of arithmetic, no longer bit for bit.
    config = dataclasses.replace(TINY, jit_compile="auto", run_dir=str(tmp_path / "r"))
    training.train(config, dry_run=True, verbose=0)
    recorded = RunDir(tmp_path / "r").read_config()
    assert recorded.jit_compiled is False
    from dcgan_tf.config import resume_config

    monkeypatch.setattr(execution, "PROBE_MIN_STEPS", 1)
    probed = []
    monkeypatch.setattr(execution, "probe", lambda *a, **k: probed.append(a))
    more = resume_config(recorded, {"epochs": 2})
    resumed = training.train(more, resume=tmp_path / "r", dry_run=True, verbose=0)
    assert not probed and resumed.model.jit_compile is False
    assert resumed.execution.reason == (
        "as the run was trained, so that it goes on exactly"
    )
