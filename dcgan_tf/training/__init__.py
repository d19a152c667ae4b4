"""A training run, from a resolved configuration to a finished run directory.

`python -m dcgan_tf.train` is its command. `run`: `prepare(config)` (data,
model, run directory, restored position) and `fit(run)`, `train` = both;
`resuming`: a resume's checks and restore, and `rewrite_generator`;
`fitting`: the callbacks and `model.fit` from any position (an epoch's end or
a step within one); `callbacks`: sample grids, GIF, checkpoints, divergence
guard; `tracking`: steps.csv, metrics.csv and the epoch line; `events`:
TensorBoard event files; `plots`: losses.png; `interrupt`: Ctrl-C, SIGTERM and
SIGHUP; `execution`: `--jit-compile auto`'s probe and its cache.

The names of `run` are imported on first use, so that a command's `--help`
loads no Keras.
"""

import importlib

_PUBLIC = {"Run", "fit", "fixed_latents", "prepare", "train"}
__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'dcgan_tf.training' has no attribute {name!r}")
    return getattr(importlib.import_module("dcgan_tf.training.run"), name)
