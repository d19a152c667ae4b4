"""What the console shows while a run trains: Keras' progress bar counting the
epoch's own steps (a resumed or stopped epoch shows its true step), and a line
after each epoch with images per second and the time to the planned end.

`dcgan_tf.training.tracking` writes the logs, and re-exports these names.
"""

import time

import keras


class EpochLine(keras.callbacks.Callback):
    """Prints, after each epoch, images per second and the time to the planned end."""

    def __init__(self, batch_size: int, steps_per_epoch: int):
        super().__init__()
        self.images = batch_size * steps_per_epoch

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if getattr(self.model, "interrupted", False):
            return  # cut short by a signal: the line after it says where
        seconds = time.perf_counter() - self.start
        left = (self.params.get("epochs", epoch + 1) - epoch - 1) * seconds
        hours, rest = divmod(int(round(left)), 3600)
        print(
            f"epoch {epoch + 1}/{self.params.get('epochs')}: "
            f"{self.images / seconds:.0f} img/s, "
            f"{hours}:{rest // 60:02d}:{rest % 60:02d} to go",
            flush=True,
        )


class _Progbar(keras.utils.Progbar):
    """Keras' bar from step `offset`: its time per step counts the steps this
    process ran, not those before a resume."""

    def __init__(self, offset, **kwargs):
        super().__init__(**kwargs)
        self.offset = offset
        self._seen_so_far = offset  # the running means start there too

    def _estimate_step_duration(self, current, now):
        return super()._estimate_step_duration(max(current - self.offset, 0), now)


class ProgressBar(keras.callbacks.ProgbarLogger):
    """Keras' progress bar, counting the epoch's own steps.

    Keras' bar counts the steps of its `fit` and fills up at each epoch's end:
    a run resumed at step 54 of 468 would count 414 steps, and one stopped by
    a signal at step 54 would show 468/468. This one shows the true step: it
    starts a resumed epoch at 55/468, and ends a stopped one where it stopped.

    Args:
        steps_per_epoch: the run's steps per epoch (the bar's end).
        initial_step: steps of the first epoch done before this `fit`.
    """

    def __init__(self, steps_per_epoch: int, initial_step: int = 0):
        super().__init__()
        self.steps_per_epoch = steps_per_epoch
        self.initial_step = initial_step
        self.offset = initial_step

    def set_params(self, params):
        super().set_params(params)
        self.target = self.steps_per_epoch

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.first_epoch = True

    def on_epoch_begin(self, epoch, logs=None):
        self.offset = self.initial_step if self.first_epoch else 0
        self.first_epoch = False
        super().on_epoch_begin(epoch, logs)
        self.seen = self.offset
        self.progbar = _Progbar(
            self.offset,
            target=self.target,
            verbose=self.verbose,
            unit_name="step",
            stateless_metrics=set(),
        )

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(self.offset + batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if getattr(self.model, "interrupted", False):
            # Stopped by a signal: the bar ends at the step it stopped at.
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=True)
            return
        super().on_epoch_end(epoch, logs)
