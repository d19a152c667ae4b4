"""Prints `benchmarks/recipes.py`'s records as one Markdown table: the last
measured point (FID on the flowers network, the artifact measure), the best
FID and its step, and D's accuracy on real images and ADA's p at the end.

python benchmarks/recipes_table.py benchmarks/results/recipes/flowers_*.json
"""

import argparse
import json
from pathlib import Path

from recipes_plot import label


def _value(point, key, digits=1):
    return f"{point[key]:.{digits}f}" if key in point else "-"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("records", nargs="+")
    args = parser.parse_args()
    print(
        "| run | size, filters, batch | steps | FID (last) | best FID @ step "
        "| artifacts (last) | D real acc. | p | minutes |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for path in args.records:
        record = json.loads(Path(path).read_text())
        config, curve = record["config"], record["curve"]
        measured = [p for p in curve if "artifacts" in p]
        last, end = measured[-1], curve[-1]
        scored = [p for p in measured if "fid" in p]
        best = min(scored, key=lambda p: p["fid"]) if scored else None
        best_text = f"{best['fid']:.1f} @ {best['step']:,}" if best else "-"
        size = config["image_size"]
        print(
            f"| {Path(path).stem}: `{label(record)}` "
            f"| {size}x{size}, {config['generator_filters']}, {config['batch_size']} "
            f"| {last['step']:,} | {_value(last, 'fid')} | {best_text} "
            f"| {_value(last, 'artifacts', 2)} | {end['d_real_accuracy']:.2f} "
            f"| {end.get('augment_p', 0.0):.2f} | {end['minutes']:.0f} |"
        )


if __name__ == "__main__":
    main()
