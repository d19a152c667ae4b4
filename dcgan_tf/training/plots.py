"""The run's plot, `losses.png`: step curves of the losses and of D's outputs
(and ADA's p), with epoch boundaries marked, and the quality metrics at epoch
ends.

Drawn on a bare matplotlib `Figure`, so a notebook's backend is left alone.
"""

import math

import numpy as np

PANELS = (
    (
        "Losses",
        ("d_loss", "g_loss"),
        # Where each loss sits when D cannot tell real from fake (D(x) = 1/2).
        (
            (2 * math.log(2), "d_loss at balance: 2 ln 2", "C0"),
            (math.log(2), "g_loss at balance: ln 2", "C1"),
        ),
    ),
    ("Discriminator outputs", ("d_real", "d_fake"), ((0.5, "1/2", "grey"),)),
    (
        "Discriminator accuracy",
        ("d_real_accuracy", "d_fake_accuracy"),
        ((0.5, "chance", "grey"),),
    ),
)
QUALITY = ("kid", "fid")
# Under ADA: the probability of each augmentation, steered by D's accuracy.
AUGMENTATION = ("Augmentation probability (ADA)", ("augment_p",), ())


def smooth(values, weight: float = 0.6) -> np.ndarray:
    """TensorBoard's smoothing: an exponential moving average, debiased at the
    start so the first points are not pulled towards zero."""
    values = np.asarray(values, dtype=float)
    out, average = np.empty_like(values), 0.0
    for i, value in enumerate(values):
        average = weight * average + (1 - weight) * value
        out[i] = average / (1 - weight ** (i + 1))
    return out


def _series(rows, name, x="step"):
    pairs = [(float(r[x]), float(r[name])) for r in rows if r.get(name, "") != ""]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def plot_run(step_rows, epoch_rows, steps_per_epoch: int, path) -> None:
    """Draws the run's curves into `path` (a PNG); see `draw_run`."""
    draw_run(step_rows, epoch_rows, steps_per_epoch).savefig(
        path, dpi=100, format="png"
    )


def draw_run(step_rows, epoch_rows, steps_per_epoch: int):
    """The run's curves, one panel per kind, all on the same step axis.

    Args:
        step_rows: `steps.csv` rows: `step` and each metric, averaged over
            the steps since the row before.
        epoch_rows: `metrics.csv` rows: `epoch` and the epoch's metrics,
            `kid`/`fid` where measured.
        steps_per_epoch: to mark epoch boundaries and place epoch rows.

    Returns:
        A matplotlib `Figure`.
    """
    from matplotlib.figure import Figure

    for row in epoch_rows:
        row.setdefault("step", int(row["epoch"]) * steps_per_epoch)
    quality = [q for q in QUALITY if any(r.get(q, "") != "" for r in epoch_rows)]
    panels = list(PANELS) + [
        (f"{q.upper()} (lower is better)", (q,), ()) for q in quality
    ]
    if any(r.get(AUGMENTATION[1][0], "") != "" for r in step_rows):
        panels.append(AUGMENTATION)
    figure = Figure(figsize=(4.5 * len(panels), 3.6))
    # One step axis for every panel: the quality metric's few points too.
    axes = figure.subplots(1, len(panels), squeeze=False, sharex=True)[0]
    last_step = max([int(float(r["step"])) for r in step_rows + epoch_rows] or [0])
    boundaries = range(steps_per_epoch, last_step + 1, steps_per_epoch)
    for axis, (title, names, references) in zip(axes, panels):
        for color, name in enumerate(names):
            rows = epoch_rows if name in QUALITY else step_rows
            x, y = _series(rows, name)
            if not len(x):
                continue
            if name in QUALITY or len(x) < 4:
                axis.plot(x, y, f"C{color}", marker="o", label=name)
            else:
                axis.plot(x, y, f"C{color}", alpha=0.25, linewidth=0.8)
                axis.plot(x, smooth(y), f"C{color}", label=name)
        for value, label, color in references:
            axis.axhline(value, color=color, linestyle=":", linewidth=0.9)
            axis.annotate(
                label,
                (0.99, value),
                xycoords=("axes fraction", "data"),
                ha="right",
                va="bottom",
                fontsize=8,
                color=color,
            )
        if len(boundaries) <= 60:  # beyond that, lines would hide the curves
            for step in boundaries:
                axis.axvline(step, color="grey", alpha=0.5, linewidth=0.8, ls="--")
        axis.set_title(title)
        axis.set_xlabel("step (dashed: epoch ends)")
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend()
    axes[0].set_xlim(0, max(last_step, 1) * 1.02)
    figure.tight_layout()
    return figure
