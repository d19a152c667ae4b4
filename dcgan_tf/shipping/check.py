"""A preset card's quick check: its figures again at small sample counts,
on the real samples every clone of the repository has (`tests/data/`), with
their spread over latent seeds, so that a test (and a user without the full
data set) can measure them again in seconds and see the card still holds.

The card's headline figures (`ship.NUM_SAMPLES` samples against the whole
test split) need the full data set; these need only the repository.
`measure` runs `dcgan_tf.quality.evaluation.evaluate` once per seed: each
seed draws other latents and another order of the real sample.
"""

import math
from pathlib import Path

# The repository's root (a clone's; an installed package has no tests/).
REPOSITORY = Path(__file__).resolve().parents[2]
# The real sample of each data set in the repository (tests/data/README.md):
# its training split, 256 Fashion-MNIST images and 100 CIFAR-10 images.
DATA = {
    "fashion_mnist": "tests/data/fashion-mnist",
    "cifar10": "tests/data/cifar10",
}
SPLIT = "train"
METRICS = ("fid", "kid", "is")
# Seeds measured when shipping; the stated spread is SPREAD standard
# deviations over them around their mean.
SHIP_SEEDS = tuple(range(10))
SPREAD = 3.0
# Samples per seed (the size of the Fashion-MNIST sample).
NUM_SAMPLES = 256


def data_dir(dataset: str) -> Path:
    """The repository's real sample of `dataset`.

    Raises:
        ValueError: for a data set without a sample in the repository.
    """
    if dataset not in DATA:
        raise ValueError(
            f"The repository has no real sample of {dataset} for the quick "
            f"check (it has: {', '.join(DATA)})."
        )
    return REPOSITORY / DATA[dataset]


def measure(generator, dataset: str, seeds, num_samples: int) -> dict:
    """`{metric: [value per seed]}` of `generator` against the repository's
    real sample of `dataset`, `num_samples` samples per seed, and
    `num_real`: the images of that sample."""
    from dcgan_tf.quality.evaluation import evaluate

    values = {metric: [] for metric in METRICS}
    for seed in seeds:
        record = evaluate(
            generator,
            dataset=dataset,
            data_dir=data_dir(dataset),
            split=SPLIT,
            metrics=METRICS,
            num_samples=num_samples,
            seed=seed,
        )
        for metric in METRICS:
            values[metric].append(float(record["metrics"][metric]))
        values["num_real"] = record["num_real"]
    return values


def summary(values: list) -> dict:
    """Mean, standard deviation and the stated range of per-seed values."""
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return {
        "mean": mean,
        "sd": sd,
        "low": mean - SPREAD * sd,
        "high": mean + SPREAD * sd,
    }


def quick_check(generator, dataset: str, num_samples: int = NUM_SAMPLES) -> dict:
    """The card's `quick_check` block: the per-seed figures and their
    summaries (mean, sd and the stated range)."""
    values = measure(generator, dataset, SHIP_SEEDS, num_samples)
    num_real = values.pop("num_real")
    return {
        "data_dir": DATA[dataset],
        "split": SPLIT,
        "num_samples": num_samples,
        "num_real": num_real,
        "seeds": list(SHIP_SEEDS),
        "spread": f"mean ± {SPREAD:g} standard deviations over the seeds",
        "values": values,
        **{metric: summary(values[metric]) for metric in METRICS},
    }
