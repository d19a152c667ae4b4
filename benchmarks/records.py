"""What the benchmarks' JSON records share: the command that made one, its
date, writing it (atomically, through `dcgan_tf.system.files`) and showing it,
and a point of a training curve.

The scripts run as `python benchmarks/NAME.py`, so they import this module
as `records`.
"""

import datetime
import json
import shlex
import sys
from pathlib import Path


def command(program: str = "python") -> str:
    """The command line that ran this script, as a record stores it."""
    return shlex.join([program, *sys.argv])


def today() -> str:
    """Today's date, ISO 8601, as a record stores it."""
    return datetime.date.today().isoformat()


def save(path, record: dict, shown=None, indent=None) -> Path:
    """Writes `record` as JSON at `path`, then prints `shown` (nothing when
    None) as one JSON value, `indent` as `json.dumps` takes it."""
    from dcgan_tf.system import files

    written = files.write_json(path, record)
    if shown is not None:
        print(json.dumps(shown, indent=indent), flush=True)
    return written


def fit_chunk(model, dataset, config, chunk: int) -> dict:
    """Trains `model` for chunk `chunk` (`config.steps_per_epoch` steps, one
    Keras epoch) and returns the curve's point: the step reached and the
    last value of each of the chunk's logs."""
    history = model.fit(
        dataset,
        initial_epoch=chunk,
        epochs=chunk + 1,
        steps_per_epoch=config.steps_per_epoch,
        shuffle=False,  # the stream is shuffled by make_dataset
        verbose=0,
    )
    point = {"step": (chunk + 1) * config.steps_per_epoch}
    point.update({k: float(v[-1]) for k, v in history.history.items()})
    return point
