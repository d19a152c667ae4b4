"""FID, KID and Inception Score of generated images, on a chosen feature network.

Fréchet Inception Distance: Heusel et al. (2017); Kernel Inception Distance:
Bińkowski et al. (2018); Inception Score: Salimans et al. (2016). The feature
network is either InceptionV3 with ImageNet weights, for numbers in the
literature's units, or a small classifier trained on the data set itself
(`dcgan_tf.classifier`), which ships with the package and works offline.

Images go through the network in batches: FID keeps only running sums
(float64 mean and covariance), so 50,000 images never sit in memory as
299x299 tensors; KID and IS keep the features and class probabilities
(50,000 x 2048 float32 features are 400 MB).
"""

from pathlib import Path

import numpy as np

from dcgan_tf.images import to_uint8

METRICS = ("fid", "kid", "is")
FEATURES = ("classifier", "inception")
INCEPTION_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
INCEPTION_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
    + INCEPTION_FILE
)


class FeatureNetworkError(ValueError):
    """A feature network cannot be built, e.g. its weights are not available."""


def frechet_distance(mean1, cov1, mean2, cov2) -> float:
    """Fréchet distance between two Gaussians (the FID of their features).

    d^2 = |m1 - m2|^2 + tr(C1 + C2 - 2 (C1 C2)^(1/2)). The trace of the
    matrix square root equals that of the symmetric PSD matrix
    (C1^(1/2) C2 C1^(1/2))^(1/2), whose eigenvalues `eigh` finds exactly,
    which avoids scipy's `sqrtm` and its complex round-off.

    Args:
        mean1, mean2: `(d,)` feature means.
        cov1, cov2: `(d, d)` feature covariances.

    Returns:
        The squared Fréchet distance, a float >= 0.
    """
    mean1, mean2 = np.asarray(mean1, np.float64), np.asarray(mean2, np.float64)
    values, vectors = np.linalg.eigh(np.asarray(cov1, np.float64))
    root1 = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = root1 @ np.asarray(cov2, np.float64) @ root1
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None))
    distance = (
        np.sum((mean1 - mean2) ** 2)
        + np.trace(cov1)
        + np.trace(cov2)
        - 2 * trace_root.sum()
    )
    return float(max(distance, 0.0))


def kernel_distance(
    features1, features2, num_subsets: int = 100, subset_size: int = 1000, seed=0
) -> tuple[float, float]:
    """Kernel distance (KID): unbiased MMD^2 with the cubic polynomial kernel.

    k(x, y) = (x.y / d + 1)^3 as Bińkowski et al. (2018), estimated on
    `num_subsets` random subsets and averaged. Unbiased means the estimate
    of two samples of one distribution averages 0, so single values can be
    slightly negative.

    Args:
        features1, features2: `(n1, d)` and `(n2, d)` features.
        num_subsets: number of subsets drawn.
        subset_size: images per subset, lowered to the smaller sample size.
        seed: seed of the subset draws.

    Returns:
        `(mean, std)` of the subset estimates.
    """
    features1, features2 = np.asarray(features1), np.asarray(features2)
    size = min(subset_size, len(features1), len(features2))
    if size < 2:
        raise ValueError("KID needs at least 2 images in each set.")
    dim = features1.shape[1]
    rng = np.random.default_rng(seed)

    def kernel(a, b):
        # float32 products (3x faster on CPUs, ~1e-7 relative error), cubed
        # and summed in float64 where the small differences of KID live.
        return (np.asarray(a @ b.T, np.float64) / dim + 1.0) ** 3

    estimates = []
    for _ in range(num_subsets):
        x = features1[rng.choice(len(features1), size, replace=False)]
        y = features2[rng.choice(len(features2), size, replace=False)]
        x, y = x.astype(np.float32), y.astype(np.float32)
        k_xx, k_yy = kernel(x, x), kernel(y, y)
        # Leaving out the diagonal (k(x, x)) is what makes the estimate unbiased.
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (
            size * (size - 1)
        )
        estimates.append(within - 2 * kernel(x, y).mean())
    return float(np.mean(estimates)), float(np.std(estimates))


def inception_score(probabilities, splits: int = 10, seed=0) -> tuple[float, float]:
    """Inception Score exp(E_x KL(p(y|x) || p(y))), over splits.

    Args:
        probabilities: `(n, classes)` class probabilities of each image.
        splits: the images are shuffled (so class-sorted data sets score
            fairly) and cut into this many parts, each scored on its own
            (Salimans et al. use 10 splits of 5,000).
        seed: seed of the shuffle.

    Returns:
        `(mean, std)` over the splits: 1 for uniform predictions, k for
        confident predictions spread evenly over k classes.
    """
    probabilities = np.asarray(probabilities, np.float64)
    probabilities = probabilities[
        np.random.default_rng(seed).permutation(len(probabilities))
    ]
    tiny = np.finfo(np.float64).tiny
    scores = []
    for part in np.array_split(probabilities, min(splits, len(probabilities))):
        marginal = part.mean(axis=0, keepdims=True)
        log_ratio = np.log(np.maximum(part, tiny)) - np.log(np.maximum(marginal, tiny))
        kl = np.sum(np.where(part > 0, part * log_ratio, 0.0), axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


class RunningStats:
    """Mean and covariance of features that arrive in batches, in float64.

    Sums are taken around the first batch's mean, which keeps the
    sum-of-outer-products formula free of cancellation.
    """

    def __init__(self):
        self.count = 0
        self._shift = self._sum = self._outer = None

    def update(self, features) -> None:
        features = np.asarray(features, np.float64)
        if self._shift is None:
            self._shift = features.mean(axis=0)
            self._sum = np.zeros_like(self._shift)
            self._outer = np.zeros((len(self._shift), len(self._shift)))
        centred = features - self._shift
        self.count += len(features)
        self._sum += centred.sum(axis=0)
        self._outer += centred.T @ centred

    @property
    def mean(self) -> np.ndarray:
        return self._shift + self._sum / self.count

    @property
    def covariance(self) -> np.ndarray:
        """The unbiased (n - 1) sample covariance, as `np.cov`."""
        mean = self._sum / self.count
        return (self._outer - self.count * np.outer(mean, mean)) / (self.count - 1)


class Features:
    """What one set of images gives the metrics: feature statistics for FID,
    and, when kept, the features for KID and class probabilities for IS."""

    def __init__(self, keep: bool = True):
        self.stats = RunningStats()
        self.keep = keep
        self._features, self._probabilities = [], []

    @property
    def count(self) -> int:
        return self.stats.count

    @property
    def features(self) -> np.ndarray:
        if not self._features:
            raise ValueError("KID needs the features: extract them with keep=True.")
        return np.concatenate(self._features)

    @property
    def probabilities(self) -> np.ndarray | None:
        return np.concatenate(self._probabilities) if self._probabilities else None

    def update(self, features, probabilities=None) -> None:
        self.stats.update(features)
        if self.keep:
            self._features.append(np.asarray(features, np.float32))
            if probabilities is not None:
                self._probabilities.append(np.asarray(probabilities, np.float32))


class FeatureExtractor:
    """Maps images (uint8, or floats in [-1, 1]) to features and probabilities.

    Subclasses set `model` (a Keras model from preprocessed images to
    `[features, probabilities]`), `name`, `batch_size` and `_preprocess`.
    """

    name = "features"
    batch_size = 250
    image_shape = None  # (height, width, channels) that the network accepts.

    def _to_unit(self, images) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim != 4:
            raise ValueError(f"Expected NHWC images, got shape {images.shape}.")
        if self.image_shape and images.shape[1:] != tuple(self.image_shape):
            raise ValueError(
                f"The {self.name} features take images of shape "
                f"{tuple(self.image_shape)}, got {images.shape[1:]}."
            )
        if images.dtype == np.uint8:
            return images.astype(np.float32) / 127.5 - 1.0
        return np.clip(images.astype(np.float32), -1.0, 1.0)

    def _preprocess(self, images):
        return self._to_unit(images)

    def __call__(self, images) -> tuple[np.ndarray, np.ndarray | None]:
        """Features `(n, d)` float64 and probabilities `(n, classes)` of one batch."""
        outputs = self.model.predict_on_batch(self._preprocess(images))
        if isinstance(outputs, list | tuple):
            features, probabilities = outputs[0], np.asarray(outputs[1])
        else:  # a network without a classification head
            features, probabilities = outputs, None
        return np.asarray(features, np.float64), probabilities

    def extract(self, images, batch_size: int | None = None, keep=True) -> Features:
        """Runs images through the network in batches.

        Args:
            images: an array of images, or an iterable of batches (e.g. a
                generator of generated images), so no more than one batch
                is ever preprocessed at once.
            batch_size: images per network call (default: `self.batch_size`).
            keep: keep features and probabilities for KID and IS.

        Returns:
            The `Features` of all the images.
        """
        batch_size = batch_size or self.batch_size
        result = Features(keep)
        batches = [images] if isinstance(images, np.ndarray) else images
        traced = False
        for batch in batches:
            for start in range(0, len(batch), batch_size):
                chunk = batch[start : start + batch_size]
                count = len(chunk)
                if traced and count < batch_size:
                    # Padding a short last batch spares re-tracing the network.
                    extra = np.repeat(chunk[-1:], batch_size - count, axis=0)
                    chunk = np.concatenate([chunk, extra])
                features, probabilities = self(chunk)
                if probabilities is not None:
                    probabilities = probabilities[:count]
                result.update(features[:count], probabilities)
                traced = traced or count == batch_size
        if result.count < 2:
            raise ValueError("The metrics need at least 2 images.")
        return result


class ClassifierFeatures(FeatureExtractor):
    """The 128-d penultimate features of the shipped domain classifier."""

    batch_size = 500

    def __init__(self, dataset: str, weights=None):
        import keras

        from dcgan_tf.classifier import IMAGE_SHAPES, load_classifier

        classifier = load_classifier(dataset, weights)
        self.model = keras.Model(
            classifier.input,
            [classifier.get_layer("features").output, classifier.output],
        )
        self.image_shape = IMAGE_SHAPES[dataset]
        self.name = f"classifier-{dataset}"


class InceptionFeatures(FeatureExtractor):
    """InceptionV3's 2048-d pool features and its 1000 ImageNet probabilities.

    As pytorch-fid and TTUR do, images are resized bilinearly to 299x299 and
    gray is replicated to three channels. These are Keras' ImageNet weights,
    not the 2015 graph of TTUR's FID, so values are close to but not equal
    to published ones; the IS uses Keras' 1000-class head, not 1008 classes.

    Args:
        weights: `"imagenet"` (downloaded once to `~/.keras/models`), the
            path of a local copy of `INCEPTION_FILE`, or of the `_notop`
            file (then no probabilities, so no IS), or `None` for random
            weights (tests only).
        image_size: side the images are resized to; other than 299 only
            with `weights=None` (tests; InceptionV3 takes 75 and up).

    Raises:
        FeatureNetworkError: when the weights cannot be had.
    """

    batch_size = 50

    def __init__(self, weights="imagenet", image_size: int = 299):
        import keras

        self.image_size = image_size
        self.name = "inception"
        applications = keras.applications
        shape = (image_size, image_size, 3)
        if weights not in ("imagenet", None) and not Path(weights).is_file():
            raise FeatureNetworkError(
                f"--inception-weights {weights} does not exist; it should be a local "
                f"copy of {INCEPTION_FILE} from {INCEPTION_URL}."
            )
        try:
            if weights not in ("imagenet", None):
                weights = str(weights)
                try:
                    network = applications.InceptionV3(weights=weights)
                except Exception:  # A `_notop` file: pool features only.
                    network = applications.InceptionV3(
                        include_top=False, pooling="avg", weights=weights
                    )
            else:
                network = applications.InceptionV3(
                    weights=weights, input_shape=None if weights else shape
                )
        except Exception as error:
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            # Keras says "URL fetch failure on URL: errno -- reason".
            reason = reason.split(" -- ", 1)[-1]
            hint = (
                f"could not be downloaded ({reason[:120]})"
                if weights == "imagenet"
                else f"could not be loaded from {weights} ({reason[:120]})"
            )
            raise FeatureNetworkError(
                f"InceptionV3 ImageNet weights {hint}; pass --inception-weights "
                f"PATH to a local copy of {INCEPTION_FILE} from {INCEPTION_URL}."
            ) from error
        if network.layers[-1].name == "predictions":
            outputs = [network.get_layer("avg_pool").output, network.output]
        else:
            outputs = [network.output]
        self.model = keras.Model(network.input, outputs)

    def _preprocess(self, images):
        from keras import ops

        images = self._to_unit(images)
        if images.shape[-1] == 1:
            images = np.repeat(images, 3, axis=-1)
        # In [-1, 1] already, which is InceptionV3's `preprocess_input`.
        size = (self.image_size, self.image_size)
        return ops.image.resize(images, size, interpolation="bilinear")


def feature_extractor(
    features: str, dataset: str | None = None, inception_weights=None
) -> FeatureExtractor:
    """Builds a feature network by name.

    Args:
        features: `classifier` (the shipped one for `dataset`) or `inception`.
        dataset: data set of the classifier.
        inception_weights: local InceptionV3 weights (default: download).

    Raises:
        ValueError: for an unknown name or a data set without a classifier.
        FeatureNetworkError: when InceptionV3's weights cannot be had.
    """
    if features == "classifier":
        return ClassifierFeatures(dataset)
    if features == "inception":
        return InceptionFeatures(inception_weights or "imagenet")
    raise ValueError(f"Unknown features {features!r}; choose one of {FEATURES}.")


def compare(real: Features, fake: Features, metrics=METRICS, seed=0) -> dict:
    """Computes metrics of `fake` against `real`.

    Returns:
        A dict with `fid`, `kid` and `kid_std`, `is` and `is_std` (of the
        fake images) and `is_real` (of the real ones, the ceiling), for the
        metrics asked for.

    Raises:
        ValueError: for an unknown metric, or IS without probabilities.
    """
    unknown = set(metrics) - set(METRICS)
    if unknown:
        raise ValueError(f"Unknown metrics {sorted(unknown)}; choose from {METRICS}.")
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
    generator, num_samples: int, latent_distribution="normal", seed=0, batch_size=250
):
    """Yields batches of uint8 images from a generator, `num_samples` in all.

    The latents come from one seeded stream, so the images do not depend on
    `batch_size`; outputs are rounded to uint8 as if saved as PNG, so fake
    images reach the feature network exactly as real ones do.
    """
    if latent_distribution not in ("normal", "uniform"):
        raise ValueError(
            f"latent_distribution must be 'normal' or 'uniform', "
            f"got {latent_distribution!r}."
        )
    rng = np.random.default_rng(seed)
    latent_dim = generator.input_shape[-1]
    for start in range(0, num_samples, batch_size):
        shape = (min(batch_size, num_samples - start), latent_dim)
        if latent_distribution == "uniform":
            latents = rng.uniform(-1.0, 1.0, shape)
        else:
            latents = rng.standard_normal(shape)
        yield to_uint8(generator(latents.astype(np.float32), training=False))


def evaluate_generator(
    generator,
    real_images,
    features: FeatureExtractor,
    num_samples: int = 10_000,
    metrics=METRICS,
    latent_distribution: str = "normal",
    seed: int = 0,
) -> dict:
    """Measures a generator against real images.

    Args:
        generator: a Keras model from `(batch, latent_dim)` to images in [-1, 1].
        real_images: uint8 images, or their `Features` from
            `features.extract` (computed once when measuring repeatedly).
        features: the `FeatureExtractor`.
        num_samples: number of generated images.
        metrics: any of `fid`, `kid`, `is`.
        latent_distribution: `normal` or `uniform`, as the generator was trained.
        seed: seed of the latents and of the KID subsets.

    Returns:
        `compare`'s dict, plus `num_samples` and `num_real`.
    """
    keep = "kid" in metrics or "is" in metrics
    real = real_images
    if not isinstance(real, Features):
        real = features.extract(real_images, keep=keep)
    batches = sample_images(generator, num_samples, latent_distribution, seed)
    fake = features.extract(batches, keep=keep)
    result = compare(real, fake, metrics, seed=seed)
    return {**result, "num_samples": fake.count, "num_real": real.count}
