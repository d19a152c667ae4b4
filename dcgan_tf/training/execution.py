"""How the train step executes: compiled (XLA, torch.compile) or not, and
in which formulation G's transposed convolutions compute.

`--jit-compile auto` decides per machine and per shape, because the faster
way depends on the CPU: on a 2-core EPYC with AVX-512 TensorFlow's own
(oneDNN) kernels ran as fast as XLA's, on one with AVX2 only XLA ran about
1.4x faster (issue #20), and the sub-pixel form of G's transposed
convolutions made the JAX step 2.3-3.2x faster but not TensorFlow's (#32).
So `auto` times a few steps of every candidate (`candidates`: the levers
this backend and run allow) on the run's own networks and images, and keeps
the fastest; a candidate that fails to build or run is skipped, its reason
kept. The answer is cached per machine, shape and versions (`choices.json`
in the cache folder), so later runs skip the probe. `--jit-compile on|off`
is taken as given, without a probe.
"""

import json
import os
from dataclasses import dataclass

import keras

from dcgan_tf.config import TrainConfig
from dcgan_tf.data import cache
from dcgan_tf.system import files, machine
from dcgan_tf.training import candidates
from dcgan_tf.training.probing import probe

# Runs shorter than this are not worth a probe of about 20 steps a candidate.
PROBE_MIN_STEPS = 500
# Another candidate must be this much faster than the default to be chosen:
# below it the two are within a probe's noise, and the default (Keras' own
# ops, not compiled under TensorFlow) saves a compilation and its memory.
MARGIN = 1.05
# The cached answers, in the folder of `dcgan_tf.data.cache` (DCGAN_TF_CACHE,
# by default ~/.cache/dcgan_tf; `off` turns caching off).
CACHE_FILE = "choices.json"
# A cached speed above this is damage, not a measurement: the tiniest DCGAN
# on the fastest GPU trains well under a hundred million images a second.
MAX_RATE = 1e8


@dataclass(frozen=True)
class Choice:
    """How the step runs, and why (printed at the start).

    Attributes:
        settings: the candidate, {field: value} of `TrainConfig`'s recorded
            fields (`jit_compiled`, `g_upsample_formulation`).
        reason: why this one.
        probe: what the probe measured, {"rates": {label: img/s},
            "skipped": {label: why}}, or None when nothing was probed.
    """

    settings: dict
    reason: str
    probe: dict | None = None

    @property
    def compiled(self) -> bool:
        return self.settings["jit_compiled"]

    @property
    def label(self) -> str:
        return candidates.label(self.settings)

    def line(self) -> str:
        way = "compiled (jit_compile=True)" if self.compiled else "not compiled"
        if self.settings["g_upsample_formulation"] == "subpixel":
            way += ", G's transposed convolutions in sub-pixel form"
        return f"execution: {way}: {self.reason}"

    def recorded(self) -> dict:
        """What `config.json` records of it (`TrainConfig`'s fields)."""
        return {**self.settings, "execution_probe": self.probe}


def choose_execution(
    config: TrainConfig,
    images,
    labels=None,
    strategy=None,
    min_steps=None,
    timer=None,
) -> Choice:
    """Resolves `config.jit_compile` and `config.g_formulation` to how the
    train step runs.

    Args:
        config: the run's configuration, with `steps_per_epoch` resolved.
        images: the training images (the probe trains on a few batches).
        labels: their classes, for a conditional run.
        strategy: the run's `tf.distribute` strategy, or None.
        min_steps: runs of fewer steps are not probed (default
            `PROBE_MIN_STEPS`; `bench` passes 0).
        timer: `probe`'s, for tests.
    """
    backend = keras.backend.backend()
    options = candidates.candidates(config, backend, strategy)
    default = options[0]
    if config.jit_compile != "auto":
        pinned = [f"--jit-compile {config.jit_compile}"]
        if config.g_formulation != "auto":
            pinned.append(f"--g-formulation {config.g_formulation}")
        return Choice(default, ", ".join(pinned))
    if len(options) == 1:
        return Choice(default, _unprobed_reason(config, backend, strategy))
    if strategy is not None:
        return Choice(default, "Keras' choice under a tf.distribute strategy")
    total = config.epochs * config.steps_per_epoch
    if total < (PROBE_MIN_STEPS if min_steps is None else min_steps):
        return Choice(default, f"{total} steps are too few to be worth a probe")
    key = cache_key(config, options)
    entry = read_cache().get(key)
    if entry is not None:
        reason = f"measured on this machine ({_measured(entry)}; cached)"
        return Choice(entry["settings"], reason, _probe_record(entry))
    entry = probe(config, images, labels, options, timer=timer)
    entry["settings"] = pick(entry["rates"], options)
    entry["cpu"] = machine.describe(machine.cpu_info())
    reason = f"measured on this machine ({_measured(entry)})"
    if busy():
        # Other jobs shared the cores: the answer holds for this run only.
        reason += "; not cached, the CPU was busy"
    elif entry["rates"]:
        write_cache(key, entry)
    return Choice(entry["settings"], reason, _probe_record(entry))


# The name before the probe had more than two candidates (issue #32).
choose_jit = choose_execution


def _unprobed_reason(config, backend, strategy) -> str:
    if config.g_formulation != "auto":
        return f"--g-formulation {config.g_formulation}; " + _rule(backend, strategy)
    return _rule(backend, strategy)


def _rule(backend, strategy) -> str:
    if strategy is not None:
        return "Keras' choice under a tf.distribute strategy"
    if backend == "jax":
        return "JAX runs its step compiled (op by op otherwise)"
    return f"Keras' choice under {backend}"


def pick(rates: dict, options: list[dict]) -> dict:
    """The fastest candidate of `rates` ({label: img/s}); the default (the
    first of `options`) unless another beats it by `MARGIN`, or when none
    was measured."""
    default = options[0]
    measured = [s for s in options if candidates.label(s) in rates]
    if not measured:
        return default
    fastest = max(measured, key=lambda s: rates[candidates.label(s)])
    default_rate = rates.get(candidates.label(default))
    if default_rate is not None and (
        rates[candidates.label(fastest)] <= MARGIN * default_rate
    ):
        return default
    return fastest


def _probe_record(entry: dict) -> dict:
    return {"rates": dict(entry["rates"]), "skipped": dict(entry.get("skipped", {}))}


def busy() -> bool:
    """Whether other work kept more than the CPU's cores busy lately (the
    one-minute load average, which counts this process too)."""
    try:
        return os.getloadavg()[0] > (os.cpu_count() or 1) + 1
    except OSError:
        return False


def _measured(entry: dict) -> str:
    """'1235 img/s compiled, transposed; 880 not compiled, transposed;
    not compiled, sub-pixel failed'."""
    parts = [f"{_speed(rate)} img/s {name}" for name, rate in entry["rates"].items()]
    parts[1:] = [part.replace(" img/s", "", 1) for part in parts[1:]]
    parts += [f"{name} failed" for name in entry.get("skipped", {})]
    return "; ".join(parts)


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


def cache_key(config: TrainConfig, options=None) -> str:
    """What the answer depends on: the CPU (and caps), the versions, the
    backend, everything that shapes the step and the candidates timed."""
    shaping = (
        "recipe image_size channels batch_size latent_dim generator_filters "
        "discriminator_filters upsample discriminator_norm loss minibatch_stddev "
        "conditional augment ema mixed_precision steps_per_execution"
    ).split()
    backend = keras.backend.backend()
    if options is None:
        options = candidates.candidates(config, backend)
    key = {
        "cpu": machine.cpu_info(),
        "versions": _versions(),
        "backend": backend,
        "config": {name: getattr(config, name, None) for name in shaping},
        "classes": len(config.class_names or ()),
        "candidates": [candidates.label(settings) for settings in options],
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
    return {key: entry for key, entry in entries.items() if _valid(entry)}


def _valid(entry) -> bool:
    """A cached answer as `choose_execution` writes it: a candidate's
    settings, and a plausible speed for each candidate measured."""
    if not isinstance(entry, dict):
        return False
    settings, rates = entry.get("settings"), entry.get("rates")
    skipped = entry.get("skipped", {})
    return (
        isinstance(settings, dict)
        and set(settings) == set(candidates.LEVERS)
        and all(
            type(value) is type(values[0]) and value in values
            for value, values in zip(
                (settings[name] for name in candidates.LEVERS),
                candidates.LEVERS.values(),
            )
        )
        and isinstance(rates, dict)
        and bool(rates)
        and all(_plausible(rate) for rate in rates.values())
        and isinstance(skipped, dict)
        and all(isinstance(why, str) for why in skipped.values())
    )


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
