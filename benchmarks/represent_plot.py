"""Draws the representation probe's records (`python -m dcgan_tf.represent
--json`) of one D as test accuracy against the number of labels per class:
a line per method (mean over the draws, the bar its standard deviation), the
single blocks dashed; "all" sits at the largest class's count of labels.

python benchmarks/represent_plot.py \\
    benchmarks/results/represent/cifar10_30_epochs*.json \\
    --out benchmarks/results/represent/cifar10_30_epochs.png
"""

import argparse
import json
from pathlib import Path

# The training images per class of each data set's full split, where "all"
# labels are drawn on the axis.
ALL_PER_CLASS = {"cifar10": 5000, "fashion_mnist": 6000, "mnist": 6742}
ORDER = ("dcgan", "untrained", "pixels", "supervised")


def points(records) -> dict:
    """{method: [(labels per class, mean %, std %), ...]} over `records`."""
    found = {}
    for record in records:
        every = ALL_PER_CLASS.get(record["dataset"], record["settings"]["train_images"])
        for row in record["rows"]:
            count = row["labels_per_class"] or every
            found.setdefault(row["method"], {})[count] = (
                100 * row["mean"],
                100 * row["std"],
            )
    return {
        method: sorted((count, *value) for count, value in counts.items())
        for method, counts in found.items()
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("records", nargs="+", help="JSON files of one D.")
    parser.add_argument("--out", required=True, help="A .png file.")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [json.loads(Path(path).read_text()) for path in args.records]
    if len({(r["dataset"], r["discriminator"], r["epoch"]) for r in records}) > 1:
        parser.error("the records are of more than one discriminator")
    lines = points(records)
    figure, axis = plt.subplots(figsize=(7.5, 4.8))
    for method in sorted(lines, key=lambda m: (":" in m, ORDER.index(m.split(":")[0]))):
        counts, means, stds = zip(*lines[method])
        axis.errorbar(
            counts,
            means,
            yerr=stds,
            marker="o",
            capsize=3,
            linestyle="--" if ":" in method else "-",
            linewidth=1 if ":" in method else 2,
            label=method,
        )
    record = records[0]
    axis.set_xscale("log")
    axis.set_xlabel('labelled training images per class ("all": the last point)')
    axis.set_ylabel("test accuracy (%)")
    axis.set_title(
        f"{record['dataset']}: linear probe on D after {record['epoch']} epochs"
    )
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(args.out, dpi=100)
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
