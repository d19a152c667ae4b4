import json
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

# Files whose tests the workers share out one by one (`--dist loadgroup`, in
# pyproject.toml): test_docs' pages are independent and long (speed.md runs
# for over a minute), and a whole file of them on one worker set the suite's
# time. Every other file stays together on one worker, in order, so that its
# module fixtures are made once.
SPREAD_FILES = ("test_docs.py",)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name not in SPREAD_FILES:
            item.add_marker(pytest.mark.xdist_group(item.path.name))


# Small networks and batches: a CLI run of a few steps takes seconds on 2 cores.
TINY = [
    "--generator-filters",
    "8",
    "--discriminator-filters",
    "8",
    "--latent-dim",
    "16",
    "--batch-size",
    "16",
    "--grid-size",
    "16",
]


def tiny_config(**changes):
    """The `TrainConfig` of a run of a few steps on the Fashion-MNIST sample:
    one epoch of 4 steps, batches of 8, 8 filters, 8-dimensional latents,
    4-image grids, step rows every 2 steps, no quality checks; `changes`
    replace any of these or add others (`run_dir`, ...)."""
    from dcgan_tf.config import TrainConfig

    values = dict(
        dataset="fashion_mnist",
        data_dir=str(DATA / "fashion-mnist"),
        epochs=1,
        steps_per_epoch=4,
        batch_size=8,
        generator_filters=8,
        discriminator_filters=8,
        latent_dim=8,
        grid_size=4,
        log_every=2,
        quality_every=0,
    )
    return TrainConfig(**{**values, **changes})


def tiny_dcgan(shape=(16, 16, 1), seed=0, **kwargs):
    """A compiled `DCGAN` of 8-filter networks and 8-dimensional latents for
    `shape` images, seeded by `seed` (Keras' seed too); `kwargs` go to
    `DCGAN` (`augmenter=`, `ema=`, ...)."""
    import keras

    from dcgan_tf.model import DCGAN
    from dcgan_tf.model.networks import build_discriminator, build_generator

    keras.utils.set_random_seed(seed)
    model = DCGAN(
        build_generator(shape, latent_dim=8, filters=8),
        build_discriminator(shape, filters=8),
        seed=seed,
        **kwargs,
    )
    model.compile()
    return model


@pytest.fixture
def fashion_dir():
    return str(DATA / "fashion-mnist")


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """Hides this machine's data and caches, and cuts the download off.

    Returns the folders the search would look in, for tests that place files.
    """
    from dcgan_tf.data import classic, folder

    places = {
        "project": tmp_path / "project" / "data",
        "keras": tmp_path / "keras",
        "tfds": tmp_path / "tfds",
        "system": tmp_path / "system",
        "cache": tmp_path / "cache",
    }
    monkeypatch.setattr(folder, "project_data_dirs", lambda: [places["project"]])
    monkeypatch.setattr(classic, "SYSTEM_DIR", places["system"])
    monkeypatch.setenv("KERAS_HOME", str(places["keras"]))
    monkeypatch.setenv("TFDS_DATA_DIR", str(places["tfds"]))
    monkeypatch.setenv("DCGAN_TF_CACHE", str(places["cache"]))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(classic, "_reachable", lambda host: False)

    def no_download(dataset, split):
        raise AssertionError("the tests must never download")

    monkeypatch.setattr(classic, "_keras_load", no_download)
    return places


# Steps of the shared trained generator: the fewest (measured on 2 cores) whose
# samples clearly differ; 2 x 32 gives faint ones, 2 x 16 nearly flat gray.
TRAINED_STEPS_PER_EPOCH = 64


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """The run directory of a short real training on the Fashion-MNIST sample.

    A freshly initialised generator makes nearly flat gray images (weights
    ~ N(0, 0.02), batch-norm statistics at their start), which would hide
    mistakes in the order of images; 2 epochs of 64 steps through
    `dcgan_tf.training.run.train` give 28x28x1 samples that differ, in about 15 s,
    once per session. Latents are 8-dimensional and normal, the seed is 7, and
    the discriminator is saved beside the generator as `discriminator.keras`.
    Tests share it, so they must not write into it.
    """
    from dcgan_tf.config import TrainConfig
    from dcgan_tf.training.run import train

    run_dir = tmp_path_factory.mktemp("trained_run")
    config = TrainConfig(
        dataset="fashion_mnist",
        data_dir=str(DATA / "fashion-mnist"),
        epochs=2,
        steps_per_epoch=TRAINED_STEPS_PER_EPOCH,
        batch_size=16,
        latent_dim=8,
        generator_filters=8,
        discriminator_filters=8,
        grid_size=16,
        seed=7,
        run_dir=str(run_dir),
    )
    run = train(config, verbose=0)
    run.model.discriminator.save(run_dir / "discriminator.keras")
    return run_dir


def save_generator(folder, image_shape=(28, 28, 1), fault=None, **config):
    """Saves a fresh small generator (8-dimensional latents, 8 filters) as
    `folder/generator.keras`, with a `config.json` of `config` (and
    `latents.npy`: a run's files) beside it when given; returns its path.

    `fault`: "nan" puts a NaN in a kernel (a diverged run); "variance" makes
    a batch-norm variance negative, so that finite weights make NaN images.
    """
    import keras
    import numpy as np

    from dcgan_tf.config import TrainConfig
    from dcgan_tf.model.networks import build_generator
    from dcgan_tf.system import files

    folder.mkdir(parents=True, exist_ok=True)
    model = build_generator(image_shape, 8, 8)
    for variable in model.weights:
        if fault == "nan" and variable.path.endswith("block1_deconv/kernel"):
            value = keras.ops.convert_to_numpy(variable).copy()
            value.flat[0] = np.nan
            variable.assign(value)
        if fault == "variance" and variable.path.endswith("moving_variance"):
            variable.assign(-np.ones(variable.shape, np.float32))
    model.save(folder / "generator.keras")
    if config:
        config = TrainConfig(latent_dim=8, generator_filters=8, **config)
        files.write_json(folder / "config.json", config.to_dict())
        np.save(folder / "latents.npy", np.zeros((4, 8), np.float32))
    return folder / "generator.keras"


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    """A run directory of a small untrained 28x28x1 generator (8-dimensional
    latents) on the Fashion-MNIST sample: for checks made before any work."""
    folder = tmp_path_factory.mktemp("small") / "run"
    save_generator(
        folder, dataset="fashion_mnist", data_dir=str(DATA / "fashion-mnist")
    )
    return folder


# Runs commands' main() in one child process (one TensorFlow import) with the
# registry at argv[1]; each call's stdout and stderr are framed by markers.
CHILD = r"""
import importlib, json, sys
from pathlib import Path
from dcgan_tf.presets import registry
registry.ROOT = Path(sys.argv[1])
for index, (module, argv) in enumerate(json.loads(sys.argv[2])):
    for stream in (sys.stdout, sys.stderr):
        print(f"=== {index}", file=stream, flush=True)
    try:
        importlib.import_module("dcgan_tf." + module).main(argv)
        code = 0
    except SystemExit as exit:
        code = exit.code
    for stream in (sys.stdout, sys.stderr):
        print(f"=== end {code}", file=stream, flush=True)
"""


def run_commands(root, calls, cwd):
    """[(exit code, stdout, stderr)] of each `(module, argv)` run in one child
    process (one TensorFlow import), with the presets' registry at `root`."""
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), json.dumps(calls)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    def split(text):
        parts = {}
        for index in range(len(calls)):
            body = text.split(f"=== {index}\n", 1)[1].split("=== end ", 1)
            parts[index] = (body[0], int(body[1].split("\n", 1)[0]))
        return parts

    out, err = split(result.stdout), split(result.stderr)
    return [(out[i][1], out[i][0], err[i][0]) for i in range(len(calls))]
