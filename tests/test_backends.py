"""DCGAN trains alike under TensorFlow, JAX and PyTorch, and its checkpoints
move between them.

The test runs the current backend here and each other installed backend in a
subprocess (a backend is fixed at the first `import keras`).
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

from dcgan_tf.model import DCGAN
from dcgan_tf.model.networks import build_discriminator, build_generator

REPO = Path(__file__).resolve().parent.parent
SHAPE = (16, 16, 1)
LATENT_DIM = 8
BACKENDS = ("tensorflow", "jax", "torch")

# Run under another backend: load the checkpoint, write the generator's images,
# train one step on the same batch and latents, save the weights again.
CHILD = f"""
import json, sys
import keras
import numpy as np
from keras import ops
from dcgan_tf.model import DCGAN
from dcgan_tf.model.networks import build_discriminator, build_generator

class FixedLatents(DCGAN):
    def sample_latents(self, count):
        return ops.convert_to_tensor(self.fixed)

folder = sys.argv[1]
arrays = np.load(folder + "/arrays.npz")
model = FixedLatents(
    build_generator({SHAPE}, {LATENT_DIM}, filters=8),
    build_discriminator({SHAPE}, filters=8),
    seed=5,
)
model.fixed = arrays["fixed"]
model.compile()
model.load_weights(folder + "/before.weights.h5")
images = ops.convert_to_numpy(model.generator(arrays["latents"], training=False))
np.save(folder + "/images.npy", images)
batch = arrays["batch"]
model.fit(batch, batch_size=len(batch), epochs=1, shuffle=False, verbose=0)
model.save_weights(folder + "/after.weights.h5")
print(json.dumps({{"tensorflow_imported": "tensorflow" in sys.modules}}))
"""


class FixedLatents(DCGAN):
    # Each backend draws its own random numbers from a seed; fixed latents
    # make one step of two backends comparable.
    def sample_latents(self, count):
        return ops.convert_to_tensor(self.fixed)


def _model(fixed):
    model = FixedLatents(
        build_generator(SHAPE, LATENT_DIM, filters=8),
        build_discriminator(SHAPE, filters=8),
        seed=5,
    )
    model.fixed = fixed
    model.compile()
    return model


def _state(model):
    optimizers = model.d_optimizer.variables + model.g_optimizer.variables
    return [ops.convert_to_numpy(v) for v in model.weights + optimizers]


def _others():
    current = keras.backend.backend()
    return [
        pytest.param(
            name,
            marks=pytest.mark.skipif(
                importlib.util.find_spec(name) is None, reason=f"{name} not installed"
            ),
        )
        for name in BACKENDS
        if name != current
    ]


@pytest.mark.parametrize("backend", _others())
def test_checkpoints_load_and_train_alike_across_backends(backend, tmp_path):
    rng = np.random.default_rng(0)
    batch = rng.uniform(-1, 1, (4, *SHAPE)).astype("float32")
    fixed = rng.standard_normal((4, LATENT_DIM)).astype("float32")
    latents = rng.standard_normal((6, LATENT_DIM)).astype("float32")
    np.savez(tmp_path / "arrays.npz", batch=batch, fixed=fixed, latents=latents)

    keras.utils.set_random_seed(0)
    model = _model(fixed)
    model.fit(batch, batch_size=4, epochs=1, shuffle=False, verbose=0)
    model.save_weights(tmp_path / "before.weights.h5")
    images = ops.convert_to_numpy(model.generator(latents, training=False))
    model.fit(batch, batch_size=4, epochs=1, shuffle=False, verbose=0)

    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "KERAS_BACKEND": backend},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])

    # The checkpoint of this backend gives the other the same generator.
    np.testing.assert_allclose(np.load(tmp_path / "images.npy"), images, atol=1e-5)
    # One more step there, loaded back here, equals one more step here:
    # weights, batch-norm statistics and both optimisers' slots.
    other = _model(fixed)
    other.load_weights(tmp_path / "after.weights.h5")
    assert int(other.d_optimizer.iterations) == int(other.g_optimizer.iterations) == 2
    for a, b in zip(_state(other), _state(model)):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=1e-5)
    if backend != "tensorflow":
        assert not report["tensorflow_imported"]


# Each command, with what it needs to reach its checks (nothing is read: the
# backend is refused before any work).
COMMANDS = {
    "train": [],
    "generate": ["missing.keras"],
    "interpolate": ["missing.keras"],
    "neighbours": ["missing.keras"],
    "evaluate": ["missing.keras"],
    "train_classifier": ["--dataset", "fashion_mnist", "--out", "c.weights.h5"],
    "bench": [],
}
MISSING = {"jax": 'pip install -e ".[jax]"', "torch": 'pip install -e ".[torch]"'}


@pytest.mark.parametrize(
    "command, backend, how",
    [(c, "jax", "env") for c in COMMANDS]
    + [("train", "torch", "flag"), ("bench", "torch", "flag")],
)
def test_a_backend_that_is_not_installed_is_one_line(tmp_path, command, backend, how):
    # The venv has every backend, so its absence is made: a package of the
    # same name, first on the path, that cannot be imported.
    blocked = tmp_path / "blocked" / backend
    blocked.mkdir(parents=True)
    message = f"No module named {backend!r}"
    (blocked / "__init__.py").write_text(
        f"raise ModuleNotFoundError({message!r}, name={backend!r})\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "blocked"), str(REPO)])
    argv = list(COMMANDS[command])
    if how == "env":
        env["KERAS_BACKEND"] = backend
    else:
        argv += ["--backend", backend]
    result = subprocess.run(
        [sys.executable, "-m", f"dcgan_tf.{command}", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 2, result.stderr
    errors = result.stderr.splitlines()
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"python -m dcgan_tf.{command}: error: ")
    assert f"backend needs {backend}, which is not installed" in errors[0]
    assert MISSING[backend] in errors[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocked"]


def test_the_backend_of_keras_json_is_checked_too(tmp_path, monkeypatch):
    from dcgan_tf import cli

    (tmp_path / "keras.json").write_text(json.dumps({"backend": "torch"}))
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert cli.chosen_backend() == "torch"
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert cli.chosen_backend() == "jax"


def test_an_unknown_backend_is_one_line(tmp_path):
    # Keras raised its ValueError at `import keras`, outside train's handler.
    env = {**os.environ, "KERAS_BACKEND": "tensorfow", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "dcgan_tf.train", "--run-dir", "run"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "python -m dcgan_tf.train: error: Unknown Keras backend 'tensorfow' "
        "(KERAS_BACKEND or keras.json); use tensorflow, jax, torch."
    ]
    assert list(tmp_path.iterdir()) == []
