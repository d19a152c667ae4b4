"""The training recipes (`--recipe paper|modern`, issue #19) on a folder of
photographs, measured over training.

Trains one recipe as `python -m dcgan_tf.train --dataset folder` (or
`biked`) would, in this process, and every `--eval-every` steps measures the
generator: FID on the features of `--classifier` (the flowers network of
`benchmarks/flowers_classifier.py`, `--samples` samples against the whole
folder), the checkerboard artifact measure (`dcgan_tf.quality.artifacts`: the
samples' score over the folder's, about 1 for photographs), and, every
`--log-every` steps, D's accuracy on real images and ADA's p. The classifier
sees 64x64 images: larger samples, and the folder read at their size, are
resized to 64x64 (antialiased) before it; the artifact measure sees them at
their own size. The JSON is written after every measurement, so a run cut
short keeps its points; the latest sample grid (64 fixed latents, the trained
generator) is written beside it, and with `--snapshots DIR` the generator of
every evaluation, so that `--rescore` can measure FID again on another
network.

    python benchmarks/recipes.py --dataset folder \\
        --data-dir /tmp/flowers/flowers128 --recipe modern --filters 32 \\
        --batch-size 32 --steps 3000 --eval-every 500 --log-every 100 \\
        --classifier benchmarks/results/flowers/classifier_augmented.weights.h5 \\
        --json benchmarks/results/recipes/flowers_64_modern.json
"""

import argparse
import json
import os
import shlex
import time
from pathlib import Path

import records

FEATURE_SIZE = 64
# Samples the memorisation check compares with the folder (as `evaluate`'s).
MEMORISATION_SAMPLES = 1000


def parse_value(text):
    """`--set` values: JSON where it parses (numbers, true, null), else text."""
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text


def fid_network(path):
    """The flowers classifier's features, fed 64x64 images of any size."""
    import numpy as np
    import tensorflow as tf

    from dcgan_tf.quality.classifiers import build_classifier
    from dcgan_tf.quality.features import ClassifierFeatures

    classifier = build_classifier((FEATURE_SIZE, FEATURE_SIZE, 3), 5)
    classifier.load_weights(path)
    features = ClassifierFeatures(classifier=classifier)

    def resized(batches):
        for batch in [batches] if isinstance(batches, np.ndarray) else batches:
            if batch.shape[1] != FEATURE_SIZE:
                x = tf.image.resize(batch, (FEATURE_SIZE,) * 2, antialias=True)
                batch = np.clip(np.rint(x.numpy()), 0, 255).astype(np.uint8)
            yield batch

    return features, resized


class Meter:
    """Measures generators against the folder: FID, precision and recall (if
    a classifier is given), the checkerboard and periodic artifact measures,
    and, when asked, the memorisation check."""

    def __init__(self, config, classifier, samples):
        from dcgan_tf.data import load_images
        from dcgan_tf.quality.artifacts import checkerboard_score
        from dcgan_tf.quality.periodic import periodic_share

        self.config = config
        self.samples = samples
        real = load_images(
            config.dataset, config.data_dir, config.image_size, fit=config.fit
        )
        self.real_count = len(real)
        self.real_artifacts = checkerboard_score(real)
        self.real_periodic = periodic_share(real)
        self.features = None
        if classifier:
            self.features, self.resized = fid_network(classifier)
            small = load_images(
                config.dataset, config.data_dir, FEATURE_SIZE, fit=config.fit
            )
            self.real = self.features.extract(small, keep=True)

    def __call__(self, generator, memorisation=False) -> dict:
        import numpy as np

        from dcgan_tf.quality.artifacts import CheckerboardSpectrum
        from dcgan_tf.quality.evaluation import (
            compare,
            memorisation_check,
            sample_images,
        )
        from dcgan_tf.quality.periodic import PeriodicSpectrum, periodic_ratio

        spectrum, periodic = CheckerboardSpectrum(), PeriodicSpectrum()
        kept = []

        def keep(batches):
            for batch in batches:
                if memorisation and sum(map(len, kept)) < MEMORISATION_SAMPLES:
                    kept.append(batch)
                yield batch

        batches = periodic.watch(
            spectrum.watch(keep(sample_images(generator, self.samples, seed=0)))
        )
        point = {}
        if self.features is not None:
            fake = self.features.extract(self.resized(batches), keep=True)
            point.update(compare(self.real, fake, ("fid", "pr")))
        else:
            for _ in batches:
                pass
        point["artifacts"] = spectrum.score() / self.real_artifacts
        point["periodic"] = periodic_ratio(periodic.score(), self.real_periodic)
        if memorisation:
            config = self.config
            check = memorisation_check(
                np.concatenate(kept)[:MEMORISATION_SAMPLES],
                config.dataset,
                config.data_dir,
                config.image_size,
                config.fit,
            )
            point["memorisation"] = check["ratio"]
            point["copy_share"] = check["copy_share"]
        return point


def rescore(args):
    """Measures FID on every snapshot a record lists, keeping each figure in
    `<record>_fid.json` as it comes (so it can run beside the training, which
    rewrites the record); once the run has ended, writes them into it."""
    import keras

    from dcgan_tf.config import TrainConfig
    from dcgan_tf.system import files

    result = json.loads(Path(args.json).read_text())
    cache_path = Path(args.json.replace(".json", "_fid.json"))
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    config = TrainConfig(**result["config"])
    meter = None
    for point in result["curve"]:
        snapshot = point.get("snapshot")
        if snapshot and snapshot not in cache and Path(snapshot).is_file():
            meter = meter or Meter(config, args.classifier, result["samples"])
            generator = keras.models.load_model(snapshot, compile=False)
            cache[snapshot] = meter(generator)["fid"]
            files.write_json(cache_path, cache)
            print(json.dumps({"step": point["step"], "fid": cache[snapshot]}))
    if "load_average_end" in result:  # the run has ended
        for point in result["curve"]:
            if point.get("snapshot") in cache:
                point["fid"] = cache[point["snapshot"]]
        result["classifier"] = args.classifier
        result["fid_measured_by"] = shlex.join(
            ["python", "benchmarks/recipes.py", "--rescore", "--classifier"]
            + [args.classifier, "--json", args.json]
        )
        files.write_json(args.json, result)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=("folder", "biked"), default="folder")
    parser.add_argument("--data-dir")
    parser.add_argument("--recipe", help="paper or modern (default: train's).")
    parser.add_argument("--image-size", type=int, help="Default: the preset's.")
    parser.add_argument("--fit", default="crop", choices=("crop", "pad"))
    parser.add_argument("--filters", type=int, help="G's and D's (default: 64).")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--classifier", help="Weights for the FID features.")
    parser.add_argument("--steps", type=int, default=3000, help="At most.")
    parser.add_argument(
        "--minutes",
        type=float,
        help="Training budget: stop after the chunk that reaches it (wall "
        "minutes of fit, measurements excluded).",
    )
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--log-every", type=int, help="Default: --eval-every.")
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--snapshots", help="Folder for each evaluation's G.")
    parser.add_argument("--threads", type=int, default=0, help="0: TF's choice.")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rescore", action="store_true", help="FID of --json's.")
    parser.add_argument("--json", required=True)
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    if args.rescore:
        return rescore(args)
    from dcgan_tf.config import TrainConfig
    from dcgan_tf.data import load_images, make_dataset
    from dcgan_tf.model import build_dcgan
    from dcgan_tf.sampling.images import save_grid, to_uint8
    from dcgan_tf.sampling.latents import sample_latents
    from dcgan_tf.system import files

    log_every = args.log_every or args.eval_every
    if args.eval_every % log_every or args.steps % log_every:
        parser.error("--eval-every and --steps must be multiples of --log-every")
    extra = dict(item.split("=", 1) for item in args.set)
    if args.recipe:
        extra["recipe"] = args.recipe
    if args.filters:
        extra.update(generator_filters=args.filters, discriminator_filters=args.filters)
    config = TrainConfig(
        dataset=args.dataset,
        data_dir=args.data_dir,
        image_size=args.image_size,
        fit=args.fit,
        batch_size=args.batch_size,
        steps_per_epoch=log_every,
        epochs=args.steps // log_every,
        seed=args.seed,
        **{k: parse_value(v) for k, v in extra.items()},
    ).resolve()
    config.validate()
    keras.utils.set_random_seed(config.seed)
    train = load_images(
        config.dataset, config.data_dir, config.image_size, fit=args.fit
    )
    meter = Meter(config, args.classifier, args.samples)
    model = build_dcgan(config)
    dataset = make_dataset(train, config.batch_size, config.seed)

    result = {
        "what": __doc__.split("\n\n")[0],
        "command": records.command(),
        "config": config.to_dict(),
        "classifier": args.classifier,
        "train_images": len(train),
        "samples": args.samples,
        "load_average_start": os.getloadavg()[0],
        "curve": [],
    }
    latents = sample_latents(64, config.latent_dim, seed=0)
    grid = args.json.replace(".json", "_trained.png")
    start, training = time.time(), 0.0
    for chunk in range(config.epochs):
        began = time.time()
        point = records.fit_chunk(model, dataset, config, chunk)
        training += time.time() - began
        point["train_minutes"] = training / 60
        point["images_per_second"] = point["step"] * config.batch_size / training
        last = chunk + 1 == config.epochs or (
            args.minutes is not None and training >= args.minutes * 60
        )
        if point["step"] % args.eval_every == 0 or last:
            generator = model.generator
            point.update(meter(generator, memorisation=last))
            save_grid(to_uint8(generator.predict(latents, verbose=0)), grid)
            if args.snapshots:
                path = Path(args.snapshots) / f"generator_{point['step']:06d}.keras"
                point["snapshot"] = str(files.save_model(generator, path))
        point["minutes"] = (time.time() - start) / 60
        point["load_average"] = os.getloadavg()[0]
        result["curve"].append(point)
        records.save(args.json, result, shown=point)
        if last:
            break
    result["load_average_end"] = os.getloadavg()[0]
    records.save(args.json, result)


if __name__ == "__main__":
    main()
