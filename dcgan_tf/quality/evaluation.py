"""Measuring a generator, or a real split, against real images.

`evaluate` is what `python -m dcgan_tf.evaluate` does, as a function of plain
arguments: it samples a generator (or reads a second real split: the floor a
perfect generator would reach), runs both sets through a feature network
(`dcgan_tf.quality.features`) and returns FID, KID and IS
(`dcgan_tf.quality.distances`) in one record; for a conditional generator
also class consistency and FID per class (`dcgan_tf.quality.classes`); with
`artifacts`, the checkerboard artifact measure (`dcgan_tf.quality.artifacts`),
which needs no feature network.
"""

import numpy as np

from dcgan_tf.data import load_images, load_labeled
from dcgan_tf.quality.artifacts import CheckerboardSpectrum, checkerboard_score
from dcgan_tf.quality.classes import measure_classes
from dcgan_tf.quality.distances import (
    METRICS,
    frechet_distance,
    inception_score,
    kernel_distance,
)
from dcgan_tf.quality.features import FeatureExtractor, Features, feature_extractor
from dcgan_tf.sampling.drawing import generate
from dcgan_tf.sampling.images import to_uint8
from dcgan_tf.sampling.latents import sample_latents
from dcgan_tf.sampling.loading import as_generator, check_dataset_shape

# Generated images per forward pass and per trip through the feature network:
# 250 28x28 images are a few MB, and a pass per 250 keeps the CPU busy.
FORWARD_BATCH = 250
# The feature metrics, and the artifact measure (on the images themselves).
EVALUATION_METRICS = (*METRICS, "artifacts")


def check_metrics(metrics) -> None:
    """Raises ValueError for names other than `fid`, `kid`, `is`, `artifacts`."""
    unknown = set(metrics) - set(EVALUATION_METRICS)
    if unknown:
        raise ValueError(
            f"Unknown metrics {sorted(unknown)}; choose from {EVALUATION_METRICS}."
        )


def compare(real: Features, fake: Features, metrics=METRICS, seed=0) -> dict:
    """Computes metrics of `fake` against `real`.

    Returns:
        A dict with `fid`, `kid` and `kid_std`, `is` and `is_std` (of the
        fake images) and `is_real` (of the real ones, the ceiling), for the
        metrics asked for.

    Raises:
        ValueError: for an unknown metric, or IS without probabilities.
    """
    check_metrics(metrics)
    result = {}
    if "fid" in metrics:
        result["fid"] = frechet_distance(
            real.stats.mean,
            real.stats.covariance,
            fake.stats.mean,
            fake.stats.covariance,
        )
    if "kid" in metrics:
        result["kid"], result["kid_std"] = kernel_distance(
            real.features, fake.features, seed=seed
        )
    if "is" in metrics:
        if fake.probabilities is None:
            raise ValueError("IS needs class probabilities, which these features lack.")
        result["is"], result["is_std"] = inception_score(fake.probabilities, seed=seed)
        result["is_real"], _ = inception_score(real.probabilities, seed=seed)
    return result


def sample_images(
    generator,
    num_samples: int,
    latent_distribution="normal",
    seed=0,
    forward_batch: int = FORWARD_BATCH,
):
    """Yields batches of uint8 images from a generator, `num_samples` in all.

    The latents come from one seeded stream, so the images do not depend on
    `forward_batch`; outputs are rounded to uint8 as if saved as PNG, so fake
    images reach the feature network exactly as real ones do.

    Args:
        generator: a `dcgan_tf.sampling.drawing.Generator` or a Keras generator.
        num_samples: images in all.
        latent_distribution: `normal` or `uniform`, as the generator was trained.
        seed: seed of the latents.
        forward_batch: images per batch yielded (and per forward pass).

    Raises:
        ValueError: for an unknown distribution or a model that is no generator.
    """
    generator = as_generator(generator)
    latents = sample_latents(
        num_samples, generator.latent_dim, seed, latent_distribution
    )
    labels = sample_labels(generator, num_samples)
    for start in range(0, num_samples, forward_batch):
        chunk = latents[start : start + forward_batch]
        chunk_labels = None if labels is None else labels[start : start + forward_batch]
        yield to_uint8(generate(generator, chunk, forward_batch, chunk_labels))


def sample_labels(generator, num_samples: int) -> np.ndarray | None:
    """The classes asked of a conditional generator when measuring it: each
    class in turn, so every class is asked equally often (the test splits
    are balanced); None for an unconditional generator."""
    generator = as_generator(generator)
    if not generator.num_classes:
        return None
    return np.arange(num_samples) % generator.num_classes


def evaluate_generator(
    generator,
    real_images,
    features: FeatureExtractor,
    num_samples: int = 10_000,
    metrics=METRICS,
    latent_distribution: str = "normal",
    seed: int = 0,
    forward_batch: int = FORWARD_BATCH,
    real_labels=None,
    real_artifacts: float | None = None,
) -> dict:
    """Measures a generator against real images.

    Args:
        generator: a Keras model from `(batch, latent_dim)` to images in
            [-1, 1], or a `dcgan_tf.sampling.drawing.Generator`.
        real_images: uint8 images, or their `Features` from
            `features.extract` (computed once when measuring repeatedly).
        features: the `FeatureExtractor` (None for `artifacts` alone).
        num_samples: number of generated images.
        metrics: any of `fid`, `kid`, `is`, `artifacts`.
        latent_distribution: `normal` or `uniform`, as the generator was trained.
        seed: seed of the latents and of the KID subsets.
        forward_batch: latents per forward pass of the generator.
        real_labels: for a conditional generator, the real images' classes,
            to measure each class (real `Features` must then be kept).
        real_artifacts: the real images' `checkerboard_score`, for
            `artifacts` when `real_images` are `Features`.

    Returns:
        `compare`'s dict, plus `num_samples` and `num_real`, and with
        `real_labels` the per-class figures of `measure_classes` under
        `classes`; with `artifacts`, the samples' checkerboard score over
        the real images' under `artifacts`.
    """
    generator = as_generator(generator)
    by_class = real_labels is not None and generator.num_classes
    keep = "kid" in metrics or "is" in metrics or bool(by_class)
    batches = sample_images(
        generator, num_samples, latent_distribution, seed, forward_batch
    )
    spectrum = None
    if "artifacts" in metrics:
        if real_artifacts is None:
            if isinstance(real_images, Features):
                raise ValueError("artifacts needs the real images or real_artifacts.")
            real_artifacts = checkerboard_score(real_images)
        spectrum = CheckerboardSpectrum()
        batches = spectrum.watch(batches)
    if set(metrics) & set(METRICS) or by_class:
        real = real_images
        if not isinstance(real, Features):
            real = features.extract(real_images, keep=keep)
        fake = features.extract(batches, keep=keep)
        result = compare(real, fake, metrics, seed=seed)
        result.update(num_samples=fake.count, num_real=real.count)
    else:  # the artifact measure alone: no feature network
        for _ in batches:
            pass
        result = {"num_samples": spectrum.count, "num_real": len(real_images)}
    if spectrum is not None:
        result["artifacts"] = spectrum.score() / real_artifacts
    if by_class:
        fake_labels = sample_labels(generator, num_samples)
        names = generator.class_names
        result["classes"] = measure_classes(real, real_labels, fake, fake_labels, names)
    return result


def random_subset(images, count: int | None, seed: int):
    """A seeded random subset, in the original order (data sets read from class
    folders come sorted by class, so their first images are no sample)."""
    if count is None or count >= len(images):
        return images
    rng = np.random.default_rng(seed)
    return images[np.sort(rng.choice(len(images), count, replace=False))]


def evaluate(
    generator=None,
    *,
    dataset: str | None = None,
    data_dir=None,
    split: str = "test",
    compare_real: str | None = None,
    features: str = "classifier",
    inception_weights=None,
    metrics=METRICS,
    num_samples: int = 10_000,
    num_real: int | None = None,
    latent_distribution: str | None = None,
    seed: int = 0,
    forward_batch: int = FORWARD_BATCH,
) -> dict:
    """Measures a generator, or a real split, against a real split.

    Args:
        generator: a `dcgan_tf.sampling.drawing.Generator` (from `load_generator`), or
            None with `compare_real`.
        dataset: the real data set (default: the generator's run's).
        data_dir: where its files are (default: the run's `data_dir`).
        split: the real split compared against; `test` was never trained on.
        compare_real: measure this real split instead of a generator.
        features: `classifier` or `inception` (see `feature_extractor`); not
            used for `artifacts` alone.
        inception_weights: a local copy of InceptionV3's weights.
        metrics: any of `fid`, `kid`, `is`, `artifacts`.
        num_samples: generated images (or images of `compare_real`).
        num_real: a random subset of `split` (default: all of it).
        latent_distribution: default: the generator's.
        seed: seed of the latents and of the subsets.
        forward_batch: latents per forward pass of the generator.

    Returns:
        A JSON-ready dict: `dataset`, `real_split`, `features`, `seed`,
        `source`, `latent_distribution` (for a generator), `num_samples`,
        `num_real` and `metrics` (`compare`'s dict).

    Raises:
        ValueError: for missing or contradictory arguments, or a data set
            without features (`dcgan_tf.data.DataError` for missing data).
        FileNotFoundError: when a classifier's weights are missing.
        FeatureNetworkError: when InceptionV3's weights cannot be had.
    """
    if generator is None and compare_real is None:
        raise ValueError("pass a run directory or .keras file, or --compare-real.")
    check_metrics(metrics)
    config = generator.config if generator is not None else None
    dataset = dataset or (generator.dataset if generator is not None else None)
    if dataset is None:
        raise ValueError("--dataset is needed: no config.json beside the generator.")
    if data_dir is None and config is not None and config.dataset == dataset:
        data_dir = config.data_dir
    # Real images at the generator's size, framed as in its training.
    size = generator.image_shape[0] if generator is not None else None
    fit = config.fit if config is not None else "crop"
    extractor = None
    if set(metrics) & set(METRICS):
        extractor = feature_extractor(features, dataset, inception_weights)
    conditional = generator is not None and generator.num_classes
    real_labels = None
    if conditional:
        real, real_labels, names = load_labeled(
            dataset, data_dir=data_dir, split=split, image_size=size, fit=fit
        )
        if tuple(map(str, names)) != tuple(generator.class_names):
            raise ValueError(
                f"The generator's classes ({', '.join(generator.class_names)}) "
                f"are not {dataset}'s ({', '.join(map(str, names))}); pass the "
                "--dataset it was trained on."
            )
        real_labels = random_subset(real_labels, num_real, seed)
    else:
        real = load_images(
            dataset, data_dir=data_dir, image_size=size, split=split, fit=fit
        )
    if generator is not None:
        check_dataset_shape(generator, dataset, real.shape[1:])
    real = random_subset(real, num_real, seed)
    real_features = extractor.extract(real) if extractor else real
    real_artifacts = checkerboard_score(real) if "artifacts" in metrics else None
    record = {
        "dataset": dataset,
        "real_split": split,
        "features": extractor.name if extractor else None,
        "seed": seed,
    }
    if compare_real is not None:
        other = load_images(
            dataset, data_dir=data_dir, image_size=size, split=compare_real, fit=fit
        )
        other = random_subset(other, num_samples, seed + 1)
        values = {}
        if extractor:
            values = compare(real_features, extractor.extract(other), metrics, seed)
        if real_artifacts is not None:
            values["artifacts"] = checkerboard_score(other) / real_artifacts
        values.update(num_samples=len(other), num_real=len(real))
        record["source"] = f"real {compare_real} split"
    else:
        distribution = latent_distribution or generator.latent_distribution
        values = evaluate_generator(
            generator,
            real_features,
            extractor,
            num_samples=num_samples,
            metrics=metrics,
            latent_distribution=distribution,
            seed=seed,
            forward_batch=forward_batch,
            real_labels=real_labels,
            real_artifacts=real_artifacts,
        )
        record["source"] = str(generator.path)
        record["latent_distribution"] = distribution
    record["num_samples"] = values.pop("num_samples")
    record["num_real"] = values.pop("num_real")
    classes = values.pop("classes", None)
    record["metrics"] = values
    if classes is not None:
        record["classes"] = classes
    return record
