"""The table `python -m dcgan_tf.evaluate` prints: the record of
`dcgan_tf.quality.evaluation.evaluate` as lines, metric by metric, and a
conditional generator's classes one by one.

Imports nothing heavy, so that the command's `--help` loads no Keras.
"""


def format_table(record: dict) -> str:
    """The record of `quality.evaluation.evaluate` as the lines to print."""
    values = record["metrics"]
    lines = [
        f"features   {record['features'] or '-'}",
        f"real       {record['dataset']} {record['real_split']}: "
        f"{record['num_real']} images",
        f"compared   {record['source']}: {record['num_samples']} images",
        "",
        f"{'metric':<8} value",
    ]
    if "fid" in values:
        lines.append(f"{'FID':<8} {values['fid']:.3f}")
    if "kid" in values:
        lines.append(
            f"{'KID':<8} {values['kid']:.5f} ± {values['kid_std']:.5f}  "
            "(unscaled: not x 100 or x 1000 as some papers print it)"
        )
    if "is" in values:
        lines.append(
            f"{'IS':<8} {values['is']:.3f} ± {values['is_std']:.3f}"
            f"  (real {record['real_split']}: {values['is_real']:.3f})"
        )
    if "precision" in values:
        lines.append(
            f"{'precision':<8} {values['precision']:.3f}  (realism: share of "
            "samples among real images)"
        )
        lines.append(
            f"{'recall':<8} {values['recall']:.3f}  (coverage: share of real "
            "images the samples reach)"
        )
    if "artifacts" in values:
        lines.append(f"{'artifacts':<8} {values['artifacts']:.3f}  (real: about 1)")
    if "periodic" in values:
        lines.append(f"{'periodic':<8} {values['periodic']:.3f}  (real: about 1)")
    if "memorisation" in values:
        check = record["memorisation"]
        lines.append(
            f"{'memorisation':<8} {values['memorisation']:.3f}  (samples' "
            f"distance to training images over held-out ({check['heldout']}) "
            "images'; about 1: no copying)"
        )
        lines.append(
            f"{'copies':<8} {_percent(values['memorisation_copies'])}  (samples "
            "nearer a training image than 5 % of held-out images are)"
        )
    if "classes" in record:
        lines += ["", *format_classes(record["classes"])]
    return "\n".join(lines)


def _percent(value) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def format_classes(classes: dict) -> list[str]:
    """The per-class lines of a conditional generator's record: class
    consistency beside the classifier's accuracy on real images (the
    ceiling), and FID, class by class."""
    judged = "class_consistency" in classes
    width = max(len("class"), *map(len, classes["per_class"]))
    header = f"{'class':<{width}}  {'FID':>8}"
    if judged:
        header += f"  {'consistency':>11}  {'real (ceiling)':>14}"
    lines = [header]
    for name, entry in classes["per_class"].items():
        fid = "–" if entry["fid"] is None else f"{entry['fid']:.3f}"
        line = f"{name:<{width}}  {fid:>8}"
        if judged:
            line += (
                f"  {_percent(entry['consistency']):>11}"
                f"  {_percent(entry['classifier_accuracy']):>14}"
            )
        lines.append(line)
    if judged:
        lines.append(
            f"{'overall':<{width}}  {'':>8}  "
            f"{_percent(classes['class_consistency']):>11}  "
            f"{_percent(classes['classifier_accuracy']):>14}"
        )
        lines.append(
            "class consistency: the share of samples the classifier assigns to "
            f"the class asked for (lowest class: "
            f"{_percent(classes['class_consistency_min'])})"
        )
    return lines
