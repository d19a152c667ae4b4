"""How the train step executes: compiled (XLA, torch.compile) or not.

`--jit-compile auto` decides per machine and per shape, because the faster
way depends on the CPU: on a 2-core EPYC with AVX-512 TensorFlow's own
(oneDNN) kernels ran as fast as XLA's, on one with AVX2 only XLA ran about
1.4x faster (issue #20). Under TensorFlow `auto` therefore times a few steps
of each way on the run's own images and shapes and keeps the faster; the
answer is cached per machine, shape and versions (`choices.json` in the
cache folder), so later runs skip the probe. Under JAX the step is always
compiled (without jit, JAX runs op by op); under PyTorch and under a
`tf.distribute` strategy, Keras' own choice (not compiled) stands.
"""

import dataclasses
import json
import os
import time
from dataclasses import dataclass

import keras
import numpy as np

from dcgan_tf.config import TrainConfig
from dcgan_tf.data import cache
from dcgan_tf.data.pipeline import make_dataset
from dcgan_tf.model import build_dcgan
from dcgan_tf.system import files, machine

# Runs shorter than this are not worth a probe of about 20 steps.
PROBE_MIN_STEPS = 500
# Compiled must be this much faster to be chosen: below it the two are within
# a probe's noise, and not compiling saves the compilation and its memory.
MARGIN = 1.05
# The cached answers, in the folder of `dcgan_tf.data.cache` (DCGAN_TF_CACHE,
# by default ~/.cache/dcgan_tf; `off` turns caching off).
CACHE_FILE = "choices.json"
# A cached speed above this is damage, not a measurement: the tiniest DCGAN
# on the fastest GPU trains well under a hundred million images a second.
MAX_RATE = 1e8


@dataclass(frozen=True)
class Choice:
    """Whether the step runs compiled, and why (printed at the start)."""

    compiled: bool
    reason: str

    def line(self) -> str:
        way = "compiled (jit_compile=True)" if self.compiled else "not compiled"
        return f"execution: {way}: {self.reason}"


def choose_jit(
    config: TrainConfig,
    images,
    labels=None,
    strategy=None,
    min_steps=None,
) -> Choice:
    """Resolves `config.jit_compile` to whether the train step is compiled.

    Args:
        config: the run's configuration, with `steps_per_epoch` resolved.
        images: the training images (the probe trains on a few batches).
        labels: their classes, for a conditional run.
        strategy: the run's `tf.distribute` strategy, or None.
        min_steps: runs of fewer steps are not probed (default
            `PROBE_MIN_STEPS`; `bench` passes 0).
    """
    if config.jit_compile != "auto":
        return Choice(config.jit_compile == "on", f"--jit-compile {config.jit_compile}")
    backend = keras.backend.backend()
    if backend == "jax":
        return Choice(True, "JAX runs its step compiled (op by op otherwise)")
    if backend != "tensorflow":
        return Choice(False, f"Keras' choice under {backend}")
    if strategy is not None:
        return Choice(False, "Keras' choice under a tf.distribute strategy")
    total = config.epochs * config.steps_per_epoch
    if total < (PROBE_MIN_STEPS if min_steps is None else min_steps):
        return Choice(False, f"{total} steps are too few to be worth a probe")
    key = cache_key(config)
    entry = read_cache().get(key)
    if entry is not None:
        return Choice(
            entry["compiled"], f"measured on this machine ({_rates(entry)}; cached)"
        )
    entry = probe(config, images, labels)
    entry["compiled"] = entry["compiled_rate"] > MARGIN * entry["not_compiled_rate"]
    entry["cpu"] = machine.describe(machine.cpu_info())
    reason = f"measured on this machine ({_rates(entry)})"
    if busy():
        # Other jobs shared the cores: the answer holds for this run only.
        return Choice(entry["compiled"], reason + "; not cached, the CPU was busy")
    write_cache(key, entry)
    return Choice(entry["compiled"], reason)


def busy() -> bool:
    """Whether other work kept more than the CPU's cores busy lately (the
    one-minute load average, which counts this process too)."""
    try:
        return os.getloadavg()[0] > (os.cpu_count() or 1) + 1
    except OSError:
        return False


def _rates(entry: dict) -> str:
    return (
        f"{_speed(entry['compiled_rate'])} img/s compiled, "
        f"{_speed(entry['not_compiled_rate'])} not"
    )


def _speed(rate: float) -> str:
    """Images per second: whole numbers, two figures below ten."""
    return f"{rate:.0f}" if rate >= 10 else f"{rate:.2g}"


def _plausible(rate) -> bool:
    """A measured speed: a finite number of images per second, above zero
    and below `MAX_RATE` (a bool is no number here)."""
    return (
        isinstance(rate, (int, float))
        and not isinstance(rate, bool)
        and 0 < rate <= MAX_RATE
    )


def probe(config: TrainConfig, images, labels=None, rounds=3) -> dict:
    """Times the train step both ways, interleaved, on throwaway networks
    built from `config` and fed its first images.

    Returns:
        {"compiled_rate", "not_compiled_rate"} in images per second, and the
        steps timed each way.
    """
    config = dataclasses.replace(config, steps_per_execution=1)
    count = min(len(images), config.batch_size * 8)
    subset = None if labels is None else labels[:count]
    dataset = make_dataset(images[:count], config.batch_size, 0, labels=subset)
    models = {
        compiled: build_dcgan(dataclasses.replace(config, jit_compiled=compiled))
        for compiled in (False, True)
    }

    def run(model, steps):
        start = time.perf_counter()
        model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
        return time.perf_counter() - start

    # Warm-up (tracing, compiling), then blocks of about a second each way.
    step_seconds = []
    for model in models.values():
        run(model, 2)
        step_seconds.append(run(model, 1))
    block = int(np.clip(np.ceil(1.0 / max(min(step_seconds), 1e-3)), 2, 20))
    seconds = {False: 0.0, True: 0.0}
    for _ in range(rounds):
        for compiled, model in models.items():
            seconds[compiled] += run(model, block)
    del models
    # The run's networks get the names they would have had without a probe.
    keras.backend.clear_session()
    timed = rounds * block * config.batch_size
    return {
        "compiled_rate": timed / seconds[True],
        "not_compiled_rate": timed / seconds[False],
        "steps_each": rounds * block,
    }


def cache_key(config: TrainConfig) -> str:
    """What the answer depends on: the CPU (and caps), the versions, the
    backend and everything that shapes the step."""
    shaping = (
        "recipe image_size channels batch_size latent_dim generator_filters "
        "discriminator_filters upsample discriminator_norm loss minibatch_stddev "
        "conditional augment ema mixed_precision steps_per_execution"
    ).split()
    key = {
        "cpu": machine.cpu_info(),
        "versions": _versions(),
        "backend": keras.backend.backend(),
        "config": {name: getattr(config, name, None) for name in shaping},
        "classes": len(config.class_names or ()),
    }
    key["cpu"].pop("cpu_count")
    return json.dumps(key, sort_keys=True)


def _versions() -> dict:
    import importlib

    backend = keras.backend.backend()
    return {
        "keras": keras.__version__,
        backend: importlib.import_module(backend).__version__,
    }


def read_cache() -> dict:
    """The cached answers; a missing or damaged file is an empty cache, and a
    damaged entry (a speed that is no plausible measurement: NaN, infinite,
    1e308) is dropped, so that its shape is probed again."""
    folder = cache.directory()
    try:
        entries = json.loads((folder / CACHE_FILE).read_text(encoding="utf-8"))
    except (TypeError, OSError, ValueError):
        return {}
    if not isinstance(entries, dict):
        return {}
    return {
        key: entry
        for key, entry in entries.items()
        if isinstance(entry, dict)
        and isinstance(entry.get("compiled"), bool)
        and all(
            _plausible(entry.get(name))
            for name in ("compiled_rate", "not_compiled_rate")
        )
    }


def write_cache(key: str, entry: dict) -> None:
    """Adds an answer; a cache that cannot be written only costs a probe."""
    folder = cache.directory()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        files.write_json(folder / CACHE_FILE, {**read_cache(), key: entry})
    except (OSError, files.WriteError, files.LinkError):
        pass
