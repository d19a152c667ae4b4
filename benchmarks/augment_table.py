"""The augmentation table of docs/small-data.md from `benchmarks/augment.py`'s records.

python benchmarks/augment_table.py benchmarks/results/augment/*.json
"""

import json
import sys
from pathlib import Path


def row(path: Path) -> str:
    record = json.loads(path.read_text())
    curve = record["curve"]
    config = record["config"]
    steps = curve[-1]["step"]
    evaluated = [point for point in curve if "fid" in point]
    cells = [
        "flowers (folder)" if config["dataset"] == "folder" else config["dataset"],
        f"{record['train_images']:,}",
        config["augment"],
        f"{steps:,}"
        + ("" if config["seed"] == 42 else f" (seed {config['seed']})")
        + ("" if "end_fid" in record else " (cut short)"),
    ]
    for name in ("fid", "fid_ema"):
        values = [point[name] for point in evaluated]
        best = min(values)
        best_step = evaluated[values.index(best)]["step"]
        cells += [f"{best:.1f} @ {best_step:,}", f"{values[-1]:.1f}"]
    cells.append(f"{curve[-1]['d_real_accuracy']:.2f}")
    ada = config["augment"] == "ada"
    cells.append(f"{curve[-1]['augment_p']:.2f}" if ada else "-")
    cells.append(" ".join(f"{point['fid']:.0f}" for point in evaluated))
    return "| " + " | ".join(cells) + " |"


def main(paths):
    print(
        "| data set | training images | --augment | steps | FID best (step) | FID end "
        "| EMA FID best (step) | EMA FID end | D real acc. at end | p at end "
        "| FID every eval |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for path in sorted(map(Path, paths)):
        print(row(path))


if __name__ == "__main__":
    main(sys.argv[1:])
