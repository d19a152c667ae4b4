"""Measuring a generator, or a real split, against real images.

`evaluate` is what `python -m dcgan_tf.evaluate` does, as a function of plain
arguments: it samples a generator (or reads a second real split: the floor a
perfect generator would reach), runs both sets through a feature network
(`dcgan_tf.quality.features`) and returns FID, KID and IS
(`dcgan_tf.quality.distances`), and precision and recall
(`dcgan_tf.quality.precision_recall`) on the same features, in one record; for
a conditional generator also class consistency and FID per class
(`dcgan_tf.quality.classes`); with `artifacts` and `periodic`, the
checkerboard and periodic-texture measures (`dcgan_tf.quality.artifacts`,
`dcgan_tf.quality.periodic`), which need no feature network; with
`memorisation=True`, the memorisation check (`dcgan_tf.quality.memorisation`)
against the training images.
"""

import numpy as np

from dcgan_tf.data import FOLDERS, load_images, load_labeled
from dcgan_tf.quality.artifacts import CheckerboardSpectrum, checkerboard_score
from dcgan_tf.quality.classes import measure_classes
from dcgan_tf.quality.distances import (
    METRICS,
    frechet_distance,
    inception_score,
    kernel_distance,
)
from dcgan_tf.quality.features import FeatureExtractor, Features, feature_extractor
from dcgan_tf.quality.memorisation import (
    memorisation_from_distances,
    nearest_distances,
)
from dcgan_tf.quality.nearest import reference_distances
from dcgan_tf.quality.periodic import FLOOR, PeriodicSpectrum, periodic_share
from dcgan_tf.quality.precision_recall import K, precision_recall
from dcgan_tf.sampling.drawing import generate
from dcgan_tf.sampling.images import to_uint8
from dcgan_tf.sampling.latents import sample_latents
from dcgan_tf.sampling.loading import as_generator, check_dataset_shape

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
# Samples, and held-out images, of the memorisation check: their distances to
# every training image are computed in pixels (60,000 x 1,000 Fashion-MNIST
# distances take seconds), and 1,000 held-out distances put the 5th
# percentile, the copy threshold, on 50 images.
MEMORISATION_IMAGES = 1000


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
    metrics=DEFAULT_METRICS,
    num_samples: int = 10_000,
    num_real: int | None = None,
    latent_distribution: str | None = None,
    seed: int = 0,
    forward_batch: int = FORWARD_BATCH,
    memorisation: bool = False,
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
            used for the image measures (`artifacts`, `periodic`) alone.
        inception_weights: a local copy of InceptionV3's weights.
        metrics: any of `EVALUATION_METRICS` (default: the feature metrics).
        num_samples: generated images (or images of `compare_real`).
        num_real: a random subset of `split` (default: all of it).
        latent_distribution: default: the generator's.
        seed: seed of the latents and of the subsets.
        forward_batch: latents per forward pass of the generator.
        memorisation: also run the memorisation check (`memorisation_check`)
            on the first `MEMORISATION_IMAGES` samples.

    Returns:
        A JSON-ready dict: `dataset`, `real_split`, `features`, `seed`,
        `source`, `latent_distribution` (for a generator), `num_samples`,
        `num_real` and `metrics` (`compare`'s dict, and the image measures'
        ratios); with `memorisation`, the check's ratio and copy share in
        `metrics` (`memorisation`, `memorisation_copies`) and its details
        under `memorisation`.

    Raises:
        ValueError: for missing or contradictory arguments, or a data set
            without features (`dcgan_tf.data.DataError` for missing data).
        FileNotFoundError: when a classifier's weights are missing.
        FeatureNetworkError: when InceptionV3's weights cannot be had.
    """
    if generator is None and compare_real is None:
        raise ValueError("pass a run directory or .keras file, or --compare-real.")
    check_metrics(metrics)
    check_counts(metrics, num_samples, num_real)
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
    if set(metrics) & set(FEATURE_METRICS):
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
    real_scores = real_image_scores(real, metrics)
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
        values.update(measure_images(other, real_scores))
        values.update(num_samples=len(other), num_real=len(real))
        record["source"] = f"real {compare_real} split"
        samples = random_subset(other, MEMORISATION_IMAGES, seed + 2)
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
            real_artifacts=real_scores.get("artifacts"),
            real_periodic=real_scores.get("periodic"),
        )
        record["source"] = str(generator.path)
        record["latent_distribution"] = distribution
        samples = None
        if memorisation:  # the first images of the same latents
            count = min(num_samples, MEMORISATION_IMAGES)
            batches = sample_images(generator, count, distribution, seed, forward_batch)
            samples = np.concatenate(list(batches))
    record["num_samples"] = values.pop("num_samples")
    record["num_real"] = values.pop("num_real")
    classes = values.pop("classes", None)
    if memorisation:
        check = memorisation_check(samples, dataset, data_dir, size, fit, seed)
        values["memorisation"] = check.pop("ratio")
        values["memorisation_copies"] = check.pop("copy_share")
        record["memorisation"] = check
    record["metrics"] = values
    if classes is not None:
        record["classes"] = classes
    return record


def memorisation_check(samples, dataset, data_dir, size, fit, seed=0) -> dict:
    """The memorisation check (`dcgan_tf.quality.memorisation`) of `samples`
    against the training images of `dataset`.

    The held-out images are the test split of a data set that has one (the
    classic sets: training never sees it). A folder data set is trained on
    whole, so none of its images is held out; there, each of
    `MEMORISATION_IMAGES` random training images is measured against the
    others (leave-one-out, the `neighbours` command's reference): such an
    image is a held-out image of the remaining set, which is the training
    set less one image. Exact duplicates in a folder lower that reference
    (a duplicate's nearest other image is its copy), which makes the check
    more lenient, never stricter.

    Returns:
        `memorisation_from_distances`'s dict, plus `heldout` (which images:
        `"test split"` or `"leave-one-out"`), `num_samples`, `num_heldout`
        and `num_train`.
    """
    train = load_images(
        dataset, data_dir=data_dir, image_size=size, split="train", fit=fit
    )
    if dataset in FOLDERS:
        heldout = "leave-one-out"
        heldout_distances = reference_distances(train, MEMORISATION_IMAGES, seed)
    else:
        heldout = "test split"
        test = load_images(
            dataset, data_dir=data_dir, image_size=size, split="test", fit=fit
        )
        test = random_subset(test, MEMORISATION_IMAGES, seed)
        heldout_distances = nearest_distances(test, train)
    check = memorisation_from_distances(
        nearest_distances(samples, train), heldout_distances
    )
    check.update(
        heldout=heldout,
        num_samples=len(samples),
        num_heldout=len(heldout_distances),
        num_train=len(train),
    )
    return check
