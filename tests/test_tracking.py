"""Watching a run: step rows, epoch rows, the plot, TensorBoard events read
back with TensorBoard's own reader, and curves that continue across a resume."""

import csv

import keras
import numpy as np
import pytest
from conftest import tiny_config

from dcgan_tf.config import TrainConfig, resume_config
from dcgan_tf.rundir import RunDir
from dcgan_tf.training import run as training
from dcgan_tf.training.tracking import EpochLine, MetricsLog, ProgressBar


class _Model:
    diverged = False


def _log(tmp_path, steps_per_epoch, log_every):
    log = MetricsLog(RunDir(tmp_path), steps_per_epoch, log_every, tensorboard=False)
    log.set_model(_Model())
    log.set_params({"epochs": 2})
    log.on_train_begin()
    return log


def _rows(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def test_step_rows_average_the_steps_since_the_row_before(tmp_path):
    """Keras hands callbacks the running mean of the epoch; each row holds the
    mean of the raw values of its own steps."""
    log = _log(tmp_path, steps_per_epoch=4, log_every=2)
    raw = [1.0, 3.0, 5.0, 7.0]
    log.on_epoch_begin(0)
    for batch in range(4):
        log.on_train_batch_end(batch, {"d_loss": np.mean(raw[: batch + 1])})
    log.on_epoch_end(0, {"d_loss": np.mean(raw)})
    rows = _rows(tmp_path / "steps.csv")
    assert [r["step"] for r in rows] == ["2", "4"]
    assert [float(r["d_loss"]) for r in rows] == [2.0, 6.0]
    assert _rows(tmp_path / "metrics.csv") == [{"epoch": "1", "d_loss": "4.0"}]
    assert (tmp_path / "losses.png").stat().st_size > 1000


def test_several_steps_per_call_log_at_the_first_call_past_a_multiple(tmp_path):
    log = _log(tmp_path, steps_per_epoch=30, log_every=25)
    log.on_epoch_begin(0)
    for end in (9, 19, 29):  # three calls of ten steps
        log.on_train_batch_end(end, {"g_loss": 1.0})
    log.on_epoch_end(0, {"g_loss": 1.0})
    assert [r["step"] for r in _rows(tmp_path / "steps.csv")] == ["30"]


def test_epoch_rows_widen_for_new_columns_and_a_resume_rewrites_its_epochs(tmp_path):
    log = _log(tmp_path, steps_per_epoch=1, log_every=1)
    for epoch, values in enumerate([{"d_loss": 1.0}, {"d_loss": 0.9, "kid": 0.05}]):
        log.on_epoch_begin(epoch)
        log.on_train_batch_end(0, values)
        log.on_epoch_end(epoch, values)
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert lines == ["epoch,d_loss,kid", "1,1.0,", "2,0.9,0.05"]
    resumed = MetricsLog(RunDir(tmp_path), 1, 1, tensorboard=False, initial_epoch=1)
    resumed.set_model(_Model())
    resumed.on_train_begin()
    resumed.on_epoch_begin(1)
    resumed.on_train_batch_end(0, {"d_loss": 0.8})
    resumed.on_epoch_end(1, {"d_loss": 0.8, "kid": 0.04})
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert lines == ["epoch,d_loss,kid", "1,1.0,", "2,0.8,0.04"]
    assert [r["step"] for r in _rows(tmp_path / "steps.csv")] == ["1", "2"]


def test_the_epoch_line_says_images_per_second_and_time_to_go(capsys):
    line = EpochLine(batch_size=8, steps_per_epoch=4)
    line.set_params({"epochs": 3})
    line.on_epoch_begin(0)
    line.on_epoch_end(0)
    out = capsys.readouterr().out
    assert out.startswith("epoch 1/3: ") and "img/s" in out and "to go" in out


class _InterruptAt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.at = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == self.at and batch == 2:
            raise KeyboardInterrupt

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch


def _events(folder):
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )

    events = EventAccumulator(str(folder), size_guidance={"images": 0, "tensors": 0})
    events.Reload()
    return events


def test_tensorboard_curves_continue_unbroken_across_ctrl_c_and_resume(
    tmp_path, fashion_dir
):
    config = tiny_config(
        epochs=2,
        steps_per_epoch=6,
        steps_per_execution=1,
        run_dir=str(tmp_path / "run"),
    )
    first = training.train(config, verbose=0)
    run = RunDir(first.run_dir)
    more = resume_config(run.read_config(), {"epochs": 3})
    stopped = training.train(
        more, resume=run.path, callbacks=[_InterruptAt(2)], verbose=0
    )
    assert stopped.interrupted
    training.train(more, resume=run.path, verbose=0)

    events = _events(run.file("tensorboard"))
    tags = events.Tags()
    for tag in ("losses/d_loss", "losses/g_loss", "discriminator/d_real"):
        steps = [event.step for event in events.Tensors(tag)]
        assert steps == list(range(2, 19, 2)), (tag, steps)  # 3 epochs of 6
    images = events.Images("samples")
    assert [image.step for image in images] == [0, 6, 12, 18]
    assert images[-1].encoded_image_string.startswith(b"\x89PNG")
    config_tag = next(tag for tag in tags["tensors"] if tag.startswith("config"))
    texts = [event.step for event in events.Tensors(config_tag)]
    assert texts == [0, 12, 12]  # the start, and each resume from epoch 2
    steps_csv = [int(r["step"]) for r in _rows(run.file("steps.csv"))]
    assert steps_csv == list(range(2, 19, 2))


def test_no_tensorboard_writes_no_events(tmp_path):
    config = TrainConfig(
        dataset="fashion_mnist",
        batch_size=8,
        generator_filters=8,
        discriminator_filters=8,
        latent_dim=8,
        grid_size=4,
        quality_every=0,
        tensorboard=False,
        run_dir=str(tmp_path / "run"),
    )
    run = training.train(config, dry_run=True, verbose=0)
    assert not (run.run_dir / "tensorboard").exists()
    assert (run.run_dir / "steps.csv").is_file()


def _tiny_run(tmp_path, fashion_dir, **changes):
    return tiny_config(data_dir=fashion_dir, run_dir=str(tmp_path / "run"), **changes)


def test_damaged_logs_never_cost_a_checkpoint(tmp_path, fashion_dir):
    first = training.train(_tiny_run(tmp_path, fashion_dir), verbose=0)
    run = RunDir(first.run_dir)
    # A row cut in the middle (a kill while a user's copy ran, a full disk).
    steps = run.file("steps.csv")
    text = steps.read_text()
    steps.write_text(text[: text.rindex(",", 0, text.rindex(",")) - 2])
    metrics = run.file("metrics.csv")
    metrics.write_text(metrics.read_text() + "2,not a number,,,\n")
    for events in run.file("tensorboard").glob("*tfevents*"):
        events.write_bytes(b"\x00garbage" * 10 + events.read_bytes()[40:])
    more = resume_config(run.read_config(), {"epochs": 2})
    with pytest.warns(UserWarning) as warned:
        training.train(more, resume=run.path, verbose=0)
    assert run.completed_epochs() == 2
    text = " ".join(str(w.message) for w in warned)
    assert "steps.csv" in text and "metrics.csv" in text
    assert [r["epoch"] for r in _rows(metrics)] == ["1", "2"]
    # Epoch 1's one row (one call of 4 steps) was cut: dropped; then epoch 2's.
    assert [int(r["step"]) for r in _rows(steps)] == [8]
    assert run.file("losses.png").stat().st_size > 1000


def test_a_byte_that_is_no_text_costs_only_its_row_and_the_file_is_kept(
    tmp_path, fashion_dir
):
    # A hostile pass: one byte 0xff appended to metrics.csv lost the whole
    # history (UnicodeDecodeError: "it starts again"), and nothing was kept.
    first = training.train(_tiny_run(tmp_path, fashion_dir), verbose=0)
    run = RunDir(first.run_dir)
    metrics = run.file("metrics.csv")
    damaged = metrics.read_bytes() + b"\xff\n"
    metrics.write_bytes(damaged)
    more = resume_config(run.read_config(), {"epochs": 2})
    with pytest.warns(UserWarning, match="metrics.csv.damaged"):
        training.train(more, resume=run.path, verbose=0)
    assert [r["epoch"] for r in _rows(metrics)] == ["1", "2"]
    assert run.file("metrics.csv.damaged").read_bytes() == damaged


def test_a_plot_that_fails_is_a_warning_and_the_epoch_is_saved(
    tmp_path, fashion_dir, monkeypatch
):
    from dcgan_tf.training import tracking

    def broken(*args, **kwargs):
        raise ValueError("matplotlib could not draw this")

    monkeypatch.setattr(tracking, "plot_run", broken)
    with pytest.warns(UserWarning, match="losses.png not drawn"):
        run = training.train(_tiny_run(tmp_path, fashion_dir), verbose=0)
    assert RunDir(run.run_dir).completed_epochs() == 1


class _Stopped:
    interrupted = False


@pytest.mark.parametrize("verbose", [1, 2])
def test_the_progress_bar_shows_the_true_step_when_stopped_and_resumed(capsys, verbose):
    """Keras' bar filled up at a signal (468/468 for a stop at step 54) and
    counted a resumed epoch's own steps (414/414)."""
    model = _Stopped()
    bar = ProgressBar(468)
    bar.set_model(model)
    bar.set_params({"verbose": verbose, "epochs": 1, "steps": 468})
    bar.on_train_begin()
    bar.on_epoch_begin(0)
    for batch in range(54):
        bar.on_train_batch_end(batch, {"d_loss": 1.0})
    model.interrupted = True  # as `Checkpoint` marks a stop at a signal
    bar.on_epoch_end(0, {"d_loss": 1.0})
    stopped = capsys.readouterr().out
    assert "54/468" in stopped and "468/468" not in stopped, stopped

    model.interrupted = False
    bar = ProgressBar(468, initial_step=54)  # the resumed rest of the epoch
    bar.set_model(model)
    bar.set_params({"verbose": verbose, "epochs": 1, "steps": 468 - 54})
    bar.on_train_begin()
    bar.on_epoch_begin(0)
    bar.on_train_batch_end(0, {"d_loss": 1.0})
    first = capsys.readouterr().out
    for batch in range(1, 414):
        bar.on_train_batch_end(batch, {"d_loss": 1.0})
    bar.on_epoch_end(0, {"d_loss": 1.0})
    resumed = capsys.readouterr().out
    assert verbose == 2 or "55/468" in first, first
    assert "468/468" in resumed and "414" not in first + resumed, resumed
