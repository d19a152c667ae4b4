"""Prints `benchmarks/recipes.py`'s records as one Markdown table: the last
measured point (or, with `--minutes`, the one nearest that training time:
FID, precision and recall on the flowers network, the
checkerboard and periodic artifact measures, the memorisation ratio where the
record has them), the best FID and its step, the training minutes and img/s,
and D's accuracy on real images and ADA's p at the end.

python benchmarks/recipes_table.py benchmarks/results/recipes/flowers_*.json
"""

import argparse
import json
from pathlib import Path

from recipes_plot import label


def _value(point, key, digits=1):
    return f"{point[key]:.{digits}f}" if key in point else "-"


def _minutes(point) -> float:
    """Training minutes (records before they were kept: all the minutes)."""
    return point.get("train_minutes", point["minutes"])


def _mean_fid(scored, steps) -> str:
    """The mean FID of the points in the last `steps` steps, and how many."""
    if not scored:
        return "-"
    last = scored[-1]["step"]
    values = [p["fid"] for p in scored if p["step"] > last - steps]
    return f"{sum(values) / len(values):.1f} ({len(values)})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("records", nargs="+")
    parser.add_argument(
        "--minutes",
        type=float,
        help="Take each record's measured point nearest this many training "
        "minutes (a record made before --minutes existed, at the same budget) "
        "instead of its last.",
    )
    parser.add_argument(
        "--mean-over",
        type=int,
        metavar="STEPS",
        help="Add the mean FID of the evaluations in each run's last STEPS steps "
        "(FID moves between evaluations; one point can mislead).",
    )
    args = parser.parse_args()
    print(
        "| run | size, filters, batch | steps | training min. | img/s | FID (last) "
        "| best FID @ step | precision | recall | artifacts | periodic "
        "| memorisation | D real acc. | p |" + (" mean FID |" if args.mean_over else "")
    )
    print("|---" * (15 if args.mean_over else 14) + "|")
    for path in args.records:
        record = json.loads(Path(path).read_text())
        config, curve = record["config"], record["curve"]
        measured = [p for p in curve if "artifacts" in p]
        last = measured[-1]
        if args.minutes is not None:
            last = min(measured, key=lambda p: abs(_minutes(p) - args.minutes))
            measured = [p for p in measured if p["step"] <= last["step"]]
        end = last
        scored = [p for p in measured if "fid" in p]
        best = min(scored, key=lambda p: p["fid"]) if scored else None
        best_text = f"{best['fid']:.1f} @ {best['step']:,}" if best else "-"
        size = config["image_size"]
        minutes = _minutes(end)
        speed = end["step"] * config["batch_size"] / (minutes * 60)
        print(
            f"| {Path(path).stem}: `{label(record)}` "
            f"| {size}x{size}, {config['generator_filters']}, {config['batch_size']} "
            f"| {last['step']:,} | {minutes:.0f} | {speed:.1f} "
            f"| {_value(last, 'fid')} | {best_text} "
            f"| {_value(last, 'precision', 2)} | {_value(last, 'recall', 2)} "
            f"| {_value(last, 'artifacts', 2)} | {_value(last, 'periodic', 2)} "
            f"| {_value(last, 'memorisation', 2)} | {end['d_real_accuracy']:.2f} "
            f"| {end.get('augment_p', 0.0):.2f} |"
            + (f" {_mean_fid(scored, args.mean_over)} |" if args.mean_over else "")
        )


if __name__ == "__main__":
    main()
