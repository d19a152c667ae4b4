"""Folders of images: listing safely, decoding every format within a memory
bound, fitting squares, labels from class sub-folders, the cache on disk
(dcgan_tf.data.folder, .decode and .cache), through `dcgan_tf.data.load_images`
and `load_labeled` on small real photos shipped in tests/data/folder/.
"""

import os
import shutil
import struct
import threading
import time
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from dcgan_tf import data
from dcgan_tf.data import cache, decode

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
    decode_file = decode.decode_file
    monkeypatch.setattr(decode, "decode_file", lambda *args: pytest.fail("not cached"))

    again = data.load_images("folder", data_dir=tmp_path / "roses", image_size=16)

    np.testing.assert_array_equal(again, first)
    monkeypatch.setattr(decode, "decode_file", decode_file)
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
    monkeypatch.setattr(cache, "available_memory", lambda: 1000)

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
    monkeypatch.setattr(cache, "available_memory", lambda: free_memory)

    with pytest.warns(data.DataWarning, match="Could not cache"):
        images = data.load_images("folder", data_dir=FOLDER / "roses", image_size=8)

    assert images.shape == (3, 8, 8, 3)


# --- Links, huge images, class sub-folders -----------------------------------


def folder_with_bad_links(root: Path) -> Path:
    """Roses, a followed link to the daisies, and entries that must be skipped."""
    photos = root / "photos"
    shutil.copytree(FOLDER / "roses", photos / "roses")
    (photos / "daisy").symlink_to(FOLDER / "daisy", target_is_directory=True)
    (photos / "loop.jpg").symlink_to("loop.jpg")  # itself: ELOOP
    (photos / "gone.png").symlink_to(root / "deleted.png")  # nowhere: ENOENT
    (photos / "roses" / "up").symlink_to("..", target_is_directory=True)
    if hasattr(os, "mkfifo"):
        os.mkfifo(photos / "pipe.jpg")  # opening it would wait for a writer
    return photos


@pytest.mark.parametrize("cache_setting", ["on", "off"])
def test_links_that_loop_or_lead_nowhere_are_skipped_with_a_warning(
    isolated_data, tmp_path, monkeypatch, cache_setting
):
    if cache_setting == "off":
        monkeypatch.setenv("DCGAN_TF_CACHE", "off")
    photos = folder_with_bad_links(tmp_path)

    for _ in range(2):  # the second time from the cache, when it is on
        with pytest.warns(data.DataWarning) as caught:
            images = data.load_images("folder", data_dir=photos, image_size=16)

        assert images.shape == (6, 16, 16, 3)  # 3 roses, 3 daisies via the link
        message = " ".join(str(warning.message) for warning in caught)
        assert "loop.jpg (symbolic link loop)" in message
        assert "gone.png (dangling link)" in message
        if hasattr(os, "mkfifo"):
            assert "pipe.jpg (not a regular file)" in message
    assert len(list(isolated_data["cache"].glob("*.npy"))) == (cache_setting == "on")
    assert "6 image files" in data.describe("folder", photos)
    with pytest.warns(data.DataWarning, match=r"up \(symbolic link loop\)"):
        roses = data.load_images("folder", data_dir=photos / "roses", image_size=16)
    assert len(roses) == 3


def png_declaring(path: Path, width: int, height: int, pixels=True) -> Path:
    """A valid black 8-bit grey PNG, which deflate shrinks to under a
    megabyte whatever its size; without `pixels`, only its header."""

    def chunk(kind, payload):
        crc = zlib.crc32(kind + payload)
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    stream = b""
    if pixels:
        compressor = zlib.compressobj(1)
        rows = bytes(width + 1) * 100  # each row: a filter byte, then the pixels
        stream = b"".join(compressor.compress(rows) for _ in range(height // 100))
        stream += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", stream)
        + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture
def decoded_sizes(monkeypatch):
    """The sizes of every image Pillow decodes during the test."""
    sizes, load = [], ImageFile.ImageFile.load

    def recording_load(image):
        sizes.append(image.size)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    return sizes


def test_images_declaring_huge_sizes_are_skipped_before_decoding(
    tmp_path, decoded_sizes
):
    shutil.copytree(FOLDER / "tulips", tmp_path / "photos")
    # 144 megapixels in 0.6 MB; decoded, it took 0.6 GB a copy.
    png_declaring(tmp_path / "photos" / "huge.png", 12000, 12000)
    # Beyond twice Pillow's own limit, where Pillow raises instead of warning.
    png_declaring(tmp_path / "photos" / "bomb.png", 20000, 20000, pixels=False)

    with pytest.warns(data.DataWarning) as caught:
        images = data.load_images("folder", data_dir=tmp_path / "photos")

    assert images.shape == (3, 64, 64, 3)
    assert [warning.category for warning in caught] == [data.DataWarning]
    message = str(caught[0].message)
    assert "huge.png (12000x12000)" in message and "bomb.png" in message
    assert "40,000,000 pixels" in message
    assert max(width * height for width, height in decoded_sizes) <= decode.MAX_PIXELS


def test_jpegs_over_the_pixel_limit_decode_at_reduced_size(
    tmp_path, monkeypatch, decoded_sizes
):
    monkeypatch.setattr(decode, "MAX_PIXELS", 100 * 100)
    photo = Image.open(sorted(FOLDER.glob("daisy/*.jpg"))[0]).convert("RGB")
    photo.resize((400, 400)).save(tmp_path / "large.jpg", quality=90)
    photo.resize((400, 400)).save(tmp_path / "large.png")
    decoded_sizes.clear()

    with pytest.warns(data.DataWarning, match=r"large.png \(400x400\)"):
        images = data.load_images("folder", data_dir=tmp_path, image_size=16)

    assert images.shape == (1, 16, 16, 3)  # the JPEG, read at 1/8 scale
    assert set(decoded_sizes) == {(50, 50)}
    (tmp_path / "large.jpg").unlink()
    with pytest.raises(data.DataError, match=r"1 over 10,000 pixels"):
        data.load_images("folder", data_dir=tmp_path, image_size=16)


def test_decoding_threads_share_one_pixel_budget():
    budget, lock = decode.PixelBudget(100), threading.Lock()
    held, peak = [0], [0]

    def hold(pixels):
        with budget.hold(pixels):
            with lock:
                held[0] += min(pixels, 100)
                peak[0] = max(peak[0], held[0])
            time.sleep(0.01)
            with lock:
                held[0] -= min(pixels, 100)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(hold, [60, 60, 30, 30, 10, 100, 500, 40]))

    assert 60 <= peak[0] <= 100 and held[0] == 0


def test_labels_come_from_one_sub_folder_per_class(tmp_path):
    for name in ("daisy", "roses", "tulips"):
        shutil.copytree(FOLDER / name, tmp_path / "flowers" / name)
    shutil.copy(FOLDER / "broken" / "truncated.jpg", tmp_path / "flowers" / "roses")

    with pytest.warns(data.DataWarning, match="roses/truncated.jpg"):
        images, labels, names = data.load_labeled(
            "folder", tmp_path / "flowers", image_size=16
        )

    assert names == ("daisy", "roses", "tulips")
    assert labels.dtype == np.int64 and labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    for label, name in enumerate(names):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", data.DataWarning)
            alone = data.load_images("folder", tmp_path / "flowers" / name, 16)
        np.testing.assert_array_equal(images[labels == label], alone)
    few = data.load_labeled("folder", tmp_path / "flowers", image_size=16, limit=4)
    assert few[1].tolist() == [0, 0, 0, 1] and few[2] == names


def test_the_sample_folder_gives_one_label_per_readable_image():
    with pytest.warns(data.DataWarning, match="Skipped 2 unreadable"):
        images, labels, names = data.load_labeled("folder", FOLDER, image_size=16)

    assert names == ("broken", "daisy", "dandelion", "formats", "roses", "tulips")
    assert np.bincount(labels, minlength=6).tolist() == [0, 3, 3, 7, 3, 3]
    assert len(images) == len(labels) == READABLE_IN_FOLDER


def test_images_outside_the_class_sub_folders_are_left_out(tmp_path, isolated_data):
    shutil.copytree(FOLDER / "daisy", isolated_data["project"] / "biked" / "daisy")
    shutil.copy(FOLDER / "formats" / "rgba.png", isolated_data["project"] / "biked")

    with pytest.warns(data.DataWarning, match="outside the class sub-folders.*rgba"):
        images, labels, names = data.load_labeled("biked", image_size=16)

    assert names == ("daisy",) and labels.tolist() == [0, 0, 0]


def test_a_folder_without_class_sub_folders_is_a_one_line_data_error():
    with pytest.raises(data.DataError) as error:
        data.load_labeled("folder", data_dir=FOLDER / "daisy")

    message = str(error.value)
    assert "\n" not in message
    assert "no class sub-folders" in message and "<class>/" in message
