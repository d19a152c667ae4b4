"""The shipped presets hold what the README and their cards say (issue #31):
the presets the README names are shipped; each card's quick-check figures,
measured again here on the repository's real samples, equal the card's for a
seed it lists and fall in its stated range for seeds it never saw; and a
fresh clone samples, exports and explores a preset with no training (the
README's first screen)."""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import urllib.request

import numpy as np
import pytest
from PIL import Image

from dcgan_tf import presets
from dcgan_tf.presets import registry
from dcgan_tf.shipping import check

# The presets the README's first screen and docs/presets.md name.
NAMED = ("fashion_mnist", "fashion_mnist_conditional", "cifar10")
# Seeds that no card was measured on (its seeds are check.SHIP_SEEDS).
UNSEEN_SEEDS = (100, 101)


def test_the_presets_the_readme_names_are_shipped():
    assert set(NAMED) <= set(presets.available())


def card_of(name) -> dict:
    return json.loads((registry.ROOT / name / registry.CARD_JSON).read_text())


@pytest.mark.parametrize("name", presets.available())
def test_a_cards_quick_check_measures_again_within_its_spread(name):
    from dcgan_tf.sampling import load_generator

    card = card_of(name)
    quick = card["quick_check"]
    dataset = card["data"]["dataset"]
    assert quick["data_dir"] == check.DATA[dataset]
    generator = load_generator(name)
    first = quick["seeds"][0]
    again = check.measure(generator, dataset, (first,), quick["num_samples"])
    assert again["num_real"] == quick["num_real"]
    for metric in check.METRICS:
        recorded = quick["values"][metric][0]
        assert again[metric][0] == pytest.approx(recorded, rel=1e-3), metric
    unseen = check.measure(generator, dataset, UNSEEN_SEEDS, quick["num_samples"])
    for metric in check.METRICS:
        for value in unseen[metric]:
            assert quick[metric]["low"] <= value <= quick[metric]["high"], (
                metric,
                value,
                quick[metric],
            )


def run(args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def test_a_fresh_clone_generates_from_a_preset_with_no_training(tmp_path):
    out = tmp_path / "grid.png"
    result = run(
        ["dcgan_tf.generate", "fashion_mnist", "--num", "64", "--seed", "0"]
        + ["--out", str(out)],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    # What the card shows is what the command draws.
    assert np.array_equal(
        np.asarray(Image.open(out)),
        np.asarray(Image.open(registry.ROOT / "fashion_mnist" / registry.SAMPLES)),
    )


@pytest.mark.skipif(
    importlib.util.find_spec("onnxruntime") is None
    or importlib.util.find_spec("tf2onnx") is None,
    reason="the export extra is not installed (pip install -e '.[export]')",
)
def test_a_fresh_clone_exports_a_preset_to_onnx(tmp_path):
    out = tmp_path / "fashion_mnist.onnx"
    result = run(
        ["dcgan_tf.export", "fashion_mnist", "--format", "onnx", "--out", str(out)],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert out.is_file() and out.stat().st_size > 1_000_000


def test_a_fresh_clone_explores_a_preset_and_ctrl_c_stops_it(tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "dcgan_tf.explore", "fashion_mnist", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        for line in process.stdout:
            if line.startswith("Exploring at "):
                break
        address = line.split()[2]
        with urllib.request.urlopen(address + "api/info", timeout=60) as response:
            info = json.loads(response.read())
        assert info["latent_dim"] == 100 and info["image_shape"] == [28, 28, 1]
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0 and out.strip().splitlines() == ["Stopped."]
