"""The speed table of docs/speed.md from `benchmarks/speed.sh`'s records.

python benchmarks/speed_table.py benchmarks/results/speed/*.json
python benchmarks/speed_table.py --summary benchmarks/results/speed/*.json

One row per path of each run: the ISA level it ran at, the preset, the
backend, img/s and its ratio over the eager PyTorch peer of the same run (and
that ratio's spread over the interleaved rounds) and over the compiled one.
The peers' own rows come once per level and preset, from the TensorFlow run
(every run times its own, in its JSON). Above the table: the
CPU; below it: every peer a run could not time, and why. `--summary`: the
README's table, one row per level and preset.
"""

import json
import sys
from pathlib import Path

from dcgan_tf.system import machine

LABELS = {
    "fit": "fit",
    "loop": "minimal loop",
    "peer": "plain PyTorch (eager peer)",
    "peer_compiled": "plain PyTorch, torch.compile (compiled peer)",
}
PRESETS = {"fashion_mnist": 0, "cifar10": 1, "folder": 2, "biked": 3}
BACKENDS = {"tensorflow": 0, "torch": 1, "jax": 2}
HEADER = (
    "| ISA level | preset | backend | path | img/s | over eager peer "
    "| each round | over compiled peer |\n|---|---|---|---|---|---|---|---|"
)


def _ratio(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def _compiled(record: dict) -> bool:
    """Whether the fit path ran compiled (older records: `jit_compile` only)."""
    return record.get("jit_compiled", record.get("jit_compile") in (True, "on"))


def _backend(record: dict) -> str:
    jit = record.get("jit_compile")
    if "jit_compiled" in record and record["backend"] == "tensorflow":
        way = "XLA" if record["jit_compiled"] else "no XLA"
        return f"tensorflow, --jit-compile {jit} ({way})"
    if jit in (True, "on"):  # "on" on the command line
        return f"{record['backend']}, jit_compile on"
    return record["backend"]


def _level(record: dict) -> str:
    """The level a run ran at ("-" in records from before the CPU was kept)."""
    return machine.effective_level(record["cpu"]) if "cpu" in record else "-"


def _key(record: dict):
    level = _level(record)
    return (
        -machine.LEVELS.index(level) if level in machine.LEVELS else 1,
        PRESETS.get(record["dataset"], 9),
        record["image_shape"],
        BACKENDS.get(record["backend"], 9),
        record.get("jit_compile") != "auto",
    )


def rows(record: dict, with_peers: bool):
    """The table's lines for one run's record."""
    level = _level(record)
    shape = "x".join(map(str, record["image_shape"]))
    preset = f"{record['dataset']} {shape} b{record['batch_size']}"
    for key, label in LABELS.items():
        path = record["paths"].get(key)
        if path is None or (key.startswith("peer") and not with_peers):
            continue
        # --jit-compile applies to the fit path only.
        backend = _backend(record) if key == "fit" else record["backend"]
        backend = "torch" if key.startswith("peer") else backend
        rounds = path.get("over_peer_per_round")
        spread = "-"
        if rounds and key != "peer":
            spread = f"{min(rounds):.2f}-{max(rounds):.2f}"
        yield (
            f"| {level} | {preset} | {backend} | {label} "
            f"| {path['images_per_second']:.1f} | {_ratio(path.get('over_peer'))} "
            f"| {spread if rounds else '-'} "
            f"| {_ratio(path.get('over_compiled_peer'))} |"
        )


def render(records: list[dict]) -> str:
    """The Markdown table (with its CPU line and notes) of `speed.sh`'s records."""
    records = sorted(records, key=_key)
    cpus = [{**r["cpu"], "isa_caps": {}} for r in records if "cpu" in r]
    models = dict.fromkeys(machine.describe(cpu) for cpu in cpus) or ["not recorded"]
    lines = [f"CPU: {model}" for model in models] + [HEADER]
    notes = []
    for record in records:
        # The peers once per preset: beside TensorFlow's default (auto) run.
        first = record.get("jit_compile") in ("auto", None) and not (
            "jit_compiled" not in record and _compiled(record)
        )
        lines += rows(record, with_peers=record["backend"] == "tensorflow" and first)
        level = _level(record)
        for reason in record.get("not_timed", {}).values():
            notes.append(f"{level}, {_backend(record)}: {reason}")
    return "\n".join(lines + list(dict.fromkeys(notes)))


SUMMARY_HEADER = (
    "| ISA level | preset | `train` default: auto chose | img/s | over eager peer "
    "| over compiled peer | the other way, over eager peer | torch fit | jax fit |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def summary(records: list[dict]) -> str:
    """One row per ISA level and preset: the default `fit` (what `--jit-compile
    auto` chose) against both peers, the way it did not choose, and the other
    backends' `fit`, all over the eager peer of their own run."""
    groups = {}
    for record in sorted(records, key=_key):
        shape = "x".join(map(str, record["image_shape"]))
        name = (_level(record), f"{record['dataset']} {shape} b{record['batch_size']}")
        groups.setdefault(name, []).append(record)
    lines = [SUMMARY_HEADER]
    for (level, preset), group in groups.items():
        # The paper's network (the peers'): records of another recipe time none.
        group = [r for r in group if not r.get("differences_from_paper")]
        tensorflow = [r for r in group if r["backend"] == "tensorflow"]
        auto = next((r for r in tensorflow if r.get("jit_compile") == "auto"), None)
        if auto is None or "peer" not in auto["paths"]:
            continue
        fit = auto["paths"]["fit"]
        other = next(
            (r for r in group if r["backend"] == "tensorflow" and r is not auto), None
        )
        cells = [
            "XLA" if auto["jit_compiled"] else "no XLA",
            f"{fit['images_per_second']:.1f}",
            _ratio(fit.get("over_peer")),
            _ratio(fit.get("over_compiled_peer")),
            _ratio(other["paths"]["fit"].get("over_peer")) if other else "-",
        ]
        for backend in ("torch", "jax"):
            run = next((r for r in group if r["backend"] == backend), None)
            cells.append(_ratio(run["paths"]["fit"].get("over_peer")) if run else "-")
        lines.append(f"| {level} | {preset} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv):
    if argv[:1] == ["--summary"]:
        print(summary([json.loads(Path(p).read_text()) for p in argv[1:]]))
        return
    print(render([json.loads(Path(p).read_text()) for p in argv]))


if __name__ == "__main__":
    main(sys.argv[1:])
