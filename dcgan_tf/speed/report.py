"""The bench's figures as a Markdown table, with the CPU and what was not timed."""

from dcgan_tf.system.machine import describe

# What the table says when a PyTorch peer could not be timed.
NO_PEER = (
    "plain PyTorch peer not timed: torch is not installed; add it with "
    'pip install -e ".[torch]"'
)
NO_COMPILED_PEER = "compiled PyTorch peer not timed: {}"

LABELS = {
    "fit": "dcgan_tf fit",
    "loop": "minimal loop",
    "peer": "plain PyTorch (peer)",
    "peer_compiled": "plain PyTorch, torch.compile (compiled peer)",
}
HEADER = [
    "path",
    "img/s",
    "/ peer",
    "/ compiled peer",
    "GFLOP/img",
    "fraction of matmul ceiling",
]


def _ratio(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def table_rows(result: dict) -> list[list[str]]:
    """One row per path, in `HEADER`'s columns."""
    rows = []
    for name, path in result["paths"].items():
        label = LABELS[name]
        if not name.startswith("peer"):
            label = f"{label}, {result['backend']}"
            if name == "fit" and "jit_compiled" in result:
                compiled = "compiled" if result["jit_compiled"] else "not compiled"
                if result.get("g_upsample_formulation") == "subpixel":
                    compiled += ", sub-pixel"
                label += f" (--jit-compile {result['jit_compile']}: {compiled})"
            elif name == "fit" and result.get("jit_compile") not in (None, "auto"):
                label += f" (jit_compile={result['jit_compile']})"
        rows.append(
            [
                label,
                f"{path['images_per_second']:.1f}",
                _ratio(path.get("over_peer")),
                _ratio(path.get("over_compiled_peer")),
                f"{result['flops_per_image'] / 1e9:.3f}",
                f"{path['fraction_of_ceiling']:.2f}",
            ]
        )
    return rows


def probe_line(probe: dict, chosen: str | None) -> str:
    """What `--jit-compile auto` measured, fastest first, each as a ratio to
    the default (the first candidate: what runs unprobed), e.g. "auto's
    probe (img/s, x not compiled, transposed): compiled, sub-pixel 120.0
    (1.50x, chosen); not compiled, transposed 80.0 (1.00x); ...", then the
    candidates that failed and why."""
    rates = probe.get("rates", {})
    default = next(iter(rates), None)
    parts = []
    for name, rate in sorted(rates.items(), key=lambda item: -item[1]):
        notes = [f"{rate / rates[default]:.2f}x"] + (
            ["chosen"] if name == chosen else []
        )
        parts.append(f"{name} {rate:.1f} ({', '.join(notes)})")
    parts += [
        f"{name} failed ({why})" for name, why in probe.get("skipped", {}).items()
    ]
    return f"auto's probe (img/s, x {default}): " + "; ".join(parts)


def format_table(result: dict) -> str:
    """The figures of one run as a Markdown table between a title and notes.

    Args:
        result: what `run_benchmark` returns (or its JSON, read back).

    Returns:
        The title line (preset, steps), the CPU line, the table, then one
        line each for the ceilings and for every peer not timed and why.
    """
    shape = "x".join(map(str, result["image_shape"]))
    ceilings = ", ".join(
        f"{name} {rate / 1e9:.0f}"
        for name, rate in result["matmul_flops_per_second"].items()
    )
    lines = [
        f"{result['dataset']} {shape}, batch {result['batch_size']}, "
        f"{result['steps']} steps per path in blocks of {result['block']}",
    ]
    if "cpu" in result:
        lines.append(f"CPU: {describe(result['cpu'])}")
    lines += [
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(result)]
    if result.get("execution"):
        lines.append(f"fit path {result['execution']}")
    if result.get("candidates"):
        lines.append(probe_line(result["candidates"], result.get("chosen")))
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
    # One line per reason (without torch both peers share one).
    lines += list(dict.fromkeys(result.get("not_timed", {}).values()))
    return "\n".join(lines)
