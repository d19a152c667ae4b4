"""The work of a training step and the machine's ceiling, to put a rate in context.

`step_flops` counts the multiply-adds of the convolutions and dense layers
only (batch norm, activations and Adam are left out: a lower bound on the
work). `matmul_rate` measures a 1024x1024 float32 matrix multiply with a
given framework, on the threads that framework uses, at the load of the
moment: the best that framework's GEMM does here. A training step's fraction
of it says how far the step is from running at GEMM speed; convolutions with
few channels or small maps reach less, so it is a yardstick, not a target
of 1.0.
"""

import time

from keras import layers


def forward_flops(model) -> int:
    """Multiply-adds times two of one image through a model's conv and dense layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2DTranspose):
            _, height, width, channels = layer.input.shape
            kh, kw = layer.kernel_size
            total += 2 * height * width * kh * kw * channels * layer.filters
        elif isinstance(layer, layers.Conv2D):
            _, height, width, filters = layer.output.shape
            kh, kw = layer.kernel_size
            total += 2 * height * width * kh * kw * layer.input.shape[-1] * filters
        elif isinstance(layer, layers.Dense):
            total += 2 * layer.input.shape[-1] * layer.units
    return int(total)


def step_flops(generator, discriminator) -> int:
    """FLOPs per real image of one `DCGAN.train_step`.

    A forward costs F and a backward 2F (input and weight gradients), so:
    G forward and backward 3 F_G; D on reals and on detached fakes, forward
    and weight backward, 3 F_D each (the input gradient of the reals' first
    layer is not needed, ignored here); D on fakes for G's update, forward
    and input gradients only, 2 F_D. In all 3 F_G + 8 F_D. pytorch/examples'
    loop also fills D's weight gradients in G's update (F_D more); its rate
    is counted with the same 3 F_G + 8 F_D, the work the algorithm needs.
    """
    return 3 * forward_flops(generator) + 8 * forward_flops(discriminator)


def _best_rate(multiply, size, seconds, trials=3) -> float:
    multiply()
    best = 0.0
    for _ in range(trials):
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / trials:
            multiply()
            count += 1
        best = max(best, 2 * size**3 * count / (time.perf_counter() - start))
    return best


def matmul_rate(framework: str, size=1024, seconds=2.0) -> float:
    """A framework's float32 matrix-multiply rate in FLOP/s, best of 3 trials.

    Args:
        framework: "tensorflow", "jax" or "torch".
        size: side of the square matrices.
        seconds: time spent measuring, in all.
    """
    if framework == "tensorflow":
        import tensorflow as tf

        a, b = tf.random.normal((size, size)), tf.random.normal((size, size))
        matmul = tf.function(tf.matmul)
        return _best_rate(lambda: matmul(a, b).numpy(), size, seconds)
    if framework == "jax":
        import jax

        a = jax.random.normal(jax.random.key(0), (size, size))
        b = jax.random.normal(jax.random.key(1), (size, size))
        matmul = jax.jit(jax.numpy.matmul)
        return _best_rate(lambda: matmul(a, b).block_until_ready(), size, seconds)
    if framework == "torch":
        import torch

        a, b = torch.randn(size, size), torch.randn(size, size)
        return _best_rate(lambda: torch.mm(a, b), size, seconds)
    raise ValueError(f"Unknown framework {framework!r}.")
