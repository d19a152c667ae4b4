"""Folders of images: decoding every format, fitting squares, the cache on disk
(dcgan_tf.folders), through `dcgan_tf.data.load_images` on small real photos
shipped in tests/data/folder/.
"""

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dcgan_tf import data, folders

FOLDER = Path(__file__).resolve().parent / "data" / "folder"
READABLE_IN_FOLDER = 12 + 7  # photos + the same pixels in 7 other formats
BROKEN_IN_FOLDER = ("broken/not_an_image.jpg", "broken/truncated.jpg")

pytestmark = pytest.mark.usefixtures("isolated_data")


def batches(dataset, count):
    return [batch.numpy() for batch in dataset.take(count)]


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


def test_biked_reads_data_biked_at_128(isolated_data):
    shutil.copytree(FOLDER / "daisy", isolated_data["project"] / "biked")

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
    decode = folders._decode
    monkeypatch.setattr(folders, "_decode", lambda *args: pytest.fail("not cached"))

    again = data.load_images("folder", data_dir=tmp_path / "roses", image_size=16)

    np.testing.assert_array_equal(again, first)
    monkeypatch.setattr(folders, "_decode", decode)
    Image.fromarray(first[0]).save(sorted((tmp_path / "roses").iterdir())[0])
    changed = data.load_images("folder", data_dir=tmp_path / "roses", image_size=16)
    assert not np.array_equal(changed[0], first[0])


def test_the_cache_remembers_skipped_files_and_can_be_turned_off(
    isolated_data, tmp_path, monkeypatch
):
    shutil.copytree(FOLDER / "broken", tmp_path / "photos" / "broken")
    shutil.copytree(FOLDER / "tulips", tmp_path / "photos" / "tulips")
    for _ in range(2):
        with pytest.warns(data.DataWarning, match="Skipped 2"):
            data.load_images("folder", data_dir=tmp_path / "photos", image_size=16)
    assert len(list(isolated_data["cache"].glob("*.npy"))) == 1

    monkeypatch.setenv("DCGAN_TF_CACHE", "off")
    shutil.rmtree(isolated_data["cache"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", data.DataWarning)
        data.load_images("folder", data_dir=tmp_path / "photos", image_size=8)
    assert not isolated_data["cache"].exists()


def test_folders_too_big_for_memory_are_memory_mapped(monkeypatch):
    in_memory = data.load_images("folder", data_dir=FOLDER / "daisy", image_size=16)
    monkeypatch.setattr(folders, "_available_memory", lambda: 1000)

    mapped = data.load_images("folder", data_dir=FOLDER / "daisy", image_size=16)
    dataset = data.make_dataset(mapped, batch_size=3, seed=0)
    batch = batches(dataset, 1)[0]
    del dataset  # iterators that call Python must not outlive the test

    assert isinstance(mapped, np.memmap)
    np.testing.assert_array_equal(mapped, in_memory)
    restored = np.rint((batch + 1.0) * 127.5).astype(np.uint8)
    assert all(any(np.array_equal(r, image) for image in in_memory) for r in restored)


@pytest.mark.parametrize("free_memory", [1000, 1 << 40])
def test_an_unwritable_cache_only_warns(tmp_path, monkeypatch, free_memory):
    (tmp_path / "a_file").write_text("not a folder")
    monkeypatch.setenv("DCGAN_TF_CACHE", str(tmp_path / "a_file" / "cache"))
    monkeypatch.setattr(folders, "_available_memory", lambda: free_memory)

    with pytest.warns(data.DataWarning, match="Could not cache"):
        images = data.load_images("folder", data_dir=FOLDER / "roses", image_size=8)

    assert images.shape == (3, 8, 8, 3)
