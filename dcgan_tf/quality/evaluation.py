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
against the training images. The metrics themselves, and the sampling
and subsets they are measured on, are `dcgan_tf.quality.measures`'s.
"""

import numpy as np

from dcgan_tf.data import FOLDERS, load_images, load_labeled
from dcgan_tf.quality.features import feature_extractor
from dcgan_tf.quality.measures import (  # noqa: F401 (importable from here too)
    DEFAULT_METRICS,
    EVALUATION_METRICS,
    FEATURE_METRICS,
    FORWARD_BATCH,
    IMAGE_METRICS,
    check_counts,
    check_metrics,
    compare,
    evaluate_generator,
    image_ratios,
    measure_images,
    random_subset,
    real_image_scores,
    sample_images,
    sample_labels,
)
from dcgan_tf.quality.memorisation import (
    memorisation_from_distances,
    nearest_distances,
)
from dcgan_tf.quality.nearest import reference_distances
from dcgan_tf.sampling.loading import check_dataset_shape

# Samples, and held-out images, of the memorisation check: their distances to
# every training image are computed in pixels (60,000 x 1,000 Fashion-MNIST
# distances take seconds), and 1,000 held-out distances put the 5th
# percentile, the copy threshold, on 50 images.
MEMORISATION_IMAGES = 1000


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
