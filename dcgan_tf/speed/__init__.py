"""How fast training runs, against the PyTorch loop a user knows.

`run_benchmark` times, in one process and interleaved in short blocks, the
`fit` path on the current Keras backend, that backend's minimal loop over the
same networks (`loops`) and, when torch is installed, pytorch/examples' dcgan
loop on a PyTorch mirror of the same networks (`peer`); `flops` counts a
step's work and measures the matrix-multiply ceiling. `dcgan_tf.bench` is its
command.
"""

from dcgan_tf.speed.harness import format_table, run_benchmark

__all__ = ["format_table", "run_benchmark"]
