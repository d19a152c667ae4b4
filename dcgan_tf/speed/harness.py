"""The timing harness: `fit`, the minimal loop and the PyTorch peer, interleaved.

Each path runs `block` steps in turn, round after round, in one process, so
a machine that other jobs slow down slows all of them alike and the ratios of
one run hold even when the rates do not. The peers are the plain PyTorch loop
eager ("peer") and under `torch.compile` ("peer_compiled"). Also measured: the
input pipeline alone, each framework's matrix-multiply ceiling, peak memory
and the CPU (`machine.cpu_info`).
"""

import dataclasses
import importlib
import os
import resource
import time

import keras
import numpy as np

from dcgan_tf.config import TrainConfig
from dcgan_tf.data import make_dataset, synthetic_images
from dcgan_tf.model import build_dcgan
from dcgan_tf.speed.flops import matmul_rate, step_flops
from dcgan_tf.speed.loops import MinimalLoop
from dcgan_tf.speed.report import NO_COMPILED_PEER, NO_PEER
from dcgan_tf.system.machine import cpu_info
from dcgan_tf.training.execution import choose_execution

PATHS = ("fit", "loop", "peer", "peer_compiled")
# The rate each path is compared with, and the ratio's key in the figures.
PEERS = {"peer": "over_peer", "peer_compiled": "over_compiled_peer"}


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


def _importable(name: str) -> bool:
    """Whether a package imports (not merely found: a broken install fails)."""
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def _first_line(error: Exception) -> str:
    line = (str(error).strip().splitlines() or [""])[0]
    line = line if len(line) <= 160 else line[:157] + "..."
    return f"{type(error).__name__}: {line}" if line else type(error).__name__


def _peer_blocks(model, images, config, block):
    """The PyTorch peers' timed blocks and why any is missing.

    Returns:
        ({"peer": run, "peer_compiled": run}, {path: reason}): without torch
        neither peer; where `torch.compile` fails (no C++ compiler, an
        unsupported platform) the eager peer alone. The compiled peer
        compiles here, outside the timed blocks.
    """
    if not _importable("torch"):
        return {}, {"peer": NO_PEER, "peer_compiled": NO_PEER}
    from dcgan_tf.speed.peer import PeerDCGAN, to_nchw

    count = len(images) // config.batch_size
    batches = to_nchw(images[: count * config.batch_size]).split(config.batch_size)

    def cycle():
        while True:
            yield from batches

    import torch._dynamo

    blocks, missing = {}, {}
    names = ["peer", "peer_compiled"]
    if torch._dynamo.config.disable:  # torch.compile would run the loop eager
        names.pop()
        missing["peer_compiled"] = NO_COMPILED_PEER.format(
            "torch.compile is disabled (TORCH_COMPILE_DISABLE=1)"
        )
    for name in names:
        peer = PeerDCGAN(
            model.generator,
            model.discriminator,
            config.d_learning_rate,
            config.beta_1,
            seed=config.seed,
            compiled=name == "peer_compiled",
        )
        try:
            peer.step(batches[0])  # torch.compile compiles on the first call
        except Exception as error:  # noqa: BLE001 - any failure: timed without it
            if name == "peer":
                raise
            missing[name] = NO_COMPILED_PEER.format(
                f"torch.compile failed ({_first_line(error)})"
            )
            continue
        blocks[name] = _timed_block(peer.step, cycle(), block)
    return blocks, missing


def run_benchmark(config: TrainConfig, steps=50, block=10, synthetic=False) -> dict:
    """Measures one preset on the current backend; returns the figures.

    Args:
        config: the resolved, validated configuration to time; its
            `jit_compile` is resolved for the `fit` path as `train` does
            (`dcgan_tf.training.execution.choose_execution`, probing every
            candidate however short the run).
        steps: timed steps of each path (rounded down to whole blocks).
        block: steps per interleaved block.
        synthetic: time on synthetic images rather than the data set.

    Returns:
        A dict of the figures, JSON-ready (see `format_table`).

    Raises:
        ValueError: for `--recipe fewshot`, whose self-supervised D the
            minimal loop does not train.
    """
    if config.recipe == "fewshot":
        raise ValueError(
            "bench times the paper's networks with their options; --recipe "
            "fewshot's D and decoders are not in its minimal loop: time it with "
            "train, or bench --recipe modern."
        )
    config = dataclasses.replace(config, steps_per_epoch=block)
    if synthetic:
        count = config.batch_size * max(block, 8)
        images = synthetic_images(count, config.image_shape, seed=config.seed)
    else:
        from dcgan_tf.data.run_data import load_run_images

        images = load_run_images(config)
    backend = keras.backend.backend()
    load_before = os.getloadavg()
    choice = choose_execution(config, images, min_steps=0)
    config = dataclasses.replace(config, **choice.settings)
    keras.utils.set_random_seed(config.seed)
    model = build_dcgan(config)
    baseline = build_dcgan(
        dataclasses.replace(config, steps_per_execution=1, jit_compiled=None)
    )
    baseline.set_weights(model.get_weights())
    loop = MinimalLoop(baseline)
    convert = keras.ops.convert_to_tensor
    loop_batches = (convert(b) for b in make_dataset(images, config.batch_size, 1))
    blocks = {"loop": _timed_block(loop.step, loop_batches, block)}
    # The peers are the paper's DCGAN: they time only that network's recipe.
    not_paper = config.differences_from_paper()
    missing = {}
    if not not_paper:
        peer_blocks, missing = _peer_blocks(model, images, config, block)
        blocks |= peer_blocks

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
    frameworks["peer_compiled"] = "torch"
    timed = {frameworks[name] for name in timer.seconds}  # no torch, no peer
    ceilings = {name: matmul_rate(name) for name in sorted(timed)}
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
    for peer, key in PEERS.items():
        if peer not in paths:
            continue
        for path in paths.values():
            peer_rate = paths[peer]["images_per_second"]
            path[key] = path["images_per_second"] / peer_rate
            # Per-round ratios: their spread shows how steady the machine was.
            ratios = np.divide(timer.seconds[peer], path["block_seconds"])
            path[f"{key}_per_round"] = ratios.tolist()
    return {
        "dataset": config.dataset,
        "image_shape": list(config.image_shape),
        "batch_size": config.batch_size,
        "backend": backend,
        "jit_compile": config.jit_compile,
        "jit_compiled": choice.compiled,
        "execution": choice.line(),
        "g_upsample_formulation": choice.settings["g_upsample_formulation"],
        "candidates": choice.probe,
        "chosen": choice.label,
        "steps": rounds * block,
        "block": block,
        "synthetic": synthetic,
        "paths": paths,
        "not_timed": missing,
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
        "cpu": cpu_info(),
        "versions": _versions(),
    }


def _versions() -> dict:
    versions = {"keras": keras.__version__}
    for name in ("tensorflow", "jax", "torch"):
        if _importable(name):
            versions[name] = importlib.import_module(name).__version__
    return versions
