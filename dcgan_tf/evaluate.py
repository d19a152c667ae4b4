"""Measure a trained generator (or a real split) with FID, KID and IS.

`python -m dcgan_tf.evaluate RUN_OR_FILE` samples the generator of a run
directory (or a `.keras` generator file), compares its images with a real
split of the data set on the features of `dcgan_tf.metrics`, prints a table
and optionally writes the numbers as JSON. `--compare-real train` measures
the real training split instead of a generator: the floor a perfect
generator would reach.
"""

import argparse
import datetime
import json
import sys
from pathlib import Path

import numpy as np

from dcgan_tf import metrics as quality

CONFIG_NAME = "config.json"
GENERATOR_NAME = "generator.keras"

EPILOG = """examples:
  python -m dcgan_tf.evaluate checkpoints/00000-fashion_mnist --num-samples 10000 \\
      --json fid.json
  python -m dcgan_tf.evaluate checkpoints/00001-cifar10/generator_best.keras \\
      --features inception --inception-weights ~/inception_v3_weights.h5
  python -m dcgan_tf.evaluate --compare-real train --dataset fashion_mnist \\
      --data-dir ../shared/data/fashion-mnist --num-samples 10000
"""


def _locate(path: Path) -> tuple[Path, dict]:
    """Returns the generator file and the run's config (empty when none)."""
    if path.is_dir():
        file, config = path / GENERATOR_NAME, path / CONFIG_NAME
        if not file.is_file():
            raise FileNotFoundError(
                f"{path} holds no {GENERATOR_NAME}; pass a run directory a finished "
                "training wrote, or a .keras generator file."
            )
    elif path.is_file():
        file, config = path, path.parent / CONFIG_NAME
    else:
        raise FileNotFoundError(f"{path} does not exist.")
    return file, json.loads(config.read_text()) if config.is_file() else {}


def _subset(images: np.ndarray, count: int | None, seed: int) -> np.ndarray:
    """A seeded random subset: data sets read from class folders come sorted."""
    if count is None or count >= len(images):
        return images
    rng = np.random.default_rng(seed)
    return images[np.sort(rng.choice(len(images), count, replace=False))]


def _table(result: dict) -> str:
    values = result["metrics"]
    lines = [
        f"features   {result['features']}",
        f"real       {result['dataset']} {result['real_split']}: "
        f"{result['num_real']} images",
        f"compared   {result['source']}: {result['num_samples']} images",
        "",
        f"{'metric':<8} value",
    ]
    if "fid" in values:
        lines.append(f"{'FID':<8} {values['fid']:.3f}")
    if "kid" in values:
        lines.append(f"{'KID':<8} {values['kid']:.5f} ± {values['kid_std']:.5f}")
    if "is" in values:
        lines.append(
            f"{'IS':<8} {values['is']:.3f} ± {values['is_std']:.3f}"
            f"  (real {result['real_split']}: {values['is_real']:.3f})"
        )
    return "\n".join(lines)


def run(args) -> dict:
    """Does what the command line asks; returns the JSON record."""
    import keras

    from dcgan_tf.data import load_images

    if args.run_or_file is None and args.compare_real is None:
        raise ValueError("pass a run directory or .keras file, or --compare-real.")
    config = {}
    if args.run_or_file is not None:
        file, config = _locate(Path(args.run_or_file))
    dataset = args.dataset or config.get("dataset")
    if dataset is None:
        raise ValueError("--dataset is needed: no config.json beside the generator.")
    data_dir = args.data_dir or config.get("data_dir")
    size = config.get("image_size")
    features = quality.feature_extractor(
        args.features, dataset, inception_weights=args.inception_weights
    )
    real = load_images(dataset, data_dir=data_dir, image_size=size, split=args.split)
    real = _subset(real, args.num_real, args.seed)
    real_features = features.extract(real)
    record = {
        "dataset": dataset,
        "real_split": args.split,
        "features": features.name,
        "seed": args.seed,
    }
    if args.compare_real is not None:
        other = load_images(
            dataset, data_dir=data_dir, image_size=size, split=args.compare_real
        )
        other = _subset(other, args.num_samples, args.seed + 1)
        values = quality.compare(
            real_features, features.extract(other), args.metrics, seed=args.seed
        )
        values.update(num_samples=len(other), num_real=real_features.count)
        record["source"] = f"real {args.compare_real} split"
    else:
        generator = keras.models.load_model(file, compile=False)
        distribution = args.latent_distribution or config.get(
            "latent_distribution", "normal"
        )
        values = quality.evaluate_generator(
            generator,
            real_features,
            features,
            num_samples=args.num_samples,
            metrics=args.metrics,
            latent_distribution=distribution,
            seed=args.seed,
        )
        record["source"] = str(file)
        record["latent_distribution"] = distribution
    record["num_samples"] = values.pop("num_samples")
    record["num_real"] = values.pop("num_real")
    record["metrics"] = values
    record["command"] = "python -m dcgan_tf.evaluate " + " ".join(args.argv)
    record["date"] = datetime.date.today().isoformat()
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m dcgan_tf.evaluate",
        description="Measure a generator's images against a real split with FID, "
        "KID and the Inception Score.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "run_or_file",
        nargs="?",
        metavar="RUN_OR_FILE",
        help="A run directory (with generator.keras and config.json) or a .keras "
        "generator file.",
    )
    parser.add_argument(
        "--dataset", help="Data set to compare with (default: the run's)."
    )
    parser.add_argument(
        "--data-dir", help="Where the data set's files are (default: the run's)."
    )
    parser.add_argument(
        "--split",
        default="test",
        choices=("train", "test"),
        help="Real split compared against (default: test, which training never saw).",
    )
    parser.add_argument(
        "--compare-real",
        choices=("train", "test"),
        help="Measure this real split instead of a generator (the floor of the "
        "metrics); RUN_OR_FILE is then not needed.",
    )
    parser.add_argument(
        "--features",
        default="classifier",
        choices=quality.FEATURES,
        help="Feature network: 'classifier' (shipped, offline; fashion_mnist and "
        "cifar10) or 'inception' (InceptionV3 ImageNet, the literature's).",
    )
    parser.add_argument(
        "--inception-weights",
        metavar="PATH",
        help=f"Local copy of {quality.INCEPTION_FILE} (default: download it once).",
    )
    parser.add_argument(
        "--metrics",
        nargs="+",
        default=list(quality.METRICS),
        choices=quality.METRICS,
        help="Metrics to compute (default: fid kid is).",
    )
    parser.add_argument(
        "--num-samples",
        type=int,
        default=10_000,
        help="Generated (or --compare-real) images (default: 10000).",
    )
    parser.add_argument(
        "--num-real",
        type=int,
        help="Random subset of the real split to use (default: all of it).",
    )
    parser.add_argument(
        "--latent-distribution",
        choices=("normal", "uniform"),
        help="Distribution of the latents (default: the run's, else normal).",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="Seed of latents and subsets."
    )
    parser.add_argument("--json", metavar="PATH", help="Also write the results here.")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    for name in ("num_samples", "num_real"):
        value = getattr(args, name)
        if value is not None and value < 2:
            parser.error(f"--{name.replace('_', '-')} must be at least 2.")
    try:
        record = run(args)
    except (ValueError, FileNotFoundError, OSError) as error:
        parser.error(str(error).splitlines()[0] if str(error) else repr(error))
    print(_table(record))
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {path}")
    return record


if __name__ == "__main__":
    main()
