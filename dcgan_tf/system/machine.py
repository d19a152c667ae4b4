"""The CPU a figure was measured on: its model, vector features and ISA caps.

Which execution is fastest depends on the CPU's vector units (a 2-core EPYC
with AVX-512 and BF16 and one with AVX2 only order the same paths
differently), so every speed figure and every cached choice of execution
carries this description. The caps are the environment variables with which
oneDNN (TensorFlow, PyTorch), PyTorch's own kernels, MKL and XLA's CPU
compiler can be held below what the CPU has, to see another machine's
behaviour on this one (`ISA_CAPS`).
"""

import os
import platform
import sys

# The vector features that decide the speed of convolutions, as /proc/cpuinfo
# names them.
FEATURES = (
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512_vnni",
    "avx512_bf16",
    "amx_tile",
    "amx_bf16",
)

# Environment variables that cap the instruction set a library uses, per
# level. They must be set before the libraries load (a fresh process).
ISA_CAPS = {
    "avx2": {
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "ATEN_CPU_CAPABILITY": "avx2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        "XLA_FLAGS": "--xla_cpu_max_isa=AVX2",
    },
    "avx512": {
        "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16",
        "ATEN_CPU_CAPABILITY": "avx512",
        "MKL_ENABLE_INSTRUCTIONS": "AVX512",
        "XLA_FLAGS": "--xla_cpu_max_isa=AVX512",
    },
}
# Levels from lowest to highest, for comparing a cap with the CPU.
LEVELS = ("other", "avx2", "avx512")
CAP_VARIABLES = sorted({name for caps in ISA_CAPS.values() for name in caps})


def _cpuinfo(path="/proc/cpuinfo") -> dict:
    """The first processor's fields of /proc/cpuinfo ({} where there is none)."""
    fields = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            for line in file:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        return {}
    return fields


def cpu_info(path="/proc/cpuinfo") -> dict:
    """This machine's CPU: model, vector features, core count and ISA caps.

    Returns:
        {"model", "features" (those of `FEATURES` it has), "isa_level"
        ("avx512", "avx2" or "other": the best the CPU offers), "cpu_count",
        "isa_caps" (the cap variables set in this process's environment)}.
        Off Linux the model is `platform.processor()` and the features are
        unknown (an empty list).
    """
    fields = _cpuinfo(path)
    flags = set(fields.get("flags", "").split())
    features = [name for name in FEATURES if name in flags]
    return {
        "model": fields.get("model name") or platform.processor() or "unknown",
        "features": features,
        "isa_level": isa_level(features),
        "cpu_count": os.cpu_count(),
        "isa_caps": {
            name: os.environ[name] for name in CAP_VARIABLES if name in os.environ
        },
    }


def load_average() -> float | None:
    """The 1-minute load average (other jobs slow every figure), or None
    where the system has none."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def isa_level(features) -> str:
    """The best of the `ISA_CAPS` levels that `features` offer, or "other"."""
    if "avx512f" in features:
        return "avx512"
    if "avx2" in features:
        return "avx2"
    return "other"


def supported_levels(info=None) -> list[str]:
    """The `ISA_CAPS` levels this CPU can run at, lowest first."""
    own = LEVELS.index((info or cpu_info())["isa_level"])
    return [level for level in ISA_CAPS if LEVELS.index(level) <= own]


def effective_level(info: dict) -> str:
    """The level the libraries run at: the CPU's, or a lower cap in force."""
    cap = info["isa_caps"].get("ONEDNN_MAX_CPU_ISA", "").upper()
    if cap.startswith("AVX2") and info["isa_level"] == "avx512":
        return "avx2"
    return info["isa_level"]


def describe(info: dict) -> str:
    """One line: the model, its features and any cap in force."""
    features = " ".join(info["features"]) or "features unknown"
    line = f"{info['model']} ({info['cpu_count']} cores; {features})"
    if effective_level(info) != info["isa_level"]:
        line += f", capped at {effective_level(info).upper()}"
    return line


FRAMEWORKS = ("tensorflow", "torch", "jax", "jaxlib")


def cap_isa(level: str, environ=None) -> dict:
    """Holds the libraries of this process at most at `level` (`ISA_CAPS`).

    Sets the level's variables in `environ` (default `os.environ`); XLA's
    flag is added to any `XLA_FLAGS` already there. The libraries read them
    when they load, so this must run before TensorFlow, torch or JAX is
    imported.

    Args:
        level: a key of `ISA_CAPS` ("avx2", "avx512").
        environ: the environment to change.

    Returns:
        The variables set, as they now read; none at the CPU's own level.

    Raises:
        ValueError: for an unknown level, a level above what this CPU has,
            or, for this process's environment, a framework already
            imported (the cap would not apply).
    """
    environ = os.environ if environ is None else environ
    if level not in ISA_CAPS:
        raise ValueError(f"Unknown ISA level {level!r}: use one of {list(ISA_CAPS)}.")
    own = cpu_info()["isa_level"]
    if LEVELS.index(level) > LEVELS.index(own):
        raise ValueError(
            f"This CPU has no {level.upper()} (its best level: {own}); "
            f"cap at a level it has or leave the cap out."
        )
    if level == own:
        # Nothing to hold back; and on the development machine (AVX-512)
        # TensorFlow aborted twice at CIFAR-10's shapes under the avx512
        # values ("corrupted size vs. prev_size"), never without them.
        return {}
    loaded = [name for name in FRAMEWORKS if name in sys.modules]
    if loaded and environ is os.environ:
        raise ValueError(
            f"{', '.join(loaded)} already imported: an ISA cap applies only "
            "to a fresh process."
        )
    caps = dict(ISA_CAPS[level])
    flags = environ.get("XLA_FLAGS", "").split()
    flags = [f for f in flags if not f.startswith("--xla_cpu_max_isa=")]
    caps["XLA_FLAGS"] = " ".join([*flags, caps["XLA_FLAGS"]])
    environ.update(caps)
    return caps
