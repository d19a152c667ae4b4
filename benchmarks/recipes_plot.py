"""Draws `benchmarks/recipes.py`'s records over training: FID on the flowers
network, the artifact measure (1: as the photographs), D's accuracy on real
images and ADA's p; with `--grids`, the runs' last sample grids side by side
(the same 64 latents), after 64 real photos from `--real` if given.

python benchmarks/recipes_plot.py benchmarks/results/recipes/flowers_64_*.json \\
    --out benchmarks/results/recipes/flowers_64_curves.png \\
    --grids benchmarks/results/recipes/flowers_64_grids.png \\
    --real /tmp/flowers/flowers128
"""

import argparse
import json
from pathlib import Path


def label(record) -> str:
    """`--recipe NAME` and the options the run changed from it."""
    from dcgan_tf.config import RECIPES

    config = record["config"]
    recipe = config.get("recipe", "paper")  # runs before --recipe: the paper's
    changed = [
        f"--{key.replace('_', '-')} {config[key]}"
        for key, value in RECIPES[recipe].items()
        if value is not None and config.get(key, value) != value
    ]
    if config.get("seed", 42) != 42:
        changed.append(f"--seed {config['seed']}")
    return " ".join([f"--recipe {recipe}", *changed])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("records", nargs="+")
    parser.add_argument("--out", required=True, help="A .png file.")
    parser.add_argument("--grids", help="A .png file for the sample grids.")
    parser.add_argument("--real", help="The photo folder, for a grid of it.")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 4, figsize=(17, 3.6))
    for path in args.records:
        record = json.loads(Path(path).read_text())
        curve = record["curve"]
        measured = [p for p in curve if "artifacts" in p]
        scored = [p for p in measured if "fid" in p]
        (line,) = axes[0].plot(
            [p["step"] for p in scored], [p["fid"] for p in scored], "o-"
        )
        line.set_label(label(record))
        axes[1].plot(
            [p["step"] for p in measured],
            [p["artifacts"] for p in measured],
            "o-",
            label=label(record),
        )
        steps = [p["step"] for p in curve]
        axes[2].plot(steps, [p["d_real_accuracy"] for p in curve], label=label(record))
        axes[3].plot(
            steps, [p.get("augment_p", 0.0) for p in curve], label=label(record)
        )
    axes[1].axhline(1.0, color="grey", linestyle=":", label="photos")
    axes[1].set_yscale("log")
    titles = (
        "FID, flowers network (lower is better)",
        "artifact measure (photos: 1)",
        "D's accuracy on real images",
        "ADA's p",
    )
    for axis, title in zip(axes, titles, strict=True):
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(args.out, dpi=100)
    print(args.out)
    if args.grids:
        draw_grids(plt, args.records, args.grids, args.real)


def real_grid(folder, size):
    import numpy as np

    from dcgan_tf.data import load_images
    from dcgan_tf.quality.evaluation import random_subset
    from dcgan_tf.sampling.images import make_grid

    images = random_subset(load_images("folder", folder, size), 64, seed=0)
    return make_grid(np.asarray(images))


def draw_grids(plt, records, out, real=None):
    records = [json.loads(Path(p).read_text()) | {"path": p} for p in records]
    panels = len(records) + bool(real)
    figure, axes = plt.subplots(1, panels, figsize=(6 * panels, 6.4), squeeze=False)
    axes = list(axes[0])
    if real:
        axis = axes.pop(0)
        axis.imshow(real_grid(real, records[0]["config"]["image_size"]))
        axis.set_title("64 of the photos")
        axis.axis("off")
    for axis, record in zip(axes, records, strict=True):
        last = [point for point in record["curve"] if "artifacts" in point][-1]
        axis.imshow(plt.imread(record["path"].replace(".json", "_trained.png")))
        fid = f", FID {last['fid']:.1f}" if "fid" in last else ""
        axis.set_title(
            f"{label(record)}: step {last['step']:,}{fid}, "
            f"artifacts {last['artifacts']:.2f}"
        )
        axis.axis("off")
    figure.tight_layout()
    figure.savefig(out, dpi=100)
    print(out)


if __name__ == "__main__":
    main()
