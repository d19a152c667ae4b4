"""Prints the representation probe's results (the JSON files of
`python -m dcgan_tf.represent --json`) as Markdown tables, one per data set:
a line per method, a column per number of labels, for docs/representations.md.

    python benchmarks/represent_table.py benchmarks/results/represent/*.json
"""

import json
import sys


def cell(row) -> str:
    text = f"{100 * row['mean']:.1f}"
    return text + (f" ± {100 * row['std']:.1f}" if row["draws"] > 1 else "")


def main(paths) -> None:
    tables = {}  # (data set, epoch) -> {method: {labels: row}}
    for path in paths:
        with open(path) as file:
            record = json.load(file)
        table = tables.setdefault((record["dataset"], record["epoch"]), {})
        for row in record["rows"]:
            table.setdefault(row["method"], {})[row["labels_per_class"]] = row
    for (dataset, epoch), table in tables.items():
        counts = sorted(
            {count for rows in table.values() for count in rows},
            key=lambda count: float("inf") if count is None else count,
        )
        names = [f"{count}/class" if count else "all" for count in counts]
        print(f"\n{dataset}, D after {epoch} epochs (test accuracy %):\n")
        print("| method | features | " + " | ".join(names) + " |")
        print("|---|---:|" + "---:|" * len(counts))
        for method, rows in table.items():
            features = next(iter(rows.values()))["features"] or "-"
            cells = [cell(rows[count]) if count in rows else "-" for count in counts]
            print(f"| {method} | {features} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
