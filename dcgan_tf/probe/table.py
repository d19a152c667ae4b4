"""The probe's results as a text table: one line per method, one column per
number of labels, each cell the mean test accuracy and its spread over draws."""


def _labels(per_class) -> str:
    return "all" if per_class is None else f"{per_class}/class"


def format_table(report) -> str:
    """A plain-text table of a `Report` (accuracies in %, mean ± std)."""
    counts = list(dict.fromkeys(row.labels_per_class for row in report.rows))
    methods = list(dict.fromkeys(row.method for row in report.rows))
    cells = {(row.method, row.labels_per_class): row for row in report.rows}
    width = max(len("method"), *(len(method) for method in methods))
    header = f"{'method':<{width}}  {'features':>8}" + "".join(
        f"  {_labels(count):>13}" for count in counts
    )
    lines = [header]
    for method in methods:
        features = next(
            (cells[method, c].features for c in counts if (method, c) in cells), None
        )
        line = f"{method:<{width}}  {features if features else '-':>8}"
        for count in counts:
            row = cells.get((method, count))
            if row is None:
                text = "-"
            elif len(row.accuracies) > 1:
                text = f"{100 * row.mean:.1f} ± {100 * row.std:.1f}"
            else:
                text = f"{100 * row.mean:.1f}"
            line += f"  {text:>13}"
        lines.append(line)
    settings = report.settings
    draws = settings["draws"]
    spread = (
        f"mean ± std over {draws} draws of labels (one draw with all)"
        if draws > 1
        else "one draw of labels"
    )
    lines.append(
        f"Test accuracy (%) on {settings['test_images']:,} test images; {spread}; "
        f"{settings['classifier']} classifier, C chosen on a validation split "
        "of the labelled training images."
    )
    return "\n".join(lines)
