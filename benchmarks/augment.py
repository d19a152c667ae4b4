"""Augmentation and the averaged generator on small and full data (issue #10).

Trains one setting (`--augment`, always with an averaged generator beside
the trained one) on a fixed subset of a classic data set and measures FID
every `--eval-every` steps on the shipped classifier's features, 10,000
samples against the test split, for both generators of the same run: the
trained one ("without EMA") and the averaged one ("with EMA"). The EMA does
not change training, so one run gives both.

The subset is `dcgan_tf.quality.evaluation.random_subset(train, N, seed=0)`:
N images drawn with numpy's default_rng(0), kept in the data set's order.

    python benchmarks/augment.py --dataset fashion_mnist \\
        --data-dir ~/data/fashion-mnist --train-images 600 \\
        --augment ada --steps 4000 --eval-every 500 \\
        --json benchmarks/results/augment/fashion_mnist_600_ada.json

A folder (`--dataset folder`, the flower photographs standing in for BIKED)
has no test split and no shipped classifier: FID compares the samples with
the whole folder, on the features of `--classifier` (trained by
`benchmarks/flowers_classifier.py`). `--log-every` records D's accuracy and
p more often than FID, and `--grids` writes both generators' samples at each
evaluation (the latest kept).
"""

import argparse
import os
import sys
import time

import records


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=("fashion_mnist", "cifar10", "folder"))
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--train-images", type=int, help="Subset size (default all).")
    parser.add_argument("--image-size", type=int, help="Default: the preset's.")
    parser.add_argument("--classifier", help="Weights for the FID features.")
    parser.add_argument("--augment", default="none")
    parser.add_argument("--ema", type=float, default=0.999)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--log-every", type=int, help="Default: --eval-every.")
    parser.add_argument("--grids", action="store_true", help="Save last samples.")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=0, help="0: TF's choice.")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    from dcgan_tf.config import TrainConfig
    from dcgan_tf.data import load_images, make_dataset
    from dcgan_tf.model import build_dcgan
    from dcgan_tf.quality.classifiers import build_classifier
    from dcgan_tf.quality.evaluation import evaluate_generator, random_subset
    from dcgan_tf.quality.features import ClassifierFeatures
    from dcgan_tf.sampling.images import save_grid, to_uint8
    from dcgan_tf.sampling.latents import sample_latents

    log_every = args.log_every or args.eval_every
    if args.eval_every % log_every:
        parser.error("--eval-every must be a multiple of --log-every")
    config = TrainConfig(
        dataset=args.dataset,
        data_dir=args.data_dir,
        augment=args.augment,
        ema=args.ema,
        image_size=args.image_size,
        batch_size=args.batch_size,
        steps_per_epoch=log_every,
        epochs=args.steps // log_every,
        seed=args.seed,
    ).resolve()
    config.validate()
    keras.utils.set_random_seed(config.seed)
    train = load_images(args.dataset, args.data_dir, config.image_size)
    train = random_subset(train, args.train_images, seed=0)
    if args.dataset == "folder":
        test = train  # no test split: the folder is the reference
        classifier = build_classifier(config.image_shape, 5)
        classifier.load_weights(args.classifier)
        features = ClassifierFeatures(classifier=classifier)
    else:
        test = load_images(args.dataset, data_dir=args.data_dir, split="test")
        features = ClassifierFeatures(args.dataset, args.classifier)
    real = features.extract(test, keep=False)
    model = build_dcgan(config)
    dataset = make_dataset(train, config.batch_size, config.seed)

    result = {
        "what": __doc__.split("\n\n")[0],
        "command": records.command(sys.executable.split("/")[-1]),
        "config": config.to_dict(),
        "train_images": len(train),
        "test_images": len(test),
        "samples": args.samples,
        "load_average_start": os.getloadavg()[0],
        "curve": [],
    }
    latents = sample_latents(64, config.latent_dim, seed=0)
    start = time.time()
    for chunk in range(config.epochs):
        point = records.fit_chunk(model, dataset, config, chunk)
        generators = {"fid": model.generator, "fid_ema": model.ema_generator}
        if point["step"] % args.eval_every == 0:
            for name, generator in generators.items():
                measured = evaluate_generator(
                    generator, real, features, args.samples, metrics=("fid",), seed=0
                )
                point[name] = measured["fid"]
                if args.grids:  # the latest, from the same 64 latents for both
                    images = to_uint8(generator.predict(latents, verbose=0))
                    kind = "ema" if name == "fid_ema" else "trained"
                    save_grid(images, args.json.replace(".json", f"_{kind}.png"))
        point["minutes"] = (time.time() - start) / 60
        result["curve"].append(point)
        records.save(args.json, result, shown=point)
    for name in ("fid", "fid_ema"):
        measured = [p for p in result["curve"] if name in p]
        best = min(measured, key=lambda p: p[name])
        result[f"best_{name}"] = best[name]
        result[f"best_{name}_step"] = best["step"]
        result[f"end_{name}"] = measured[-1][name]
    result["load_average_end"] = os.getloadavg()[0]
    records.save(args.json, result)


if __name__ == "__main__":
    main()
