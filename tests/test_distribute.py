"""Data-parallel training (`--strategy`) gives what one device gives.

The CPU is split into two logical devices in a subprocess (that must happen
before TensorFlow starts), so the test needs no GPU.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dcgan_tf.config import TrainConfig
from dcgan_tf.model.distribute import is_chief, make_strategy, replicas

REPO = Path(__file__).resolve().parent.parent

# One epoch under each strategy from the same seed and data; prints the
# largest weight difference and what the mirrored run saw.
SCRIPT = """
import dataclasses, json, sys, zipfile
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)
import numpy as np
from keras import ops
from dcgan_tf import training
from dcgan_tf.config import TrainConfig
from dcgan_tf.model.distribute import make_strategy, replicas

config = TrainConfig(
    dataset="fashion_mnist", batch_size=8, latent_dim=16, generator_filters=8,
    discriminator_filters=8, grid_size=4, **json.loads(sys.argv[2]),
)
weights, saved = {}, {}
for strategy in ("none", "mirrored"):
    run = training.train(
        dataclasses.replace(
            config, strategy=strategy, run_dir=sys.argv[1] + "/" + strategy
        ),
        dry_run=True,
        verbose=0,
    )
    weights[strategy] = [ops.convert_to_numpy(w) for w in run.model.weights]
    with zipfile.ZipFile(run.run_dir / "generator.keras") as archive:
        saved[strategy] = archive.read("config.json").decode()
try:
    training.train(dataclasses.replace(config, strategy="mirrored", batch_size=7))
    uneven = ""
except ValueError as error:
    uneven = str(error)
print(json.dumps({
    "replicas": replicas(make_strategy("mirrored")),
    "max_difference": max(
        float(np.abs(a - b).max())
        for a, b in zip(weights["none"], weights["mirrored"])
    ),
    "synchronized": '"synchronized": true' in saved["mirrored"],
    "uneven": uneven,
}))
"""


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"conditional": True, "augment": "ada", "ada_kimg": 0.01, "ema": 0.5},
        # Spectral norm's u and the minibatch stddev's groups of 4 (one per
        # replica's share of 8) give what one device gives too.
        pytest.param({"recipe": "modern"}, marks=pytest.mark.slow),
    ],
    ids=["plain", "conditional_ada_ema", "modern"],
)
def test_mirrored_on_two_devices_equals_one_device(tmp_path, options):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), json.dumps(options)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    # Per-replica batch norm would differ by about the size of the updates
    # (1e-3 here); synchronised statistics leave only float round-off.
    assert report["max_difference"] < 1e-6
    # The saved generator keeps plain batch norm, which every backend loads.
    assert not report["synchronized"]
    assert "multiple of 2" in report["uneven"]


# One worker of a two-worker cluster on this machine.
WORKER = """
import json, sys
import numpy as np
from keras import ops
from dcgan_tf import training
from dcgan_tf.config import TrainConfig

config = TrainConfig(
    dataset="fashion_mnist", batch_size=8, latent_dim=16, generator_filters=8,
    discriminator_filters=8, grid_size=4, strategy=sys.argv[1],
    run_dir=sys.argv[2],
)
run = training.train(config, dry_run=True, verbose=0)
np.savez(sys.argv[3], *[ops.convert_to_numpy(w) for w in run.model.weights])
"""


def _free_port():
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_workers_equal_one_device(tmp_path):
    workers = [f"localhost:{_free_port()}" for _ in range(2)]

    def start(index):
        tf_config = {
            "cluster": {"worker": workers},
            "task": {"type": "worker", "index": index},
        }
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                "multiworker",
                str(tmp_path / "run"),
                str(tmp_path / f"worker{index}.npz"),
            ],
            cwd=REPO,
            env={**os.environ, "TF_CONFIG": json.dumps(tf_config)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    processes = [start(0), start(1)]
    single = subprocess.run(
        [
            sys.executable,
            "-c",
            WORKER,
            "none",
            str(tmp_path / "single"),
            str(tmp_path / "single.npz"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert single.returncode == 0, single.stderr[-3000:]
    for process in processes:
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr[-3000:]
    reference = np.load(tmp_path / "single.npz")
    for index in range(2):
        weights = np.load(tmp_path / f"worker{index}.npz")
        for name in reference:
            np.testing.assert_allclose(weights[name], reference[name], atol=1e-6)
    # Only the chief (worker 0) wrote the run directory.
    assert (tmp_path / "run" / "state.json").exists()


def test_no_strategy_is_one_replica_and_the_chief():
    assert make_strategy("none") is None
    assert replicas(None) == 1 and is_chief(None)


def test_multiworker_without_tf_config_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        make_strategy("multiworker")


def test_unknown_strategy_is_rejected():
    config = TrainConfig(strategy="bogus")
    with pytest.raises(ValueError, match="--strategy"):
        config.validate()
