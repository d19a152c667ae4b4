"""The small domain classifiers whose features measure generated images offline.

InceptionV3 sees 28x28 gray clothes as blurry 299x299 ImageNet photos and
needs a 92 MB download; these convnets are trained on the data set itself,
ship with the package (about 1 MB each) and give 128-d penultimate features
for FID/KID and class probabilities for the Inception Score
(`dcgan_tf.quality.features`). `python -m dcgan_tf.train_classifier` trains
one; its test accuracy, command and date go into `weights/classifiers.json`.
Keras is imported by the functions that build networks, so that the names
here (`IMAGE_SHAPES`) cost nothing to import before the commands' checks.
"""

import json
from pathlib import Path

from dcgan_tf.system import files

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
RECORD_FILE = "classifiers.json"
IMAGE_SHAPES = {"fashion_mnist": (28, 28, 1), "cifar10": (32, 32, 3)}
NUM_CLASSES = 10
FEATURE_DIM = 128
# Per data set: epochs that fit a few minutes to an hour on a 2-core CPU, and
# whether to flip horizontally (CIFAR-10's classes are mirror-symmetric; the
# shifts alone are the augmentation of Fashion-MNIST, kept as close to its
# centred, upright items as possible).
TRAINING = {
    "fashion_mnist": {"epochs": 6, "flip": False},
    "cifar10": {"epochs": 10, "flip": True},
}
TRAIN_COMMAND = "python -m dcgan_tf.train_classifier"


def build_classifier(
    image_shape, num_classes: int = NUM_CLASSES, name: str = "classifier"
):
    """Builds the small convnet whose penultimate layer gives the features.

    Three VGG-style blocks (two 3x3 convolutions with batch norm and ReLU,
    then 2x2 max pooling), global average pooling, a 128-unit ReLU layer
    named `features`, dropout and a softmax layer named `probabilities`.

    Args:
        image_shape: `(height, width, channels)` of the images, in [-1, 1].
        num_classes: number of classes.
        name: name of the model.

    Returns:
        A `keras.Model` from images in [-1, 1] to class probabilities.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=tuple(image_shape), name="images")
    x = inputs
    for block, filters in enumerate((32, 64, 128), start=1):
        for conv in (1, 2):
            x = layers.Conv2D(
                filters,
                3,
                padding="same",
                use_bias=False,
                name=f"block{block}_conv{conv}",
            )(x)
            x = layers.BatchNormalization(name=f"block{block}_bn{conv}")(x)
            x = layers.ReLU(name=f"block{block}_relu{conv}")(x)
        # (batch, height / 2**block, width / 2**block, filters)
        x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    # (batch, 128): the features that FID and KID compare.
    x = layers.Dense(FEATURE_DIM, activation="relu", name="features")(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def weights_path(dataset: str) -> Path:
    """Where the package keeps the shipped weights of `dataset`'s classifier."""
    return WEIGHTS_DIR / f"{dataset}_classifier.weights.h5"


def check_dataset(dataset: str) -> None:
    """Raises ValueError for a data set without a classifier."""
    if dataset not in IMAGE_SHAPES:
        raise ValueError(
            f"No classifier for dataset {dataset!r} (there are: "
            f"{', '.join(IMAGE_SHAPES)}); use the inception features instead."
        )


def load_classifier(dataset: str, weights: str | Path | None = None):
    """Rebuilds a classifier and loads its trained weights.

    Args:
        dataset: `fashion_mnist` or `cifar10`.
        weights: a `.weights.h5` file (default: the one the package ships).

    Returns:
        The `keras.Model` of `build_classifier`, with trained weights.

    Raises:
        ValueError: for a data set without a classifier.
        FileNotFoundError: when the weights file is missing.
    """
    check_dataset(dataset)
    path = Path(weights) if weights else weights_path(dataset)
    if not path.is_file():
        raise FileNotFoundError(
            f"Classifier weights {path} not found; train them with "
            f"`{TRAIN_COMMAND} --dataset {dataset} --out {path}`."
        )
    model = build_classifier(IMAGE_SHAPES[dataset], name=f"{dataset}_classifier")
    model.load_weights(path)
    return model


def _dataset(images, labels, batch_size, seed=None, flip=False):
    import tensorflow as tf  # tf.data only: the input pipeline is TF-specific.

    def prepare(x, y):
        x = tf.cast(x, tf.float32) / 127.5 - 1.0
        if seed is not None:
            # Shifts of up to 3 pixels (zero padding, then one random crop
            # for the whole batch, which is cheap), and per-image flips.
            shape = tf.shape(x)
            x = tf.pad(x, [[0, 0], [3, 3], [3, 3], [0, 0]])
            x = tf.image.random_crop(x, shape)
            if flip:
                x = tf.where(
                    tf.random.uniform([shape[0], 1, 1, 1]) < 0.5, x[:, :, ::-1], x
                )
        return x, y

    data = tf.data.Dataset.from_tensor_slices((images, labels))
    if seed is not None:
        data = data.shuffle(len(images), seed=seed)
    data = data.batch(batch_size).map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    return data.prefetch(tf.data.AUTOTUNE)


def train_classifier(
    dataset, data_dir=None, epochs=None, batch_size=128, seed=0, verbose=1
):
    """Trains a classifier from scratch and measures its test accuracy.

    Args:
        dataset: `fashion_mnist` or `cifar10`.
        data_dir: where the data set's files are (see
            `dcgan_tf.data.load_labeled`).
        epochs: passes over the training split (default: `TRAINING[dataset]`).
        batch_size: images per step.
        seed: seed of the weights, the data order and the augmentation.
        verbose: Keras' progress output.

    Returns:
        `(model, test_accuracy)`.

    Raises:
        ValueError: for a data set without a classifier.
        dcgan_tf.data.DataError: when the labelled data cannot be read.
    """
    from dcgan_tf.data import load_labeled

    check_dataset(dataset)
    settings = TRAINING[dataset]
    size = IMAGE_SHAPES[dataset][0]
    train = load_labeled(dataset, data_dir, "train", image_size=size)
    test = load_labeled(dataset, data_dir, "test", image_size=size)
    return fit_classifier(
        train[:2],
        test[:2],
        len(train[2]),
        epochs=epochs or settings["epochs"],
        flip=settings["flip"],
        batch_size=batch_size,
        seed=seed,
        name=f"{dataset}_classifier",
        verbose=verbose,
    )


def fit_classifier(
    train,
    test,
    num_classes,
    epochs,
    flip,
    batch_size=128,
    seed=0,
    name="classifier",
    verbose=1,
):
    """Builds and trains a classifier on any labelled images, the recipe of the
    shipped ones: Adam at 1e-3 with cosine decay, shifts of up to 3 pixels and
    optional horizontal flips.

    Args:
        train: `(images, labels)`: uint8 `(n, h, w, c)` and int `(n,)`.
        test: `(images, labels)` that measure its accuracy.
        num_classes: number of classes.
        epochs: passes over `train`.
        flip: flip images horizontally at random while training.
        batch_size: images per step.
        seed: seed of the weights, the data order and the augmentation.
        name: name of the model.
        verbose: Keras' progress output.

    Returns:
        `(model, test_accuracy)`.
    """
    import keras

    keras.utils.set_random_seed(seed)
    train_images, train_labels = train
    model = build_classifier(train_images.shape[1:], num_classes, name=name)
    steps = epochs * -(-len(train_images) // batch_size)
    model.compile(
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(1e-3, steps)
        ),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        _dataset(train_images, train_labels, batch_size, seed, flip),
        epochs=epochs,
        shuffle=False,
        verbose=verbose,
    )
    _, accuracy = model.evaluate(_dataset(*test, 500), verbose=verbose)
    return model, float(accuracy)


def save_classifier(model, path) -> Path:
    """Writes a trained classifier's weights, atomically, without its optimiser.

    A compiled model's weights file also holds Adam's moments (3x the size);
    the copy written is what `load_classifier` rebuilds.

    Raises:
        dcgan_tf.system.files.WriteError: when the file cannot be written.
    """
    shipped = build_classifier(
        model.input_shape[1:], model.output_shape[-1], name=model.name
    )
    shipped.set_weights(model.get_weights())
    return files.write_atomically(path, shipped.save_weights)


def record_path(weights) -> Path:
    """The record of the classifiers whose weights sit beside `weights`."""
    return Path(weights).parent / RECORD_FILE


def read_records(path) -> dict:
    """The training records of `classifiers.json`, by data set (empty if none).

    Raises:
        ValueError: for a file that is not a JSON object, in one line.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        records = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise ValueError(
            f"Cannot read {path} ({reason}); fix or remove it first."
        ) from None
    if not isinstance(records, dict):
        raise ValueError(f"{path} is not a JSON object; fix or remove it first.")
    return records


def write_record(path, dataset: str, entry: dict) -> Path:
    """Sets `dataset`'s entry in the record file, keeping the others.

    Raises:
        ValueError: see `read_records`.
        dcgan_tf.system.files.WriteError: when the file cannot be written.
    """
    records = read_records(path)
    records[dataset] = entry
    text = json.dumps(records, indent=2, sort_keys=True) + "\n"
    return files.write_text(path, text)
