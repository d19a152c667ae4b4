"""Feature networks: images in, the features and class probabilities that the
distances of `dcgan_tf.quality.distances` compare.

Either InceptionV3 with ImageNet weights, for numbers in the literature's
units, or a small classifier trained on the data set itself
(`dcgan_tf.quality.classifiers`), which ships with the package and works
offline. Images go through the network in batches: FID keeps only running
sums, so 50,000 images never sit in memory as 299x299 tensors; KID and IS keep
the features and class probabilities (50,000 x 2048 float32 are 400 MB).
Keras is imported where a network is built, so that the commands check their
arguments (and answer --help) before TensorFlow starts.
"""

import warnings
from pathlib import Path

import numpy as np

from dcgan_tf.quality.classifiers import load_classifier
from dcgan_tf.quality.distances import RunningStats

FEATURES = ("classifier", "inception")
INCEPTION_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
INCEPTION_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
    + INCEPTION_FILE
)


class FeatureNetworkError(ValueError):
    """A feature network cannot be built, e.g. its weights are not available."""


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

        Raises:
            ValueError: for images of the wrong shape, or fewer than 2.
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
    """The 128-d penultimate features of a domain classifier.

    Args:
        dataset: `fashion_mnist` or `cifar10`: the classifier the package ships.
        weights: a `.weights.h5` file (default: the one the package ships).
        classifier: instead of the two above, any network of
            `build_classifier` (e.g. one `fit_classifier` trained on a folder).

    Raises:
        ValueError: for a data set without a classifier.
        FileNotFoundError: when the weights file is missing.
    """

    batch_size = 500

    def __init__(self, dataset: str | None = None, weights=None, *, classifier=None):
        import keras

        if classifier is None:
            classifier = load_classifier(dataset, weights)
        self.model = keras.Model(
            classifier.input,
            [classifier.get_layer("features").output, classifier.output],
        )
        self.image_shape = tuple(classifier.input_shape[1:])
        self.name = f"classifier-{dataset or classifier.name}"


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
        if weights not in ("imagenet", None) and not Path(weights).is_file():
            raise FeatureNetworkError(
                f"--inception-weights {weights} does not exist; it should be a local "
                f"copy of {INCEPTION_FILE} from {INCEPTION_URL}."
            )
        try:
            network = _quietly(_inception, weights, image_size)
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


def _quietly(load, *args):
    """`load(*args)`, with the warnings it raises held back: Keras warns once
    per layer it cannot match in a weights file (141 lines for a wrong file
    given as InceptionV3's) before it fails, and the failure says it all. A
    load that succeeds despite warnings says so in one warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        network = load(*args)
    if caught:
        first = " ".join(str(caught[0].message).split())
        warnings.warn(
            f"{len(caught)} warnings while loading the weights, the first: {first}",
            stacklevel=2,
        )
    return network


def _inception(weights, image_size: int):
    import keras

    applications = keras.applications
    if weights in ("imagenet", None):
        shape = None if weights else (image_size, image_size, 3)
        return applications.InceptionV3(weights=weights, input_shape=shape)
    try:
        return applications.InceptionV3(weights=str(weights))
    except Exception:  # A `_notop` file: pool features only.
        return applications.InceptionV3(
            include_top=False, pooling="avg", weights=str(weights)
        )


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
        FileNotFoundError: when the classifier's weights are missing.
        FeatureNetworkError: when InceptionV3's weights cannot be had.
    """
    if features == "classifier":
        return ClassifierFeatures(dataset)
    if features == "inception":
        return InceptionFeatures(inception_weights or "imagenet")
    raise ValueError(f"Unknown features {features!r}; choose one of {FEATURES}.")
