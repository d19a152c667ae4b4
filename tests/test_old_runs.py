"""A run made before the model moved to `dcgan_tf/model/` (#29) resumes and
loads: `tests/data/old_run_v0`, 1 epoch with ADA and EMA, saved by the old code."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import keras
import numpy as np
from keras import ops

ROOT = Path(__file__).parent.parent
OLD_RUN = ROOT / "tests" / "data" / "old_run_v0"


def _train(*args):
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "dcgan_tf.train", *args],
        cwd=ROOT,  # config.json's data_dir is relative to the project
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_an_old_run_resumes_to_its_next_epoch(tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(OLD_RUN, run_dir)
    result = _train("--resume", str(run_dir), "--epochs", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    assert (run_dir / "checkpoint_epoch_0002.weights.h5").is_file()
    assert '"epoch": 2' in (run_dir / "state.json").read_text()


def test_an_old_checkpoint_loads_every_variable_where_it_was():
    from dcgan_tf.config import TrainConfig
    from dcgan_tf.model import build_dcgan

    config = TrainConfig.from_dict(
        __import__("json").loads((OLD_RUN / "config.json").read_text())
    )
    model = build_dcgan(config)
    weights = OLD_RUN / "checkpoint_epoch_0001.weights.h5"
    model.load_weights(weights)
    with h5py.File(weights) as stored:
        p = stored["vars/0"][()]
        averaged = [stored[f"ema_generator/{path}"][()] for path in _paths(stored)]
    assert p > 0
    assert float(ops.convert_to_numpy(model.augment_probability.value)) == p
    loaded = [ops.convert_to_numpy(v.value) for v in model.ema_generator.variables]
    assert len(loaded) == len(averaged)
    for value, expected in zip(sorted(loaded, key=_key), sorted(averaged, key=_key)):
        np.testing.assert_array_equal(value, expected)


def _paths(stored):
    paths = []
    stored["ema_generator"].visititems(
        lambda name, item: (
            paths.append(name) if isinstance(item, h5py.Dataset) else None
        )
    )
    return paths


def _key(value):
    return (value.shape, value.ravel().tolist())


def test_an_old_generator_loads_with_dcgan_tf_and_with_plain_keras():
    import dcgan_tf
    from dcgan_tf.saved_generator import load_generator

    latents = np.random.default_rng(0).standard_normal((2, 4)).astype("float32")
    plain = keras.models.load_model(OLD_RUN / "generator.keras")
    images = ops.convert_to_numpy(plain(latents))
    assert images.shape == (2, 16, 16, 1)
    generator = load_generator(OLD_RUN)
    assert dcgan_tf.load_generator is load_generator
    np.testing.assert_array_equal(
        ops.convert_to_numpy(generator.model(latents)), images
    )
