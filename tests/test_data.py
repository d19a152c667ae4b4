"""Tests of dcgan_tf.data on small real samples shipped in tests/data/."""

import io
import pickle
import shutil
import tarfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dcgan_tf import data

SAMPLES = Path(__file__).resolve().parent / "data"
FASHION = SAMPLES / "fashion-mnist"
CIFAR = SAMPLES / "cifar10"
FOLDER = SAMPLES / "folder"
READABLE_IN_FOLDER = 12 + 7  # photos + the same pixels in 7 other formats
BROKEN_IN_FOLDER = ("broken/not_an_image.jpg", "broken/truncated.jpg")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Hides this machine's data and caches, and cuts the download off.

    Returns the folders the search would look in, for tests that place files.
    """
    places = {
        "project": tmp_path / "project" / "data",
        "keras": tmp_path / "keras",
        "tfds": tmp_path / "tfds",
        "system": tmp_path / "system",
        "cache": tmp_path / "cache",
    }
    monkeypatch.setattr(data, "_project_data_dirs", lambda: [places["project"]])
    monkeypatch.setattr(data, "SYSTEM_DIR", places["system"])
    monkeypatch.setenv("KERAS_HOME", str(places["keras"]))
    monkeypatch.setenv("TFDS_DATA_DIR", str(places["tfds"]))
    monkeypatch.setenv("DCGAN_TF_CACHE", str(places["cache"]))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data, "_reachable", lambda host: False)

    def no_download(dataset, split):
        raise AssertionError("the tests must never download")

    monkeypatch.setattr(data, "_keras_load", no_download)
    return places


def batches(dataset, count):
    return [batch.numpy() for batch in dataset.take(count)]


# --- The classic data sets ---------------------------------------------------


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
def test_fashion_mnist_is_found_in_the_usual_places(isolated, place, folder):
    shutil.copytree(FASHION, isolated[place] / folder)

    images = data.load_images("fashion_mnist", split="test")

    assert images.shape == (64, 28, 28, 1)
    assert str(isolated[place]) in data.describe("fashion_mnist")


def test_mnist_reads_the_keras_cache_file(isolated):
    digits = data.load_images("fashion_mnist", data_dir=FASHION)[..., 0]
    cache = isolated["keras"] / "datasets"
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
    for name in data.CIFAR_BATCHES["test"]:
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

    monkeypatch.setattr(data, "_reachable", lambda host: True)
    monkeypatch.setattr(data, "_keras_load", fail)

    with pytest.raises(data.DataError, match="403 -- Forbidden.*train-images"):
        data.load_images("fashion_mnist")


def test_a_download_is_used_when_no_local_copy_exists(monkeypatch):
    images = np.zeros((5, 28, 28), np.uint8)
    monkeypatch.setattr(data, "_reachable", lambda host: True)
    monkeypatch.setattr(data, "_keras_load", lambda dataset, split: images)

    assert data.load_images("mnist").shape == (5, 28, 28, 1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dataset": "svhn"}, "Unknown dataset"),
        ({"dataset": "mnist", "split": "validation"}, "split"),
        ({"dataset": "folder", "data_dir": FOLDER, "fit": "stretch"}, "fit"),
        ({"dataset": "fashion_mnist", "data_dir": "/no/such/dir"}, "/no/such/dir"),
    ],
)
def test_bad_arguments_are_data_errors(kwargs, message):
    with pytest.raises(data.DataError, match=message):
        data.load_images(**kwargs)


def test_a_truncated_idx_file_asks_for_a_new_download(tmp_path):
    blob = (FASHION / "t10k-images-idx3-ubyte.gz").read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(blob[: len(blob) // 2])

    with pytest.raises(data.DataError, match="download it again"):
        data.load_images("fashion_mnist", data_dir=tmp_path, split="test")


# --- Folders of images -------------------------------------------------------


def test_folder_reads_every_format_and_reports_broken_files():
    with pytest.warns(data.DataWarning) as caught:
        images = data.load_images("folder", data_dir=FOLDER, image_size=32)

    assert images.shape == (READABLE_IN_FOLDER, 32, 32, 3)
    assert images.dtype == np.uint8
    message = str(caught[0].message)
    assert "Skipped 2 " in message
    assert all(name in message for name in BROKEN_IN_FOLDER)
    assert "._hidden" not in message  # macOS companions are not images


def test_modes_are_converted_to_rgb_faithfully():
    formats = {
        path.name: image
        for path, image in zip(
            sorted((FOLDER / "formats").iterdir()),
            data.load_images("folder", data_dir=FOLDER / "formats", image_size=32),
            strict=True,
        )
    }
    for name in ("grey.jpg", "grey16.png"):
        image = formats[name].astype(int)
        assert np.array_equal(image[..., 0], image[..., 1])
        assert 30 < image.mean() < 220  # 16 bits scaled down, not clipped white
    rgba = formats["rgba.png"]
    assert rgba[0, 0].tolist() == [255, 255, 255]  # transparent frame on white
    assert rgba[16, 16].tolist() != [255, 255, 255]
    source = "dandelion/10294487385_92a0676c7d_m.jpg"  # cmyk.jpg was made from it
    rgb = data.load_images("folder", data_dir=FOLDER / source.split("/")[0])[-1]
    cmyk = data.load_images("folder", data_dir=FOLDER / "formats", limit=1)[0]
    assert np.abs(rgb.astype(int) - cmyk.astype(int)).mean() < 20


def wide_on_white(path: Path) -> None:
    """A real photo in the middle of a wide white canvas, like BIKED's renders."""
    photo = Image.open(sorted(FOLDER.glob("daisy/*.jpg"))[0]).convert("RGB")
    photo = photo.resize((100, 100))
    canvas = Image.new("RGB", (300, 100), "white")
    canvas.paste(photo, (100, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)


def test_pad_keeps_the_whole_image_with_white_bands(tmp_path):
    wide_on_white(tmp_path / "bikes" / "side_view.png")

    padded = data.load_images("folder", data_dir=tmp_path / "bikes", fit="pad")[0]
    cropped = data.load_images("folder", data_dir=tmp_path / "bikes", fit="crop")[0]

    assert padded.shape == cropped.shape == (64, 64, 3)
    assert (padded[:20] == 255).all() and (padded[-20:] == 255).all()
    assert padded[22:42].mean() < 250  # the scene, shrunk to the middle band
    assert cropped.mean() < 200 and (cropped[:20] < 250).any()  # the photo only


def test_biked_reads_data_biked_at_128(isolated):
    shutil.copytree(FOLDER / "daisy", isolated["project"] / "biked")

    images = data.load_images("biked")

    assert images.shape == (3, 128, 128, 3)
    assert "3 image files" in data.describe("biked")


def test_biked_without_a_folder_says_where_to_get_it():
    with pytest.raises(data.DataError, match="BIKED.*MIT DeCoDE.*data/biked"):
        data.load_images("biked")


def test_empty_missing_and_unreadable_folders_are_data_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    shutil.copytree(FOLDER / "broken", tmp_path / "broken")

    with pytest.raises(data.DataError, match="No images"):
        data.load_images("folder", data_dir=tmp_path / "empty")
    with pytest.raises(data.DataError, match="No images.*download BIKED"):
        data.load_images("biked", data_dir=tmp_path / "empty")
    with pytest.raises(data.DataError, match="does not exist"):
        data.load_images("folder", data_dir=tmp_path / "missing")
    with pytest.raises(data.DataError, match="None of the 2 image files"):
        data.load_images("folder", data_dir=tmp_path / "broken")
    with pytest.raises(data.DataError, match="--data-dir"):
        data.load_images("folder")


def test_decoded_folders_are_cached_until_a_file_changes(tmp_path, monkeypatch):
    shutil.copytree(FOLDER / "roses", tmp_path / "roses")
    first = data.load_images("folder", data_dir=tmp_path / "roses", image_size=16)
    decode = data._decode
    monkeypatch.setattr(data, "_decode", lambda *args: pytest.fail("not cached"))

    again = data.load_images("folder", data_dir=tmp_path / "roses", image_size=16)

    np.testing.assert_array_equal(again, first)
    monkeypatch.setattr(data, "_decode", decode)
    Image.fromarray(first[0]).save(sorted((tmp_path / "roses").iterdir())[0])
    changed = data.load_images("folder", data_dir=tmp_path / "roses", image_size=16)
    assert not np.array_equal(changed[0], first[0])


def test_the_cache_remembers_skipped_files_and_can_be_turned_off(
    isolated, tmp_path, monkeypatch
):
    shutil.copytree(FOLDER / "broken", tmp_path / "photos" / "broken")
    shutil.copytree(FOLDER / "tulips", tmp_path / "photos" / "tulips")
    for _ in range(2):
        with pytest.warns(data.DataWarning, match="Skipped 2"):
            data.load_images("folder", data_dir=tmp_path / "photos", image_size=16)
    assert len(list(isolated["cache"].glob("*.npy"))) == 1

    monkeypatch.setenv("DCGAN_TF_CACHE", "off")
    shutil.rmtree(isolated["cache"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", data.DataWarning)
        data.load_images("folder", data_dir=tmp_path / "photos", image_size=8)
    assert not isolated["cache"].exists()


def test_folders_too_big_for_memory_are_memory_mapped(monkeypatch):
    in_memory = data.load_images("folder", data_dir=FOLDER / "daisy", image_size=16)
    monkeypatch.setattr(data, "_available_memory", lambda: 1000)

    mapped = data.load_images("folder", data_dir=FOLDER / "daisy", image_size=16)
    dataset = data.make_dataset(mapped, batch_size=3, seed=0)
    batch = batches(dataset, 1)[0]
    del dataset  # iterators that call Python must not outlive the test

    assert isinstance(mapped, np.memmap)
    np.testing.assert_array_equal(mapped, in_memory)
    restored = np.rint((batch + 1.0) * 127.5).astype(np.uint8)
    assert all(any(np.array_equal(r, image) for image in in_memory) for r in restored)


# --- Batches -----------------------------------------------------------------


def numbered_images(count, size=4):
    """Image i is filled with the value i, so a batch tells which images it holds."""
    return np.repeat(np.arange(count, dtype=np.uint8), size * size * 3).reshape(
        count, size, size, 3
    )


def indices(batch):
    return np.rint((batch[:, 0, 0, 0] + 1.0) * 127.5).astype(int).tolist()


def test_batches_are_float_in_minus_one_to_one_with_a_fixed_shape():
    images = data.synthetic_images(10, (16, 16, 3))
    images[0], images[1] = 0, 255

    dataset = data.make_dataset(images, batch_size=4, seed=0)
    taken = batches(dataset, 6)

    assert dataset.element_spec.shape == (4, 16, 16, 3)
    assert all(b.dtype == np.float32 and b.shape == (4, 16, 16, 3) for b in taken)
    values = np.concatenate(taken)
    assert values.min() == -1.0 and values.max() == 1.0


def test_every_image_appears_once_per_epoch_in_a_new_order():
    dataset = data.make_dataset(numbered_images(12), batch_size=4, seed=3)
    epochs = [sum(map(indices, batches(dataset, 6)[i : i + 3]), []) for i in (0, 3)]

    assert sorted(epochs[0]) == sorted(epochs[1]) == list(range(12))
    assert epochs[0] != epochs[1]


def test_the_remainder_of_an_epoch_is_dropped_not_mixed_in():
    dataset = data.make_dataset(numbered_images(10), batch_size=4, seed=0)
    for epoch in np.array([indices(b) for b in batches(dataset, 8)]).reshape(4, 8):
        assert len(set(epoch)) == 8


def test_the_order_depends_on_the_seed_alone():
    images = numbered_images(16)
    same = [
        [indices(b) for b in batches(data.make_dataset(images, 4, seed=7), 8)]
        for _ in range(2)
    ]
    other = [indices(b) for b in batches(data.make_dataset(images, 4, seed=8), 8)]

    assert same[0] == same[1]
    assert other != same[0]


@pytest.mark.parametrize("start_batch", [1, 3, 7])
def test_a_resumed_stream_continues_the_uninterrupted_one(start_batch):
    images = numbered_images(13)  # 3 batches of 4 per epoch
    fresh = batches(data.make_dataset(images, 4, seed=5), 10)
    resumed = batches(data.make_dataset(images, 4, seed=5, start_batch=start_batch), 3)

    for got, expected in zip(resumed, fresh[start_batch:], strict=False):
        np.testing.assert_array_equal(got, expected)


def test_make_dataset_rejects_what_it_cannot_batch():
    with pytest.raises(data.DataError, match="fewer than one batch"):
        data.make_dataset(numbered_images(3), batch_size=4, seed=0)
    with pytest.raises(ValueError, match="uint8"):
        data.make_dataset(np.zeros((8, 4, 4, 3), np.float32), batch_size=4, seed=0)


def test_synthetic_images_are_smooth_and_reproducible():
    images = data.synthetic_images(5, (28, 28, 1), seed=1)

    assert images.shape == (5, 28, 28, 1) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, data.synthetic_images(5, (28, 28, 1), 1))
    assert not np.array_equal(images, data.synthetic_images(5, (28, 28, 1), 2))
    steps = np.abs(np.diff(images.astype(int), axis=2))
    assert steps.mean() < 8 and images.std() > 20


def test_cifar_rows_hold_colour_planes(tmp_path):
    image = np.zeros((1, 32, 32, 3), np.uint8)
    image[..., 0] = 200  # red only
    rows = io.BytesIO()
    pickle.dump({b"data": image.transpose(0, 3, 1, 2).reshape(1, 3072)}, rows)

    decoded = data._read_cifar_batch(rows.getvalue(), "batch")

    assert decoded[0, 5, 5].tolist() == [200, 0, 0]


@pytest.mark.parametrize("free_memory", [1000, 1 << 40])
def test_an_unwritable_cache_only_warns(tmp_path, monkeypatch, free_memory):
    (tmp_path / "a_file").write_text("not a folder")
    monkeypatch.setenv("DCGAN_TF_CACHE", str(tmp_path / "a_file" / "cache"))
    monkeypatch.setattr(data, "_available_memory", lambda: free_memory)

    with pytest.warns(data.DataWarning, match="Could not cache"):
        images = data.load_images("folder", data_dir=FOLDER / "roses", image_size=8)

    assert images.shape == (3, 8, 8, 3)
