"""How fast training runs, against the PyTorch loop a user knows.

`run_benchmark` times, in one process and interleaved in short blocks, the
`fit` path on the current Keras backend, that backend's minimal loop over the
same networks (`loops`) and, when torch is installed, pytorch/examples' dcgan
loop on a PyTorch mirror of the same networks (`peer`); `flops` counts a
step's work and measures the matrix-multiply ceiling; `machine` describes the
CPU and caps its instruction set. `dcgan_tf.bench` is its command.

The names below are imported on first use, so that `dcgan_tf.system.machine`
can set the caps before Keras, TensorFlow, torch or JAX loads.
"""

import importlib

__all__ = ["format_table", "run_benchmark"]


def __getattr__(name):
    if name not in __all__:
        raise AttributeError(f"module 'dcgan_tf.speed' has no attribute {name!r}")
    home = "report" if name == "format_table" else "harness"
    value = getattr(importlib.import_module(f"dcgan_tf.speed.{home}"), name)
    globals()[name] = value
    return value
