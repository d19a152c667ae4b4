"""The quality monitor logs KID, keeps the best generator, warns on collapse,
and resumes its history, even from a damaged state file."""

import json
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
