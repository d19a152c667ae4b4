"""The quality monitor logs KID, keeps the best generator, warns on collapse,
and resumes its history, even from a damaged state file."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from dcgan_tf.data import load_images
from dcgan_tf.model.networks import build_generator
from dcgan_tf.quality.monitor import QualityMonitor
from dcgan_tf.rundir import BEST_GENERATOR, MONITOR_STATE, RunDir

FASHION = Path(__file__).parent / "data" / "fashion-mnist"


class TinyGAN(keras.Model):
    def __init__(self):
        super().__init__()
        keras.utils.set_random_seed(0)
        self.generator = build_generator((28, 28, 1), latent_dim=8, filters=8)
        self.sampling_generator = self.generator  # as a DCGAN without EMA
        self.latent_distribution = "normal"


def make_monitor(run_dir, **kwargs):
    monitor = QualityMonitor(
        load_images("fashion_mnist", data_dir=FASHION),
        run_dir,
        dataset="fashion_mnist",
        every=2,
        num_samples=32,
        **kwargs,
    )
    monitor.set_model(TinyGAN())
    monitor.set_params({"epochs": 10})
    return monitor


def test_monitor_logs_kid_and_keeps_the_best_generator(tmp_path):
    monitor = make_monitor(tmp_path, metrics=("kid", "fid"))
    logs = {"d_loss": 1.0}
    monitor.on_epoch_end(0, logs)  # epoch 1: not a multiple of `every`
    assert "kid" not in logs and not (tmp_path / BEST_GENERATOR).exists()
    monitor.on_epoch_end(1, logs)
    assert np.isfinite(logs["kid"]) and logs["fid"] > 0
    best = keras.models.load_model(tmp_path / BEST_GENERATOR, compile=False)
    assert best.output_shape == (None, 28, 28, 1)
    state = json.loads((tmp_path / MONITOR_STATE).read_text())
    assert state["best_epoch"] == 2 and state["metric"] == "kid"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        BEST_GENERATOR,
        MONITOR_STATE,
    ]  # written atomically: no temporary file left


def test_monitor_accepts_a_run_dir(tmp_path):
    monitor = QualityMonitor(np.zeros((4, 28, 28, 1), np.uint8), RunDir(tmp_path))
    assert monitor.best_path == tmp_path / BEST_GENERATOR


def test_monitor_warns_on_worsening_and_resumes_its_best(tmp_path, monkeypatch, capsys):
    values = iter([0.5, 0.2, 0.3, 0.4, 0.6, 0.1])
    monkeypatch.setattr(QualityMonitor, "evaluate", lambda self: {"kid": next(values)})
    monitor = make_monitor(tmp_path, patience=3)
    for epoch in (1, 3, 5, 7):
        monitor.on_epoch_end(epoch, {})
    assert "worsened" not in capsys.readouterr().out
    monitor.on_epoch_end(9, {})  # 0.2 -> 0.3 -> 0.4 -> 0.6: three in a row
    assert "kid has worsened 3 evaluations in a row" in capsys.readouterr().out
    resumed = make_monitor(tmp_path)
    assert resumed.best() == {"epoch": 4, "kid": 0.2}
    resumed.on_epoch_end(5, {})  # a resume at epoch 6 forgets epochs 6 to 10
    assert [h["epoch"] for h in resumed.history] == [2, 4, 6]
    assert resumed.best() == {"epoch": 6, "kid": 0.1}


@pytest.mark.parametrize(
    "text",
    [
        '{"metric": "kid", "history": [{"epoch": 2, "k',  # cut short
        "[]",
        '{"metric": "kid", "history": [{"epoch": 2}]}',
        '{"metric": "kid", "history": 3}',
        b"\xff\xfe\x00",
    ],
)
def test_monitor_with_a_damaged_state_starts_afresh_with_a_warning(
    tmp_path, monkeypatch, text
):
    path = tmp_path / MONITOR_STATE
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.warns(UserWarning, match="starts afresh") as warned:
        monitor = make_monitor(tmp_path)
    assert str(path) in str(warned[0].message)
    assert monitor.history == []
    monkeypatch.setattr(QualityMonitor, "evaluate", lambda self: {"kid": 0.3})
    monitor.on_epoch_end(1, {})
    assert json.loads(path.read_text())["history"] == [{"epoch": 2, "kid": 0.3}]
    assert (tmp_path / BEST_GENERATOR).is_file()


def test_monitor_without_features_for_the_dataset_fails_before_training(tmp_path):
    monitor = QualityMonitor(
        np.zeros((4, 64, 64, 3), np.uint8), tmp_path, dataset="biked"
    )
    with pytest.raises(ValueError, match="inception"):
        monitor.on_train_begin()


def test_monitor_logs_precision_recall_and_the_periodic_measure(tmp_path):
    monitor = make_monitor(tmp_path, metrics=("kid", "pr", "artifacts", "periodic"))
    logs = {"d_loss": 1.0}
    monitor.on_epoch_end(1, logs)
    assert set(logs) == {
        "d_loss",
        "kid",
        "precision",
        "recall",
        "artifacts",
        "periodic",
    }
    assert 0 <= logs["precision"] <= 1 and 0 <= logs["recall"] <= 1
    assert logs["artifacts"] > 0 and logs["periodic"] > 0
    state = json.loads((tmp_path / MONITOR_STATE).read_text())
    assert state["metric"] == "kid"
    assert set(state["history"][0]) == {"epoch", *logs} - {"d_loss"}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"metrics": ("pr",)}, "'kid' and/or 'fid', then optionally 'pr'"),
        ({"metrics": ("kid", "pr"), "num_samples": 3}, "more than 3 samples"),
        ({"metrics": ("kid", "ssim")}, "'artifacts' and 'periodic'"),
    ],
)
def test_monitor_refuses_what_it_cannot_measure(tmp_path, kwargs, message):
    images = np.zeros((8, 28, 28, 1), np.uint8)
    with pytest.raises(ValueError, match=message):
        QualityMonitor(images, tmp_path, dataset="fashion_mnist", **kwargs)


def _events(folder):
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )

    events = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    events.Reload()
    return events


def test_training_writes_the_new_measures_to_metrics_csv_and_tensorboard(tmp_path):
    from dcgan_tf.config import TrainConfig
    from dcgan_tf.training import run as training

    config = TrainConfig(
        dataset="fashion_mnist",
        data_dir=str(FASHION),
        epochs=1,
        steps_per_epoch=2,
        batch_size=8,
        generator_filters=8,
        discriminator_filters=8,
        latent_dim=8,
        grid_size=4,
        quality_every=1,
        quality_metrics="kid,fid,pr,artifacts,periodic",
        quality_samples=32,
        run_dir=str(tmp_path / "run"),
    )
    run = RunDir(training.train(config, verbose=0).run_dir)
    with open(run.file("metrics.csv"), newline="") as file:
        (row,) = list(csv.DictReader(file))
    for name in ("kid", "fid", "precision", "recall", "artifacts", "periodic"):
        assert np.isfinite(float(row[name])), name
    assert 0 <= float(row["precision"]) <= 1 and 0 <= float(row["recall"]) <= 1
    tags = _events(run.file("tensorboard")).Tags()["tensors"]
    for name in ("precision", "recall", "artifacts", "periodic"):
        assert f"quality/{name}" in tags


def test_training_refuses_pr_on_three_samples_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "dcgan_tf.train", "--data-dir", str(FASHION)]
        + ["--quality-metrics", "kid,pr", "--quality-samples", "3"]
        + ["--run-dir", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "--quality-metrics with pr needs --quality-samples 4 or more" in line
    assert not (tmp_path / "run").exists()
