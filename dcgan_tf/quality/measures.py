"""What an evaluation measures, and of what: the metric names and their
checks, the feature metrics of two feature sets (`compare`: FID, KID, IS,
precision and recall), the image measures (the checkerboard and periodic
ratios), a generator sampled and measured for them (`evaluate_generator`),
and seeded subsets of real splits.

`dcgan_tf.quality.evaluation` wires these to data and generators and
imports every name, so that they stay importable from there.
"""

import numpy as np

from dcgan_tf.quality.artifacts import CheckerboardSpectrum, checkerboard_score
from dcgan_tf.quality.classes import measure_classes
from dcgan_tf.quality.distances import (
    METRICS,
    frechet_distance,
    inception_score,
    kernel_distance,
)
from dcgan_tf.quality.features import FeatureExtractor, Features
from dcgan_tf.quality.periodic import FLOOR, PeriodicSpectrum, periodic_share
from dcgan_tf.quality.precision_recall import K, precision_recall
from dcgan_tf.sampling.drawing import generate
from dcgan_tf.sampling.images import to_uint8
from dcgan_tf.sampling.latents import sample_latents
from dcgan_tf.sampling.loading import as_generator

# Generated images per forward pass and per trip through the feature network:
# 250 28x28 images are a few MB, and a pass per 250 keeps the CPU busy.
FORWARD_BATCH = 250
# The metrics of a feature network: FID, KID, IS, and `pr` (precision and
# recall, Kynkäänniemi et al. 2019, recorded as `precision` and `recall`).
FEATURE_METRICS = (*METRICS, "pr")
# The default of `evaluate`: every feature metric.
DEFAULT_METRICS = FEATURE_METRICS
# The measures of the images themselves (no feature network): the
# checkerboard ratio and the periodic-texture ratio.
IMAGE_METRICS = ("artifacts", "periodic")
EVALUATION_METRICS = (*FEATURE_METRICS, *IMAGE_METRICS)


def check_metrics(metrics) -> None:
    """Raises ValueError for names other than those of `EVALUATION_METRICS`."""
    unknown = set(metrics) - set(EVALUATION_METRICS)
    if unknown:
        raise ValueError(
            f"Unknown metrics {sorted(unknown)}; choose from {EVALUATION_METRICS}."
        )


def check_counts(metrics, num_samples=None, num_real=None) -> None:
    """Raises ValueError when precision and recall are asked of sets of `K`
    images or fewer (each image's `K`-th nearest other image is its radius)."""
    if "pr" not in metrics:
        return
    for flag, count in (("--num-samples", num_samples), ("--num-real", num_real)):
        if count is not None and count <= K:
            raise ValueError(
                f"precision and recall need more than {K} images in each set "
                f"(k = {K} neighbours), got {flag} {count}; raise it or leave pr "
                "out of the metrics."
            )


def compare(real: Features, fake: Features, metrics=METRICS, seed=0) -> dict:
    """Computes metrics of `fake` against `real`.

    Returns:
        A dict with `fid`, `kid` and `kid_std`, `is` and `is_std` (of the
        fake images), `is_real` (of the real ones, the ceiling), and for
        `pr` `precision` and `recall` (on all the features of both sets), for
        the metrics asked for.

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
    if "pr" in metrics:
        result.update(precision_recall(real.features, fake.features))
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


def real_image_scores(images, metrics) -> dict:
    """The real images' scores that the image measures divide by:
    `checkerboard_score` under `artifacts`, `periodic_share` under
    `periodic`, for those of `metrics`."""
    scores = {}
    if "artifacts" in metrics:
        scores["artifacts"] = checkerboard_score(images)
    if "periodic" in metrics:
        scores["periodic"] = periodic_share(images)
    return scores


def image_ratios(meters: dict, real_scores: dict) -> dict:
    """The image measures' ratios: the samples' score over the real images'
    (`meters`: `CheckerboardSpectrum` and `PeriodicSpectrum` by name); the
    periodic shares each with `FLOOR` added (`periodic.periodic_ratio`)."""
    ratios = {}
    if "artifacts" in meters:
        ratios["artifacts"] = meters["artifacts"].score() / real_scores["artifacts"]
    if "periodic" in meters:
        ratios["periodic"] = (meters["periodic"].score() + FLOOR) / (
            real_scores["periodic"] + FLOOR
        )
    return ratios


def measure_images(images, real_scores: dict) -> dict:
    """`image_ratios` of a set of images (a real split compared)."""
    meters = {"artifacts": CheckerboardSpectrum(), "periodic": PeriodicSpectrum()}
    meters = {name: meters[name] for name in real_scores}
    for meter in meters.values():
        meter.add(images)
    return image_ratios(meters, real_scores)


def random_subset(images, count: int | None, seed: int):
    """A seeded random subset, in the original order (data sets read from class
    folders come sorted by class, so their first images are no sample)."""
    if count is None or count >= len(images):
        return images
    rng = np.random.default_rng(seed)
    return images[np.sort(rng.choice(len(images), count, replace=False))]


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
    real_periodic: float | None = None,
) -> dict:
    """Measures a generator against real images.

    Args:
        generator: a Keras model from `(batch, latent_dim)` to images in
            [-1, 1], or a `dcgan_tf.sampling.drawing.Generator`.
        real_images: uint8 images, or their `Features` from
            `features.extract` (computed once when measuring repeatedly; kept
            features for `kid` and `pr`).
        features: the `FeatureExtractor` (None for the image measures alone).
        num_samples: number of generated images.
        metrics: any of `EVALUATION_METRICS`.
        latent_distribution: `normal` or `uniform`, as the generator was trained.
        seed: seed of the latents and of the KID subsets.
        forward_batch: latents per forward pass of the generator.
        real_labels: for a conditional generator, the real images' classes,
            to measure each class (real `Features` must then be kept).
        real_artifacts: the real images' `checkerboard_score`, for
            `artifacts` when `real_images` are `Features`.
        real_periodic: the real images' `periodic_share`, for `periodic`
            when `real_images` are `Features`.

    Returns:
        `compare`'s dict, plus `num_samples` and `num_real`, and with
        `real_labels` the per-class figures of `measure_classes` under
        `classes`; with `artifacts`, the samples' checkerboard score over
        the real images' under `artifacts`; with `periodic`, their
        `periodic_ratio` under `periodic`.
    """
    generator = as_generator(generator)
    by_class = real_labels is not None and generator.num_classes
    keep = bool({"kid", "is", "pr"} & set(metrics)) or bool(by_class)
    batches = sample_images(
        generator, num_samples, latent_distribution, seed, forward_batch
    )
    given = {"artifacts": real_artifacts, "periodic": real_periodic}
    wanted = [name for name in IMAGE_METRICS if name in metrics]
    real_scores = {name: given[name] for name in wanted}
    missing = [name for name in wanted if real_scores[name] is None]
    if missing:
        if isinstance(real_images, Features):
            raise ValueError(
                f"{' and '.join(missing)} need the real images, or their scores."
            )
        real_scores.update(real_image_scores(real_images, missing))
    meters = {"artifacts": CheckerboardSpectrum(), "periodic": PeriodicSpectrum()}
    meters = {name: meters[name] for name in wanted}
    for meter in meters.values():
        batches = meter.watch(batches)
    if set(metrics) & set(FEATURE_METRICS) or by_class:
        real = real_images
        if not isinstance(real, Features):
            real = features.extract(real_images, keep=keep)
        fake = features.extract(batches, keep=keep)
        result = compare(real, fake, metrics, seed=seed)
        result.update(num_samples=fake.count, num_real=real.count)
    else:  # the image measures alone: no feature network
        count = sum(len(batch) for batch in batches)
        real_count = (
            real_images.count if isinstance(real_images, Features) else len(real_images)
        )
        result = {"num_samples": count, "num_real": real_count}
    result.update(image_ratios(meters, real_scores))
    if by_class:
        fake_labels = sample_labels(generator, num_samples)
        names = generator.class_names
        result["classes"] = measure_classes(real, real_labels, fake, fake_labels, names)
    return result
