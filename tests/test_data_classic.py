"""Finding, reading and downloading the classic data sets, with their labels
(dcgan_tf.data.classic and .formats), and the argument checks of the public face.

Through `dcgan_tf.data.load_images` and `load_labeled`, on small real samples
shipped in tests/data/; the `isolated_data` fixture hides this machine's
copies and cuts the download off.
"""

import gzip
import io
import pickle
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dcgan_tf import data
from dcgan_tf.data import classic, formats

SAMPLES = Path(__file__).resolve().parent / "data"
FASHION = SAMPLES / "fashion-mnist"
CIFAR = SAMPLES / "cifar10"
FOLDER = SAMPLES / "folder"

pytestmark = pytest.mark.usefixtures("isolated_data")


def test_fashion_mnist_reads_the_idx_files_per_split():
    train = data.load_images("fashion_mnist", data_dir=FASHION)
    test = data.load_images("fashion_mnist", data_dir=FASHION, split="test")

    assert train.shape == (256, 28, 28, 1) and train.dtype == np.uint8
    assert test.shape == (64, 28, 28, 1)
    assert train.min() == 0 and train.max() == 255
    assert not np.array_equal(train[:64], test)


def test_limit_keeps_the_first_images_and_image_size_resizes():
    full = data.load_images("fashion_mnist", data_dir=SAMPLES)  # finds fashion-mnist/
    first = data.load_images("fashion_mnist", data_dir=SAMPLES, limit=10)
    large = data.load_images("fashion_mnist", data_dir=SAMPLES, image_size=32, limit=5)

    np.testing.assert_array_equal(first, full[:10])
    assert large.shape == (5, 32, 32, 1) and large.dtype == np.uint8


@pytest.mark.parametrize(
    "place, folder",
    [
        ("project", "fashion-mnist"),
        ("project", "fashion_mnist"),
        ("keras", "datasets/fashion-mnist"),
        ("system", "fashion-mnist"),
    ],
)
def test_fashion_mnist_is_found_in_the_usual_places(isolated_data, place, folder):
    shutil.copytree(FASHION, isolated_data[place] / folder)

    images = data.load_images("fashion_mnist", split="test")

    assert images.shape == (64, 28, 28, 1)
    assert str(isolated_data[place]) in data.describe("fashion_mnist")


def test_mnist_reads_the_keras_cache_file(isolated_data):
    digits, labels, _ = data.load_labeled("fashion_mnist", data_dir=FASHION)
    cache = isolated_data["keras"] / "datasets"
    cache.mkdir(parents=True)
    np.savez(
        cache / "mnist.npz",
        x_train=digits[..., 0],
        y_train=labels.astype(np.uint8),
        x_test=digits[:8, ..., 0],
        y_test=labels[:8].astype(np.uint8),
    )

    images = data.load_images("mnist", split="test")
    _, test_labels, names = data.load_labeled("mnist", split="test")

    assert images.shape == (8, 28, 28, 1)
    np.testing.assert_array_equal(images, digits[:8])
    np.testing.assert_array_equal(test_labels, labels[:8])
    assert test_labels.dtype == np.int64 and names == tuple("0123456789")


def read_idx_labels(path: Path) -> np.ndarray:
    """Labels straight from the file: an 8-byte header, then one byte each."""
    with gzip.open(path, "rb") as file:
        return np.frombuffer(file.read(), np.uint8, offset=8).astype(np.int64)


def test_fashion_mnist_labels_come_from_the_idx_labels_file():
    images, labels, names = data.load_labeled("fashion_mnist", data_dir=FASHION)
    _, test_labels, _ = data.load_labeled("fashion_mnist", FASHION, split="test")
    first, few, _ = data.load_labeled("fashion_mnist", FASHION, limit=10)

    np.testing.assert_array_equal(images, data.load_images("fashion_mnist", FASHION))
    assert labels.dtype == np.int64 and labels.shape == (256,)
    np.testing.assert_array_equal(
        labels, read_idx_labels(FASHION / "train-labels-idx1-ubyte.gz")
    )
    np.testing.assert_array_equal(
        test_labels, read_idx_labels(FASHION / "t10k-labels-idx1-ubyte.gz")
    )
    # The published order: the first training image is an ankle boot.
    assert labels[:4].tolist() == [9, 0, 0, 3] and names[9] == "Ankle boot"
    assert names == data.CLASS_NAMES["fashion_mnist"] and len(names) == 10
    np.testing.assert_array_equal(few, labels[:10])
    assert first.shape == (10, 28, 28, 1)


def test_idx_images_without_their_labels_say_which_file_to_add(tmp_path):
    shutil.copy(FASHION / "t10k-images-idx3-ubyte.gz", tmp_path)

    assert data.load_images("fashion_mnist", tmp_path, split="test").shape[0] == 64
    with pytest.raises(data.DataError) as error:
        data.load_labeled("fashion_mnist", tmp_path, split="test")

    message = str(error.value)
    assert "\n" not in message and "t10k-labels-idx1-ubyte.gz" in message


def test_cifar10_reads_a_folder_of_jpegs_per_split():
    train = data.load_images("cifar10", data_dir=CIFAR)
    test = data.load_images("cifar10", data_dir=CIFAR, split="test")

    assert train.shape == (100, 32, 32, 3) and train.dtype == np.uint8
    assert test.shape == (30, 32, 32, 3)
    first = sorted((CIFAR / "train").rglob("*.jpg"))[0]
    np.testing.assert_array_equal(train[0], np.asarray(Image.open(first)))


def test_cifar10_labels_follow_the_class_folders():
    images, labels, names = data.load_labeled("cifar10", data_dir=CIFAR)
    _, test_labels, _ = data.load_labeled("cifar10", data_dir=CIFAR, split="test")

    files = sorted((CIFAR / "train").rglob("*.jpg"))
    assert names == data.CLASS_NAMES["cifar10"] and names[0] == "airplane"
    assert [names[label] for label in labels] == [path.parent.name for path in files]
    assert np.bincount(labels).tolist() == [10] * 10
    assert np.bincount(test_labels).tolist() == [3] * 10
    np.testing.assert_array_equal(images, data.load_images("cifar10", CIFAR))
    np.testing.assert_array_equal(images[-1], np.asarray(Image.open(files[-1])))


def test_cifar10_reads_the_jpeg_archive_with_labels(tmp_path):
    with tarfile.open(tmp_path / "cifar10-jpg.tar.gz", "w:gz") as tar:
        tar.add(CIFAR, "cifar10")

    for split in ("train", "test"):
        expected = data.load_labeled("cifar10", data_dir=CIFAR, split=split)
        got = data.load_labeled("cifar10", data_dir=tmp_path, split=split)

        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
        assert got[2] == expected[2]
    assert "JPEG archive" in data.describe("cifar10", tmp_path)
    large = data.load_images("cifar10", data_dir=tmp_path, image_size=40, limit=3)
    assert large.shape == (3, 40, 40, 3)


def test_a_cifar_folder_of_another_class_is_refused(tmp_path):
    shutil.copytree(CIFAR / "test" / "cat", tmp_path / "test" / "zebra")

    with pytest.raises(data.DataError, match="zebra is not a CIFAR-10 class"):
        data.load_labeled("cifar10", data_dir=tmp_path, split="test")


def write_cifar_batches(folder: Path, images: np.ndarray, labels) -> None:
    """The official python version: pickled dicts with byte-string keys whose
    rows hold the red, green and blue planes of one image."""
    folder.mkdir(parents=True)
    rows = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    parts = {f"data_batch_{i}": slice((i - 1) * 4, i * 4) for i in range(1, 6)}
    parts["test_batch"] = slice(20, 30)
    for name, part in parts.items():
        batch = {
            b"batch_label": name.encode(),
            b"labels": [int(label) for label in labels[part]],
            b"data": rows[part],
            b"filenames": [b"x.png"] * len(rows[part]),
        }
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))


def test_cifar10_reads_the_python_batches_and_their_archive(tmp_path):
    pixels, labels, _ = data.load_labeled("cifar10", data_dir=CIFAR, limit=30)
    labels = labels[::-1]  # not sorted, as in the real batches
    write_cifar_batches(tmp_path / "cifar10" / "cifar-10-batches-py", pixels, labels)
    archive = tmp_path / "archived" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "cifar10" / "cifar-10-batches-py", "cifar-10-batches-py")

    for folder in (tmp_path, archive.parent):
        train = data.load_images("cifar10", data_dir=folder)
        test = data.load_images("cifar10", data_dir=folder, split="test")

        _, test_labels, _ = data.load_labeled("cifar10", folder, split="test")

        np.testing.assert_array_equal(train, pixels[:20])
        np.testing.assert_array_equal(test, pixels[20:30])
        np.testing.assert_array_equal(test_labels, labels[20:30])


def test_a_pickle_that_is_not_numpy_data_is_refused(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in formats.CIFAR_BATCHES["test"]:
        (folder / name).write_bytes(pickle.dumps({b"data": Path("/")}))

    with pytest.raises(data.DataError, match="not a CIFAR-10 python batch"):
        data.load_images("cifar10", data_dir=tmp_path, split="test")


@pytest.mark.parametrize(
    "dataset, files, folder",
    [
        ("fashion_mnist", "t10k-images-idx3-ubyte.gz", "data/fashion-mnist/"),
        ("mnist", "mnist.npz", "data/mnist/"),
        ("cifar10", "cifar-10-python.tar.gz", "data/cifar10/"),
    ],
)
def test_missing_data_says_which_files_go_where(dataset, files, folder):
    with pytest.raises(data.DataError) as error:
        data.load_images(dataset)

    message = str(error.value)
    assert "\n" not in message
    for part in (files, folder, "--data-dir", "data/README.md", "no connection"):
        assert part in message


def test_a_failed_download_is_reported_in_the_advice(monkeypatch):
    def fail(dataset, split):
        raise Exception("URL fetch failure on https://example: 403 -- Forbidden")

    monkeypatch.setattr(classic, "_reachable", lambda host: True)
    monkeypatch.setattr(classic, "_keras_load", fail)

    with pytest.raises(data.DataError, match="403 -- Forbidden.*train-images"):
        data.load_images("fashion_mnist")


def test_a_download_is_used_when_no_local_copy_exists(monkeypatch):
    images, labels = np.zeros((5, 32, 32, 3), np.uint8), np.arange(5)[:, None]
    monkeypatch.setattr(classic, "_reachable", lambda host: True)
    monkeypatch.setattr(classic, "_keras_load", lambda dataset, split: (images, labels))

    assert data.load_images("cifar10").shape == (5, 32, 32, 3)
    assert data.load_labeled("cifar10", limit=3)[1].tolist() == [0, 1, 2]


def test_a_truncated_idx_file_asks_for_a_new_download(tmp_path):
    blob = (FASHION / "t10k-images-idx3-ubyte.gz").read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(blob[: len(blob) // 2])

    with pytest.raises(data.DataError, match="download it again"):
        data.load_images("fashion_mnist", data_dir=tmp_path, split="test")


def test_cifar_rows_hold_colour_planes(tmp_path):
    image = np.zeros((1, 32, 32, 3), np.uint8)
    image[..., 0] = 200  # red only
    rows = io.BytesIO()
    batch = {b"data": image.transpose(0, 3, 1, 2).reshape(1, 3072), b"labels": [7]}
    pickle.dump(batch, rows)

    decoded, labels = formats._read_cifar_batch(rows.getvalue(), "batch")

    assert decoded[0, 5, 5].tolist() == [200, 0, 0]
    assert labels.tolist() == [7]


def test_the_public_face_exports_what_the_package_promises():
    assert set(data.__all__) == {
        "load_images",
        "load_labeled",
        "describe",
        "find",
        "make_dataset",
        "synthetic_images",
        "DataError",
        "DataWarning",
        "IMAGE_EXTENSIONS",
        "CLASSIC",
        "FOLDERS",
        "SPLITS",
        "CLASS_NAMES",
    }
    assert all(hasattr(data, name) for name in data.__all__)
    assert set(data.CLASS_NAMES) == set(data.CLASSIC)
    assert all(len(names) == 10 for names in data.CLASS_NAMES.values())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dataset": "svhn"}, "Unknown dataset"),
        ({"dataset": "mnist", "split": "validation"}, "split"),
        ({"dataset": "folder", "data_dir": FOLDER, "fit": "stretch"}, "fit"),
        ({"dataset": "fashion_mnist", "data_dir": "/no/such/dir"}, "/no/such/dir"),
        ({"dataset": "cifar10", "limit": 0}, "limit"),
        ({"dataset": "cifar10", "image_size": 0}, "image_size"),
    ],
)
@pytest.mark.parametrize("load", [data.load_images, data.load_labeled])
def test_bad_arguments_are_data_errors(load, kwargs, message):
    with pytest.raises(data.DataError, match=message):
        load(**kwargs)
