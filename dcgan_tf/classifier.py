"""Small domain classifiers whose features measure generated images offline.

InceptionV3 sees 28x28 gray clothes as blurry 299x299 ImageNet photos and
needs a 92 MB download; these convnets are trained on the data set itself,
ship with the package (about 1 MB each) and give 128-d penultimate features
for FID/KID and class probabilities for the Inception Score (`dcgan_tf.metrics`).

Train one with
`python -m dcgan_tf.classifier --dataset fashion_mnist --data-dir DIR
--out dcgan_tf/weights/fashion_mnist_classifier.weights.h5`; its test
accuracy, command and date are recorded in `weights/classifiers.json`.
"""

import argparse
import datetime
import gzip
import io
import json
import os
import sys
import tarfile
import time
from pathlib import Path

import keras
import numpy as np
from keras import layers

WEIGHTS_DIR = Path(__file__).parent / "weights"
RECORD_FILE = "classifiers.json"
IMAGE_SHAPES = {"fashion_mnist": (28, 28, 1), "cifar10": (32, 32, 3)}
# Alphabetical, which is also the label order of the original CIFAR-10 batches.
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FEATURE_DIM = 128
# Per data set: epochs that fit a few minutes to an hour on a 2-core CPU, and
# whether to flip horizontally (CIFAR-10's classes are mirror-symmetric; the
# shifts alone are the augmentation of Fashion-MNIST, kept as close to its
# centred, upright items as possible).
TRAINING = {
    "fashion_mnist": {"epochs": 6, "flip": False},
    "cifar10": {"epochs": 10, "flip": True},
}


def build_classifier(image_shape, num_classes: int = 10, name: str = "classifier"):
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
    if dataset not in IMAGE_SHAPES:
        raise ValueError(
            f"No classifier for dataset {dataset!r} (there are: "
            f"{', '.join(IMAGE_SHAPES)}); use the inception features instead."
        )
    path = Path(weights) if weights else weights_path(dataset)
    if not path.is_file():
        raise FileNotFoundError(
            f"Classifier weights {path} not found; train them with "
            f"`python -m dcgan_tf.classifier --dataset {dataset} --out {path}`."
        )
    model = build_classifier(IMAGE_SHAPES[dataset], name=f"{dataset}_classifier")
    model.load_weights(path)
    return model


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def _find(data_dir: Path, names) -> Path | None:
    for folder in (data_dir, data_dir / "fashion-mnist", data_dir / "fashion_mnist"):
        if all((folder / name).is_file() for name in names):
            return folder
    return None


def _load_fashion_mnist(data_dir: Path, split: str):
    names = IDX_FILES[split]
    folder = _find(data_dir, names)
    if folder is None:
        raise FileNotFoundError(
            f"Fashion-MNIST IDX files {', '.join(names)} not found in {data_dir}."
        )
    images = _read_idx(folder / names[0])[..., None]
    return images, _read_idx(folder / names[1]).astype(np.int64)


def _decode_jpeg(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _load_cifar10(data_dir: Path, split: str):
    images, labels = [], []
    tarball = data_dir / "cifar10-jpg.tar.gz"
    folder = next(
        (d for d in (data_dir / split, data_dir / "cifar10" / split) if d.is_dir()),
        None,
    )
    if folder is not None:
        for label, name in enumerate(CIFAR10_CLASSES):
            for path in sorted((folder / name).glob("*.jpg")):
                images.append(_decode_jpeg(path.read_bytes()))
                labels.append(label)
    elif tarball.is_file():
        with tarfile.open(tarball) as archive:
            for member in archive:
                parts = Path(member.name).parts
                if member.isfile() and len(parts) >= 3 and parts[-3] == split:
                    data = archive.extractfile(member).read()
                    images.append(_decode_jpeg(data))
                    labels.append(CIFAR10_CLASSES.index(parts[-2]))
    if not images:
        raise FileNotFoundError(
            f"CIFAR-10 not found in {data_dir}: expected {split}/<class>/*.jpg "
            "or cifar10-jpg.tar.gz."
        )
    return np.stack(images), np.asarray(labels, np.int64)


def load_labeled(dataset: str, data_dir=None, split: str = "train"):
    """Reads a labelled split for training and testing the classifiers.

    Args:
        dataset: `fashion_mnist` or `cifar10`.
        data_dir: folder with Fashion-MNIST's IDX `.gz` files, or CIFAR-10 as
            `SPLIT/<class>/*.jpg` or `cifar10-jpg.tar.gz`. Without one, Keras
            downloads the data set (or reads its cache, `~/.keras/datasets`).
        split: `train` or `test`.

    Returns:
        `(images, labels)`: uint8 `(n, height, width, channels)` and int64 `(n,)`.

    Raises:
        FileNotFoundError: when the files are missing or cannot be downloaded.
    """
    if data_dir is not None:
        loader = _load_fashion_mnist if dataset == "fashion_mnist" else _load_cifar10
        return loader(Path(data_dir), split)
    module = getattr(keras.datasets, dataset)
    try:
        train, test = module.load_data()
    except Exception as error:
        raise FileNotFoundError(
            f"Could not download {dataset} ({type(error).__name__}); pass "
            "--data-dir with its files."
        ) from error
    images, labels = train if split == "train" else test
    if images.ndim == 3:
        images = images[..., None]
    return images, labels.reshape(-1).astype(np.int64)


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
        data_dir: see `load_labeled`.
        epochs: passes over the training split (default: `TRAINING[dataset]`).
        batch_size: images per step.
        seed: seed of the weights, the data order and the augmentation.
        verbose: Keras' progress output.

    Returns:
        `(model, test_accuracy)`.
    """
    keras.utils.set_random_seed(seed)
    settings = TRAINING[dataset]
    epochs = epochs or settings["epochs"]
    train_images, train_labels = load_labeled(dataset, data_dir, "train")
    test_images, test_labels = load_labeled(dataset, data_dir, "test")
    model = build_classifier(IMAGE_SHAPES[dataset], name=f"{dataset}_classifier")
    steps = epochs * -(-len(train_images) // batch_size)
    model.compile(
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(1e-3, steps)
        ),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        _dataset(train_images, train_labels, batch_size, seed, settings["flip"]),
        epochs=epochs,
        shuffle=False,
        verbose=verbose,
    )
    _, accuracy = model.evaluate(
        _dataset(test_images, test_labels, 500), verbose=verbose
    )
    return model, float(accuracy)


def _record(out: Path, dataset: str, entry: dict) -> Path:
    path = out.parent / RECORD_FILE
    records = json.loads(path.read_text()) if path.is_file() else {}
    records[dataset] = entry
    path.write_text(json.dumps(records, indent=2, sort_keys=True) + "\n")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m dcgan_tf.classifier",
        description="Train the small domain classifier whose features "
        "dcgan_tf.metrics uses for FID, KID and the Inception Score.",
        epilog="examples:\n"
        "  python -m dcgan_tf.classifier --dataset fashion_mnist "
        "--data-dir ../shared/data/fashion-mnist "
        "--out dcgan_tf/weights/fashion_mnist_classifier.weights.h5\n"
        "  python -m dcgan_tf.classifier --dataset cifar10 --data-dir /tmp/cifar "
        "--out dcgan_tf/weights/cifar10_classifier.weights.h5",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--dataset", required=True, choices=sorted(IMAGE_SHAPES), help="Data set."
    )
    parser.add_argument(
        "--data-dir",
        help="Folder with the data set's files (Fashion-MNIST IDX .gz; CIFAR-10 "
        "as train/<class>/*.jpg or cifar10-jpg.tar.gz). Default: Keras download.",
    )
    parser.add_argument(
        "--out",
        required=True,
        help="Weights file to write (must end in .weights.h5); the test accuracy "
        f"is recorded in {RECORD_FILE} beside it.",
    )
    parser.add_argument(
        "--epochs", type=int, help="Epochs (default: 6 fashion_mnist, 10 cifar10)."
    )
    parser.add_argument("--batch-size", type=int, default=128, help="Batch size.")
    parser.add_argument("--seed", type=int, default=0, help="Random seed.")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if not out.name.endswith(".weights.h5"):
        parser.error("--out must end in .weights.h5 (Keras 3 requires it).")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1.")
    start = time.time()
    try:
        model, accuracy = train_classifier(
            args.dataset, args.data_dir, args.epochs, args.batch_size, args.seed
        )
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    out.parent.mkdir(parents=True, exist_ok=True)
    # A compiled model's weights file also holds Adam's moments (3x the size).
    shipped = build_classifier(IMAGE_SHAPES[args.dataset], name=model.name)
    shipped.set_weights(model.get_weights())
    shipped.save_weights(out)
    command = "python -m dcgan_tf.classifier " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    record = _record(
        out,
        args.dataset,
        {
            "weights": out.name,
            "test_accuracy": round(accuracy, 4),
            "epochs": args.epochs or TRAINING[args.dataset]["epochs"],
            "batch_size": args.batch_size,
            "seed": args.seed,
            "parameters": model.count_params(),
            "train_minutes": round((time.time() - start) / 60, 1),
            "cpu_cores": os.cpu_count(),
            "command": command,
            "date": datetime.date.today().isoformat(),
            "keras": keras.__version__,
        },
    )
    print(f"test accuracy {accuracy:.4f}; wrote {out} and {record}")


if __name__ == "__main__":
    main()
