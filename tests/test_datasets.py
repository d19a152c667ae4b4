"""Finding, reading and downloading the classic data sets (dcgan_tf.datasets).

Through `dcgan_tf.data.load_images`, on small real samples shipped in
tests/data/; the `isolated_data` fixture hides this machine's copies and
cuts the download off.
"""

import io
import pickle
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dcgan_tf import data, datasets

SAMPLES = Path(__file__).resolve().parent / "data"
FASHION = SAMPLES / "fashion-mnist"
CIFAR = SAMPLES / "cifar10"

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
    digits = data.load_images("fashion_mnist", data_dir=FASHION)[..., 0]
    cache = isolated_data["keras"] / "datasets"
    cache.mkdir(parents=True)
    np.savez(cache / "mnist.npz", x_train=digits, x_test=digits[:8])

    images = data.load_images("mnist", split="test")

    assert images.shape == (8, 28, 28, 1)
    np.testing.assert_array_equal(images[..., 0], digits[:8])


def test_cifar10_reads_a_folder_of_jpegs_per_split():
    train = data.load_images("cifar10", data_dir=CIFAR)
    test = data.load_images("cifar10", data_dir=CIFAR, split="test")

    assert train.shape == (100, 32, 32, 3) and train.dtype == np.uint8
    assert test.shape == (30, 32, 32, 3)
    first = sorted((CIFAR / "train").rglob("*.jpg"))[0]
    np.testing.assert_array_equal(train[0], np.asarray(Image.open(first)))


def write_cifar_batches(folder: Path, images: np.ndarray) -> None:
    """The official python version: pickled dicts with byte-string keys whose
    rows hold the red, green and blue planes of one image."""
    folder.mkdir(parents=True)
    rows = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    parts = {f"data_batch_{i}": rows[(i - 1) * 4 : i * 4] for i in range(1, 6)}
    parts["test_batch"] = rows[20:30]
    for name, part in parts.items():
        batch = {
            b"batch_label": name.encode(),
            b"labels": [0] * len(part),
            b"data": part,
            b"filenames": [b"x.png"] * len(part),
        }
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))


def test_cifar10_reads_the_python_batches_and_their_archive(tmp_path):
    pixels = data.load_images("cifar10", data_dir=CIFAR)[:30]
    write_cifar_batches(tmp_path / "cifar10" / "cifar-10-batches-py", pixels)
    archive = tmp_path / "archived" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "cifar10" / "cifar-10-batches-py", "cifar-10-batches-py")

    for folder in (tmp_path, archive.parent):
        train = data.load_images("cifar10", data_dir=folder)
        test = data.load_images("cifar10", data_dir=folder, split="test")

        np.testing.assert_array_equal(train, pixels[:20])
        np.testing.assert_array_equal(test, pixels[20:30])


def test_a_pickle_that_is_not_numpy_data_is_refused(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in datasets.CIFAR_BATCHES["test"]:
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

    monkeypatch.setattr(datasets, "_reachable", lambda host: True)
    monkeypatch.setattr(datasets, "_keras_load", fail)

    with pytest.raises(data.DataError, match="403 -- Forbidden.*train-images"):
        data.load_images("fashion_mnist")


def test_a_download_is_used_when_no_local_copy_exists(monkeypatch):
    images = np.zeros((5, 28, 28), np.uint8)
    monkeypatch.setattr(datasets, "_reachable", lambda host: True)
    monkeypatch.setattr(datasets, "_keras_load", lambda dataset, split: images)

    assert data.load_images("mnist").shape == (5, 28, 28, 1)


def test_a_truncated_idx_file_asks_for_a_new_download(tmp_path):
    blob = (FASHION / "t10k-images-idx3-ubyte.gz").read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(blob[: len(blob) // 2])

    with pytest.raises(data.DataError, match="download it again"):
        data.load_images("fashion_mnist", data_dir=tmp_path, split="test")


def test_cifar_rows_hold_colour_planes(tmp_path):
    image = np.zeros((1, 32, 32, 3), np.uint8)
    image[..., 0] = 200  # red only
    rows = io.BytesIO()
    pickle.dump({b"data": image.transpose(0, 3, 1, 2).reshape(1, 3072)}, rows)

    decoded = datasets._read_cifar_batch(rows.getvalue(), "batch")

    assert decoded[0, 5, 5].tolist() == [200, 0, 0]
