"""Timing the train step of each execution candidate, interleaved, on
throwaway networks (`--jit-compile auto`'s probe; see
`dcgan_tf.training.execution`)."""

import dataclasses
import time

import keras
import numpy as np

from dcgan_tf.config import TrainConfig
from dcgan_tf.data.pipeline import make_dataset
from dcgan_tf.model import build_dcgan
from dcgan_tf.training import candidates


def _first_line(error: Exception) -> str:
    line = (str(error).strip().splitlines() or [""])[0]
    line = line if len(line) <= 160 else line[:157] + "..."
    return f"{type(error).__name__}: {line}" if line else type(error).__name__


def _perf_timer(label: str, run) -> float:
    """Seconds `run()` takes (`probe`'s default timer)."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def probe(
    config: TrainConfig, images, labels=None, options=None, rounds=3, timer=None
) -> dict:
    """Times the train step of each candidate, interleaved round after
    round, on throwaway networks built from `config` and fed its first
    images.

    Args:
        options: the candidates (default: all this run allows).
        rounds: how many times each candidate's block runs.
        timer: `timer(label, run)` runs `run()` and returns the seconds it
            counts (tests inject one; by default the wall clock).

    Returns:
        {"rates": {label: img/s}, "skipped": {label: why}, "steps_each",
        "block_seconds": {label: [seconds of each round's block]}}: a
        candidate that fails to build or to run is skipped.
    """
    if options is None:
        options = candidates.candidates(config, keras.backend.backend())
    timer = timer or _perf_timer
    config = dataclasses.replace(config, steps_per_execution=1)
    count = min(len(images), config.batch_size * 8)
    subset = None if labels is None else labels[:count]
    dataset = make_dataset(images[:count], config.batch_size, 0, labels=subset)

    def trainer(model, steps):
        return lambda: model.fit(
            dataset, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False
        )

    # Build and warm up each (tracing, compiling); a failure skips it.
    models, skipped, step_seconds = {}, {}, []
    for settings in options:
        name = candidates.label(settings)
        try:
            model = build_dcgan(dataclasses.replace(config, **settings))
            trainer(model, 2)()
            step_seconds.append(timer(name, trainer(model, 1)))
        except Exception as error:  # noqa: BLE001 - any failure: not a candidate
            skipped[name] = _first_line(error)
            continue
        models[name] = model
    # Blocks of about a second each.
    block = 2
    if step_seconds:
        block = int(np.clip(np.ceil(1.0 / max(min(step_seconds), 1e-3)), 2, 20))
    seconds = {name: [] for name in models}
    for _ in range(rounds):
        for name in list(seconds):
            try:
                seconds[name].append(timer(name, trainer(models[name], block)))
            except Exception as error:  # noqa: BLE001
                skipped[name] = _first_line(error)
                del seconds[name]
    del models
    # The run's networks get the names they would have had without a probe.
    keras.backend.clear_session()
    timed = rounds * block * config.batch_size
    return {
        "rates": {name: timed / max(sum(s), 1e-9) for name, s in seconds.items()},
        "skipped": skipped,
        "steps_each": rounds * block,
        "block_seconds": seconds,
    }
