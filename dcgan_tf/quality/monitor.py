"""A training callback that measures sample quality every few epochs.

Losses of a GAN say little about its images; KID on a few thousand samples
(Bińkowski et al. 2018: unbiased, so usable on small samples) does. The
monitor puts `kid` (and `fid`) into the epoch's logs, for the CSV log and
plot placed after it, keeps the best generator as `generator_best.keras`,
and warns when the metric keeps getting worse, the usual sign of mode
collapse; with `pr` it also logs `precision` and `recall` on the same
features (`dcgan_tf.quality.precision_recall`), with `artifacts` the
checkerboard artifact measure (`dcgan_tf.quality.artifacts`), with `periodic`
the periodic-texture measure (`dcgan_tf.quality.periodic`). Its state lives
in `monitor_state.json`, so a resumed run goes on comparing with the best of
the whole run; both files are written through `dcgan_tf.rundir`, atomically.
"""

import json
import math
import warnings
from pathlib import Path

import keras
import numpy as np

from dcgan_tf import rundir
from dcgan_tf.config import TrainConfig
from dcgan_tf.quality.classifiers import IMAGE_SHAPES
from dcgan_tf.quality.evaluation import (
    evaluate_generator,
    random_subset,
    real_image_scores,
)
from dcgan_tf.quality.features import FeatureExtractor, feature_extractor
from dcgan_tf.quality.precision_recall import NAMES, K
from dcgan_tf.system import files

# What the monitor can measure; the first of a monitor's metrics (kid or fid)
# decides which generator is best. `pr` logs `precision` and `recall`.
MONITOR_METRICS = ("kid", "fid", "pr", "artifacts", "periodic")
# The values each metric puts in the logs (and so in metrics.csv).
LOGGED = {"pr": NAMES}


class QualityMonitor(keras.callbacks.Callback):
    """Measures the generator every `every` epochs; keeps the best one.

    Args:
        real_images: uint8 real images (usually the training set); a seeded
            random subset of `num_real` is featurised once, at the first
            evaluation.
        run_dir: the run directory (a path or a `dcgan_tf.rundir.RunDir`),
            where `generator_best.keras` and `monitor_state.json` go.
        features: a `dcgan_tf.quality.features.FeatureExtractor`, or the name
            of one (`classifier` needs `dataset`; `inception` downloads weights).
        dataset: the data set, for the `classifier` features.
        every: evaluate after every this many epochs (and after the last).
        num_samples: generated images per evaluation; their latents are the
            same each time, so changes come from the generator alone.
        num_real: real images compared against.
        metrics: `("kid",)`, `("kid", "fid")` or `("fid",)`, optionally with
            any of `"pr"` (precision and recall), `"artifacts"` and
            `"periodic"` after them; the first decides which generator is
            best.
        patience: warn after this many worsening evaluations in a row.
        seed: seed of the latents, the real subset and KID's subsets.
        verbose: print the collapse warning.

    Raises:
        ValueError: for other metrics, or counts below their minimum.
    """

    def __init__(
        self,
        real_images,
        run_dir,
        features="classifier",
        dataset=None,
        every=5,
        num_samples=2000,
        num_real=10_000,
        metrics=("kid",),
        patience=3,
        seed=0,
        verbose=True,
    ):
        super().__init__()
        metrics = tuple(metrics)
        if (
            not metrics
            or set(metrics) - set(MONITOR_METRICS)
            or metrics[0] not in ("kid", "fid")
        ):
            raise ValueError(
                "metrics must be 'kid' and/or 'fid', then optionally 'pr', "
                f"'artifacts' and 'periodic', got {metrics}."
            )
        if every < 1 or patience < 1 or num_samples < 2:
            raise ValueError("every and patience must be >= 1, num_samples >= 2.")
        if "pr" in metrics and num_samples <= K:
            raise ValueError(
                f"precision and recall need more than {K} samples (k = {K} "
                f"neighbours), got {num_samples}; raise --quality-samples."
            )
        self.real_images = real_images
        if not isinstance(run_dir, rundir.RunDir):
            run_dir = rundir.RunDir(run_dir)
        self.run_dir = run_dir
        self.features = features
        self.dataset = dataset
        self.every = every
        self.num_samples = num_samples
        self.num_real = num_real
        self.metrics = metrics
        self.metric = metrics[0]
        self.patience = patience
        self.seed = seed
        self.verbose = verbose
        self.history = self._load_state()
        self._real = None
        self._real_scores = {}

    @property
    def state_path(self) -> Path:
        return self.run_dir.file(rundir.MONITOR_STATE)

    @property
    def best_path(self) -> Path:
        return self.run_dir.file(rundir.BEST_GENERATOR)

    def _load_state(self) -> list[dict]:
        """The history of an earlier part of the run: empty when there is none,
        and, with a warning, when `monitor_state.json` is damaged."""
        path = self.state_path
        if not path.is_file():
            return []
        try:
            state = json.loads(path.read_text())
            if state.get("metric") != self.metric:
                return []  # another metric's best says nothing about this one
            return [
                {**h, "epoch": int(h["epoch"]), self.metric: float(h[self.metric])}
                for h in state["history"]
            ]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            reason = " ".join(f"{type(error).__name__}: {error}".split())
            warnings.warn(
                f"Cannot read {path} ({reason[:200]}); the quality history starts "
                f"afresh and {rundir.BEST_GENERATOR} is replaced at the next "
                "evaluation.",
                stacklevel=2,
            )
            return []

    def best(self) -> dict | None:
        """The evaluation with the lowest metric so far, or None."""
        return min(self.history, key=lambda h: h[self.metric], default=None)

    def worse_streak(self) -> int:
        """How many evaluations in a row have been worse than the one before."""
        streak = 0
        values = [h[self.metric] for h in self.history]
        for before, after in zip(values[-2::-1], values[::-1]):
            if after <= before:
                break
            streak += 1
        return streak

    def _extractor(self) -> FeatureExtractor:
        if isinstance(self.features, str):
            self.features = feature_extractor(self.features, self.dataset)
        return self.features

    def evaluate(self) -> dict:
        """Measures the model's generator now; returns the metric values."""
        extractor = self._extractor()
        if self._real is None:
            images = random_subset(
                np.asarray(self.real_images), self.num_real, self.seed
            )
            keep = "kid" in self.metrics or "pr" in self.metrics
            self._real = extractor.extract(images, keep=keep)
            self._real_scores = real_image_scores(images, self.metrics)
        values = evaluate_generator(
            self.model.sampling_generator,
            self._real,
            extractor,
            num_samples=self.num_samples,
            metrics=self.metrics,
            latent_distribution=getattr(self.model, "latent_distribution", "normal"),
            seed=self.seed,
            real_artifacts=self._real_scores.get("artifacts"),
            real_periodic=self._real_scores.get("periodic"),
        )
        names = [n for m in self.metrics for n in LOGGED.get(m, (m,))]
        return {name: values[name] for name in names}

    def on_train_begin(self, logs=None):
        self._extractor()  # a data set without a classifier fails now, not later

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        last = done == self.params.get("epochs")
        if done % self.every and not last:
            return
        if logs is not None and not all(
            math.isfinite(float(v)) for v in logs.values() if np.ndim(v) == 0
        ):
            return  # a diverged epoch: nothing worth measuring or keeping
        values = self.evaluate()
        if logs is not None:
            logs.update(values)
        # A resumed run repeats the epochs after its last checkpoint.
        self.history = [h for h in self.history if h["epoch"] < done]
        best = self.best()
        self.history.append({"epoch": done, **values})
        if best is None or values[self.metric] < best[self.metric]:
            files.save_model(self.model.sampling_generator, self.best_path)
        streak = self.worse_streak()
        if self.verbose and streak >= self.patience:
            best = self.best()
            print(
                f"\nWarning: {self.metric} has worsened {streak} evaluations in a "
                f"row (now {values[self.metric]:.4g}, best {best[self.metric]:.4g} "
                f"at epoch {best['epoch']}, kept in {rundir.BEST_GENERATOR}); the "
                "generator may be collapsing."
            )
        self._save_state()

    def _save_state(self):
        best = self.best()
        state = {
            "metric": self.metric,
            "best": best[self.metric],
            "best_epoch": best["epoch"],
            "history": self.history,
        }
        files.write_json(self.state_path, state)


def check_quality_features(config: TrainConfig):
    """Checks, before any data is loaded, that `--quality-every` can measure.

    Returns:
        InceptionV3's feature network when the data set has no shipped
        classifier (built to check its weights), else None.

    Raises:
        ValueError: in one line, when the shipped classifier does not see
            this image shape, or InceptionV3's weights cannot be had.
    """
    native = IMAGE_SHAPES.get(config.dataset)
    if native is not None and tuple(native) != tuple(config.image_shape):
        raise ValueError(
            f"--quality-every measures with the shipped {config.dataset} classifier, "
            f"which sees {tuple(native)} images, not {config.image_shape}; use its "
            "native --image-size or --quality-every 0."
        )
    if native is None:
        try:
            return feature_extractor("inception")
        except Exception as error:  # the weights' download fails many ways
            raise ValueError(
                f"--quality-every needs InceptionV3's ImageNet weights for "
                f"{config.dataset} (no classifier ships for it), and they cannot be "
                f"had ({type(error).__name__}); use --quality-every 0."
            ) from None
    return None


def quality_monitor(config: TrainConfig, images, run: rundir.RunDir, features=None):
    """The run's quality monitor: KID (or FID) against its training images,
    on the shipped classifier's features where there is one, else InceptionV3
    (`features`, when already built)."""
    return QualityMonitor(
        images,
        run.path,
        features=features
        or ("classifier" if config.dataset in IMAGE_SHAPES else "inception"),
        dataset=config.dataset,
        every=config.quality_every,
        num_samples=config.quality_samples,
        metrics=tuple(config.quality_metrics.split(",")),
        seed=config.seed,
    )
