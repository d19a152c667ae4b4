"""How fast training runs: the `fit` path against a minimal loop, FLOPs and ceilings.

Measures, in one process and interleaved in short blocks so that a noisy
machine slows both alike: images per second of the project's `fit` path and
of a minimal `tf.function` GradientTape loop over the same networks and the
same algorithm (the in-repo baseline); the FLOPs of one training step counted
from the layers, against the machine's measured matrix-multiply rate; the
input pipeline alone; and peak memory. `dcgan_tf.bench` is its command.
"""

import dataclasses
import resource
import time

import keras
import tensorflow as tf
from keras import layers

from dcgan_tf.config import TrainConfig
from dcgan_tf.data import make_dataset, synthetic_images
from dcgan_tf.gan import build_dcgan
from dcgan_tf.losses import discriminator_loss, generator_loss
from dcgan_tf.training import load_training_images


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
    and weight backward, 3 F_D each; D on fakes for G's update, forward and
    input gradients only, 2 F_D. In all 3 F_G + 8 F_D.
    """
    return 3 * forward_flops(generator) + 8 * forward_flops(discriminator)


def matmul_rate(size=1024, seconds=2.0) -> float:
    """The machine's float32 matrix-multiply rate in FLOP/s (the ceiling)."""
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))

    @tf.function
    def multiply(a, b):
        return tf.matmul(a, b)

    multiply(a, b).numpy()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        multiply(a, b).numpy()
        count += 1
    return 2 * size**3 * count / (time.perf_counter() - start)


def minimal_loop_step(model, d_optimizer, g_optimizer):
    """A plain `tf.function` step: the same algorithm as `DCGAN.train_step`,
    with no `fit`, no metrics and no callbacks."""
    generator, discriminator = model.generator, model.discriminator
    latent_dim = model.latent_dim

    @tf.function
    def step(real_images):
        latents = tf.random.normal((tf.shape(real_images)[0], latent_dim))
        with tf.GradientTape() as g_tape:
            fake_images = generator(latents, training=True)
            with g_tape.stop_recording():
                with tf.GradientTape() as d_tape:
                    real_logits = discriminator(real_images, training=True)
                    fake_logits = discriminator(
                        tf.stop_gradient(fake_images), training=True
                    )
                    d_loss = discriminator_loss(real_logits, fake_logits)
                weights = discriminator.trainable_variables
                d_optimizer.apply(d_tape.gradient(d_loss, weights), weights)
            g_loss = generator_loss(discriminator(fake_images, training=True))
        weights = generator.trainable_variables
        g_optimizer.apply(g_tape.gradient(g_loss, weights), weights)
        return d_loss, g_loss

    return step


class _Interleave(keras.callbacks.Callback):
    """Times each `fit` epoch, then runs and times one block of the baseline."""

    def __init__(self, baseline_block):
        super().__init__()
        self.baseline_block = baseline_block
        self.fit_seconds, self.loop_seconds = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.fit_seconds.append(time.perf_counter() - self.start)
        self.loop_seconds.append(self.baseline_block())


def pipeline_rate(images, batch_size, batches) -> float:
    """Images per second that the input pipeline alone delivers."""
    iterator = iter(make_dataset(images, batch_size, seed=0))
    next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / (time.perf_counter() - start)


def run_benchmark(config: TrainConfig, steps=50, block=10, synthetic=False) -> dict:
    """Measures one preset; returns the figures as a dict (see module doc)."""
    config = dataclasses.replace(config.resolve(), steps_per_epoch=block)
    if synthetic:
        count = config.batch_size * max(block, 8)
        images = synthetic_images(count, config.image_shape, seed=config.seed)
    else:
        images = load_training_images(config)
    keras.utils.set_random_seed(config.seed)
    # Several steps per call, as `train` runs them; a divisor of the block so
    # that each timed block is exactly `block` steps.
    model = build_dcgan(config)
    baseline = build_dcgan(dataclasses.replace(config, steps_per_execution=1))
    loop_step = minimal_loop_step(baseline, baseline.d_optimizer, baseline.g_optimizer)
    loop_data = iter(make_dataset(images, config.batch_size, seed=1))

    def baseline_block():
        loop_step(next(loop_data))[0].numpy()  # settle any pending work
        start = time.perf_counter()
        for _ in range(block):
            losses = loop_step(next(loop_data))
        losses[0].numpy()
        return time.perf_counter() - start

    # Warm-up: trace and run both paths once outside the timed blocks.
    dataset = make_dataset(images, config.batch_size, seed=0)
    model.fit(dataset, epochs=1, steps_per_epoch=block, verbose=0, shuffle=False)
    baseline_block()
    blocks = max(1, steps // block)
    timer = _Interleave(baseline_block)
    model.fit(
        dataset,
        epochs=blocks,
        steps_per_epoch=block,
        callbacks=[timer],
        verbose=0,
        shuffle=False,
    )
    images_per_block = block * config.batch_size
    fit_rate = images_per_block * blocks / sum(timer.fit_seconds)
    loop_rate = images_per_block * blocks / sum(timer.loop_seconds)
    flops = step_flops(model.generator, model.discriminator)
    ceiling = matmul_rate()
    input_rate = pipeline_rate(images, config.batch_size, batches=max(20, steps))
    return {
        "dataset": config.dataset,
        "image_shape": list(config.image_shape),
        "batch_size": config.batch_size,
        "steps": blocks * block,
        "synthetic": synthetic,
        "fit_images_per_second": fit_rate,
        "loop_images_per_second": loop_rate,
        "fit_over_loop": fit_rate / loop_rate,
        "fit_block_seconds": timer.fit_seconds,
        "loop_block_seconds": timer.loop_seconds,
        "flops_per_image": flops,
        "matmul_flops_per_second": ceiling,
        "fit_fraction_of_ceiling": fit_rate * flops / ceiling,
        "pipeline_images_per_second": input_rate,
        "pipeline_over_fit": input_rate / fit_rate,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "backend": keras.backend.backend(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def format_table(result: dict) -> str:
    rows = [
        ("fit path", f"{result['fit_images_per_second']:.1f} img/s"),
        ("minimal tf.function loop", f"{result['loop_images_per_second']:.1f} img/s"),
        ("fit / loop", f"{result['fit_over_loop']:.3f}"),
        ("GFLOP per image (train step)", f"{result['flops_per_image'] / 1e9:.3f}"),
        ("matmul ceiling", f"{result['matmul_flops_per_second'] / 1e9:.1f} GFLOP/s"),
        ("fit, fraction of ceiling", f"{result['fit_fraction_of_ceiling']:.2f}"),
        ("input pipeline alone", f"{result['pipeline_images_per_second']:.0f} img/s"),
        ("pipeline / fit", f"{result['pipeline_over_fit']:.1f}x"),
        ("peak memory", f"{result['peak_memory_mb']:.0f} MB"),
    ]
    width = max(len(name) for name, _ in rows)
    shape = "x".join(map(str, result["image_shape"]))
    lines = [f"{result['dataset']} {shape}, batch {result['batch_size']}"]
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)
