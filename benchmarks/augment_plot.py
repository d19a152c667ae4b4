"""Draws `benchmarks/augment.py`'s records over training: FID (trained and
averaged generator), D's accuracy on real images, and ADA's p; with
`--grids`, the runs' last sample grids (written by `augment.py --grids`)
side by side, the trained generator's above the averaged one's.

python benchmarks/augment_plot.py benchmarks/results/flowers/flowers_64_*.json \\
    --out benchmarks/results/flowers/curves.png \\
    --grids benchmarks/results/flowers/grids.png
"""

import argparse
import json
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("records", nargs="+")
    parser.add_argument("--out", required=True, help="A .png file.")
    parser.add_argument("--grids", help="A .png file for the sample grids.")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for path in args.records:
        record = json.loads(Path(path).read_text())
        label = record["config"]["augment"]
        curve = record["curve"]
        evaluated = [point for point in curve if "fid" in point]
        steps = [point["step"] for point in evaluated]
        (line,) = axes[0].plot(
            steps, [p["fid"] for p in evaluated], "o-", label=f"{label}"
        )
        axes[0].plot(
            steps,
            [p["fid_ema"] for p in evaluated],
            "s--",
            color=line.get_color(),
            label=f"{label}, EMA",
        )
        every = [point["step"] for point in curve]
        axes[1].plot(every, [p["d_real_accuracy"] for p in curve], label=label)
        axes[2].plot(every, [p.get("augment_p", 0.0) for p in curve], label=label)
    titles = ("FID (lower is better)", "D's accuracy on real images", "ADA's p")
    for axis, title in zip(axes, titles, strict=True):
        axis.set_title(title)
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(args.out, dpi=100)
    print(args.out)
    if args.grids:
        draw_grids(plt, args.records, args.grids)


def draw_grids(plt, records, out):
    figure, axes = plt.subplots(
        2, len(records), figsize=(5 * len(records), 10.4), squeeze=False
    )
    for column, path in enumerate(records):
        record = json.loads(Path(path).read_text())
        last = [point for point in record["curve"] if "fid" in point][-1]
        for row, (kind, fid) in enumerate((("trained", "fid"), ("ema", "fid_ema"))):
            axis = axes[row, column]
            axis.imshow(plt.imread(path.replace(".json", f"_{kind}.png")))
            label = "" if kind == "trained" else ", EMA"
            axis.set_title(
                f"--augment {record['config']['augment']}{label}: step "
                f"{last['step']:,}, FID {last[fid]:.1f}"
            )
            axis.axis("off")
    figure.tight_layout()
    figure.savefig(out, dpi=100)
    print(out)


if __name__ == "__main__":
    main()
