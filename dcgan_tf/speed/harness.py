"""The timing harness: `fit`, the minimal loop and the PyTorch peer, interleaved.

Each path runs `block` steps in turn, round after round, in one process, so
a machine that other jobs slow down slows all three alike and the ratios of
one run hold even when the rates do not. Also measured: the input pipeline
alone, each framework's matrix-multiply ceiling and peak memory.
"""

import dataclasses
import importlib.util
import os
import resource
import time

import keras
import numpy as np

from dcgan_tf.config import TrainConfig
from dcgan_tf.data import make_dataset, synthetic_images
from dcgan_tf.gan import build_dcgan
from dcgan_tf.speed.flops import matmul_rate, step_flops
from dcgan_tf.speed.loops import MinimalLoop

PATHS = ("fit", "loop", "peer")


def _settle(value):
    # Waits for a backend's pending work (JAX and TF run asynchronously).
    keras.ops.convert_to_numpy(value)


class _Interleave(keras.callbacks.Callback):
    """Times each `fit` epoch, then runs and times one block of each other path."""

    def __init__(self, blocks):
        super().__init__()
        self.blocks = blocks
        self.seconds = {"fit": []} | {name: [] for name in blocks}

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds["fit"].append(time.perf_counter() - self.start)
        for name, block in self.blocks.items():
            self.seconds[name].append(block())


def _timed_block(step, batches, block):
    """A function that runs `block` steps over `batches` and returns seconds."""

    def run():
        start = time.perf_counter()
        for _ in range(block):
            losses = step(next(batches))
        _settle(losses[0])
        return time.perf_counter() - start

    return run


def pipeline_rate(images, batch_size, batches) -> float:
    """Images per second that the input pipeline alone delivers."""
    iterator = iter(make_dataset(images, batch_size, seed=0))
    next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / (time.perf_counter() - start)


def _peer_blocks(model, images, config, block):
    """The PyTorch peer's timed block, or None without torch."""
    if importlib.util.find_spec("torch") is None:
        return None
    from dcgan_tf.speed.peer import PeerDCGAN, to_nchw

    peer = PeerDCGAN(
        model.generator,
        model.discriminator,
        config.learning_rates[0],
        config.beta_1,
        seed=config.seed,
    )
    count = len(images) // config.batch_size
    batches = to_nchw(images[: count * config.batch_size]).split(config.batch_size)

    def cycle():
        while True:
            yield from batches

    return _timed_block(peer.step, cycle(), block)


def run_benchmark(
    config: TrainConfig, steps=50, block=10, synthetic=False, jit_compile="auto"
) -> dict:
    """Measures one preset on the current backend; returns the figures.

    Args:
        config: the resolved, validated configuration to time.
        steps: timed steps of each path (rounded down to whole blocks).
        block: steps per interleaved block.
        synthetic: time on synthetic images rather than the data set.
        jit_compile: passed to `DCGAN.compile` for the `fit` path ("auto":
            Keras' choice, XLA under JAX only on CPU).

    Returns:
        A dict of the figures, JSON-ready (see `format_table`).
    """
    config = dataclasses.replace(config, steps_per_epoch=block)
    if synthetic:
        count = config.batch_size * max(block, 8)
        images = synthetic_images(count, config.image_shape, seed=config.seed)
    else:
        from dcgan_tf.training import load_training_images

        images = load_training_images(config)
    backend = keras.backend.backend()
    load_before = os.getloadavg()
    keras.utils.set_random_seed(config.seed)
    model = build_dcgan(config)
    if jit_compile != "auto":
        model.compile(
            steps_per_execution=model.steps_per_execution, jit_compile=jit_compile
        )
    baseline = build_dcgan(dataclasses.replace(config, steps_per_execution=1))
    baseline.set_weights(model.get_weights())
    loop = MinimalLoop(baseline)
    convert = keras.ops.convert_to_tensor
    loop_batches = (convert(b) for b in make_dataset(images, config.batch_size, 1))
    blocks = {"loop": _timed_block(loop.step, loop_batches, block)}
    # The peer is the paper's DCGAN: it times only that network's recipe.
    not_paper = config.differences_from_paper()
    peer_block = None if not_paper else _peer_blocks(model, images, config, block)
    if peer_block is not None:
        blocks["peer"] = peer_block

    # Warm-up: trace, compile and run every path once outside the timed blocks.
    dataset = make_dataset(images, config.batch_size, seed=0)
    model.fit(dataset, epochs=1, steps_per_epoch=block, verbose=0, shuffle=False)
    for run in blocks.values():
        run()
    rounds = max(1, steps // block)
    timer = _Interleave(blocks)
    model.fit(
        dataset,
        epochs=rounds,
        steps_per_epoch=block,
        callbacks=[timer],
        verbose=0,
        shuffle=False,
    )

    flops = step_flops(model.generator, model.discriminator)
    frameworks = {"fit": backend, "loop": backend, "peer": "torch"}
    ceilings = {name: matmul_rate(name) for name in set(frameworks.values())}
    images_per_block = block * config.batch_size
    paths = {}
    for name, seconds in timer.seconds.items():
        rate = images_per_block * len(seconds) / sum(seconds)
        paths[name] = {
            "images_per_second": rate,
            "block_seconds": seconds,
            "fraction_of_ceiling": rate * flops / ceilings[frameworks[name]],
            "ceiling_framework": frameworks[name],
        }
    if "peer" in paths:
        for path in paths.values():
            peer_rate = paths["peer"]["images_per_second"]
            path["over_peer"] = path["images_per_second"] / peer_rate
            # Per-round ratios: their spread shows how steady the machine was.
            ratios = np.divide(timer.seconds["peer"], path["block_seconds"])
            path["over_peer_per_round"] = ratios.tolist()
    return {
        "dataset": config.dataset,
        "image_shape": list(config.image_shape),
        "batch_size": config.batch_size,
        "backend": backend,
        "jit_compile": jit_compile,
        "steps": rounds * block,
        "block": block,
        "synthetic": synthetic,
        "paths": paths,
        "flops_per_image": flops,
        "matmul_flops_per_second": ceilings,
        "pipeline_images_per_second": pipeline_rate(
            images, config.batch_size, batches=max(20, steps)
        ),
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "differences_from_paper": not_paper,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "cpu_count": os.cpu_count(),
        "versions": _versions(),
    }


def _versions() -> dict:
    versions = {"keras": keras.__version__}
    for name in ("tensorflow", "jax", "torch"):
        if importlib.util.find_spec(name) is not None:
            versions[name] = importlib.import_module(name).__version__
    return versions


LABELS = {
    "fit": "dcgan_tf fit",
    "loop": "minimal loop",
    "peer": "plain PyTorch (peer)",
}


def table_rows(result: dict) -> list[list[str]]:
    """One row per path: path, img/s, / peer, GFLOP/img, fraction of ceiling."""
    rows = []
    for name, path in result["paths"].items():
        label = LABELS[name]
        if name != "peer":
            label = f"{label}, {result['backend']}"
            if name == "fit" and result.get("jit_compile") not in (None, "auto"):
                label += f" (jit_compile={result['jit_compile']})"
        over = path.get("over_peer")
        rows.append(
            [
                label,
                f"{path['images_per_second']:.1f}",
                "-" if over is None else f"{over:.2f}",
                f"{result['flops_per_image'] / 1e9:.3f}",
                f"{path['fraction_of_ceiling']:.2f}",
            ]
        )
    return rows


HEADER = ["path", "img/s", "/ peer", "GFLOP/img", "fraction of matmul ceiling"]


def format_table(result: dict) -> str:
    """The figures of one run as a Markdown table under a title line."""
    shape = "x".join(map(str, result["image_shape"]))
    ceilings = ", ".join(
        f"{name} {rate / 1e9:.0f}"
        for name, rate in result["matmul_flops_per_second"].items()
    )
    lines = [
        f"{result['dataset']} {shape}, batch {result['batch_size']}, "
        f"{result['steps']} steps per path in blocks of {result['block']}",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(result)]
    if result.get("differences_from_paper"):
        lines.append(
            "no PyTorch peer: it trains the paper's DCGAN, and this run differs by "
            + " ".join(result["differences_from_paper"])
        )
    lines.append(
        f"matmul ceiling (GFLOP/s): {ceilings}; input pipeline alone "
        f"{result['pipeline_images_per_second']:.0f} img/s; peak memory "
        f"{result['peak_memory_mb']:.0f} MB; load average "
        f"{result['load_average_before'][0]:.1f} before, "
        f"{result['load_average_after'][0]:.1f} after"
    )
    return "\n".join(lines)
