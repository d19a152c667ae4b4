"""The explorer's page in a real browser: Debian's chromium driven by
Playwright runs the command on a tiny trained generator, picks, walks, moves
a slider, does the arithmetic, downloads the `.npz` that `generate --from`
reads, uploads an image, and stops the server with Ctrl-C.

Skipped when Playwright or chromium is not installed (`apt-get install
chromium`, `pip install playwright`; never `playwright install`).
"""

import io
import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from dcgan_tf import generate
from dcgan_tf.sampling import drawing as sampling
from dcgan_tf.sampling.images import to_uint8

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TIMEOUT_MS = 60_000

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="Playwright cannot be imported (pip install playwright)",
    exc_type=ImportError,
)
pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason="no chromium browser installed (apt-get install chromium)",
)


@pytest.fixture(scope="module")
def server(trained_run):
    """The command itself, on a free port: `(address, process)`."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "dcgan_tf.explore", str(trained_run), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # As from a terminal: a suite started in the background (`&`) has
        # SIGINT ignored, and the server would inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    address = None
    for line in process.stdout:
        if line.startswith("Exploring at "):
            address = line.split()[2]
            break
    if address is None:
        process.kill()
        pytest.fail(f"the explorer did not start: {process.stderr.read()}")
    yield address, process
    process.kill()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(
        viewport={"width": 1200, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server[0])
    page.wait_for_selector(".tile img")
    yield page
    context.close()
    assert errors == []


def tiles(page):
    return page.locator(".tile")


def image_of(page, selector) -> np.ndarray:
    src = page.locator(selector).get_attribute("src")
    import base64

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",")[1]))))


def look(page, path):
    """A screenshot, checked to show more than a blank page."""
    page.screenshot(path=path, full_page=True)
    pixels = np.asarray(Image.open(path).convert("L"))
    assert pixels.std() > 20


def test_pick_walk_and_slide(page, trained_run, tmp_path):
    assert tiles(page).count() == 16
    # The run's seed (7) is the first seed, and the grid is generate's.
    expected = to_uint8(
        sampling.sample(sampling.load_generator(trained_run), 16, 7).images
    )
    assert (
        np.abs(
            image_of(page, ".tile >> nth=5 >> img").astype(int) - expected[5, ..., 0]
        ).max()
        <= 1
    )
    for index in (0, 5, 9):
        tiles(page).nth(index).click()
    assert page.locator(".tile.picked .badge").all_text_contents() == ["1", "2", "3"]
    page.fill("#steps", "6")
    page.click("#walk")
    page.wait_for_function("document.querySelectorAll('#walk-strip img').length == 11")
    first = page.get_attribute("#walk-frame", "src")
    page.wait_for_function(f"document.getElementById('walk-frame').src != {first!r}")
    page.click("#pca")
    page.wait_for_selector(".slider input")
    assert page.locator(".slider").count() == 8
    page.locator(".slider input").first.fill("2.5")
    page.wait_for_selector("#moved img >> nth=2")
    page.wait_for_function(
        "document.getElementById('latency').textContent.includes('ms')"
    )
    moved = image_of(page, "#moved img >> nth=0")
    assert np.abs(moved.astype(int) - expected[0, ..., 0]).max() > 10
    look(page, tmp_path / "walk-and-slide.png")


def test_arithmetic_of_three_groups(page, tmp_path):
    for group, indices in {"A": (1, 2, 3), "B": (4, 6, 7), "C": (8, 10, 11)}.items():
        page.check(f"input[name=mode][value={group}]")
        for index in indices:
            tiles(page).nth(index).click()
    assert page.locator("#group-B img").count() == 3
    page.click("#arithmetic")
    page.wait_for_selector("#arith-result figure >> nth=10")
    captions = page.locator("#arith-result figcaption").all_text_contents()
    assert captions[:4] == ["mean A", "mean B", "mean C", "A − B + C"]
    page.click("#arith-keep")
    assert tiles(page).count() == 16 + 8
    look(page, tmp_path / "arithmetic.png")


def test_downloads_are_read_back_by_generate(page, trained_run, tmp_path):
    for index in (3, 12):
        tiles(page).nth(index).click()
    with page.expect_download() as download:
        page.click("#download-picks-npz")
    npz = tmp_path / "picks.npz"
    download.value.save_as(npz)
    out = tmp_path / "again.png"
    generate.main(
        [str(trained_run), "--from", str(npz), "--indices", "1", "0"]
        + ["--out", str(out), "--individual"]
    )
    # Files keep the picked indices: 0001.png is picks[1], the 13th tile.
    again = np.asarray(Image.open(tmp_path / "again" / "0001.png")).astype(int)
    shown = image_of(page, ".tile >> nth=12 >> img")
    assert np.abs(again - shown).max() <= 1
    page.click("#walk")
    page.wait_for_selector("#walk-strip img")
    with page.expect_download() as download:
        page.click("#download-gif")
    gif = tmp_path / "walk.gif"
    download.value.save_as(gif)
    assert Image.open(gif).n_frames == 2 * 12 - 2  # forth and back
    with page.expect_download() as download:
        page.click("#download-png")
    assert Image.open(download.value.path()).size[0] > 8 * 28


def test_upload_projects_and_bad_input_shows_an_error(page, trained_run, tmp_path):
    target = sampling.sample(sampling.load_generator(trained_run), 1, 21).images[0]
    upload = tmp_path / "mine.png"
    Image.fromarray(to_uint8(target)[..., 0]).save(upload)
    page.set_input_files("#upload", str(upload))
    page.fill("#project-steps", "25")
    page.click("#project")
    page.wait_for_selector("#project-distance")
    assert "pixel RMSE" in page.text_content("#project-distance")
    assert tiles(page).count() == 17
    look(page, tmp_path / "projected.png")
    not_image = tmp_path / "notes.png"
    not_image.write_text("not an image")
    page.set_input_files("#upload", str(not_image))
    page.click("#project")
    page.wait_for_selector("#error:not([hidden])")
    assert "not an image" in page.text_content("#error-text")
    page.fill("#count", "100000")
    page.click("#draw")
    page.wait_for_function(
        "document.getElementById('error-text').textContent.includes('count')"
    )
    assert tiles(page).count() == 17  # nothing changed
    look(page, tmp_path / "error.png")


def test_two_tabs_work_at_once(browser, server):
    pages = [browser.new_page() for _ in range(2)]
    try:
        for page, seed in zip(pages, ("1", "2")):
            page.goto(server[0])
            page.wait_for_selector(".tile img")
            page.fill("#seed", seed)
            page.click("#draw")
            # The draw's answer replaces the tiles and clears the picks: wait for it.
            page.wait_for_function("document.getElementById('busy').hidden")
        first = [p.locator(".tile img").first.get_attribute("src") for p in pages]
        pages[1].locator(".tile").first.click()
        pages[1].wait_for_selector(".tile.picked")
        assert first[0] != first[1]
        assert pages[0].locator(".tile.picked").count() == 0
        assert pages[1].locator(".tile.picked").count() == 1
    finally:
        for page in pages:
            page.close()


def test_ctrl_c_stops_the_server_with_one_line(server):
    # After every test that uses this server (they share it).
    _, process = server
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert out.strip().splitlines() == ["Stopped."] and err.strip() == ""


@pytest.fixture(scope="module")
def conditional_server(tmp_path_factory):
    """An untrained conditional generator, served from this process."""
    import threading

    from werkzeug.serving import make_server

    from dcgan_tf.explorer import Explorer, create_app
    from dcgan_tf.model.networks import build_generator

    path = tmp_path_factory.mktemp("conditional") / "generator.keras"
    build_generator((16, 16, 1), 8, 8, class_names=["cat", "dog", "owl"]).save(path)
    app = create_app(Explorer(sampling.load_generator(path)))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_conditional_class_pickers_and_class_walk(
    browser, conditional_server, tmp_path
):
    page = browser.new_page()
    try:
        page.goto(conditional_server)
        page.wait_for_selector(".tile select")
        assert page.locator(".tile select").first.input_value() == "0"
        before = page.locator(".tile img").first.get_attribute("src")
        page.locator(".tile select").first.select_option("2")
        page.wait_for_function(f"document.querySelector('.tile img').src != {before!r}")
        tiles(page).nth(1).click()
        page.select_option("#class-from", "0")
        page.select_option("#class-to", "2")
        page.fill("#steps", "5")
        page.click("#class-walk")
        page.wait_for_function(
            "document.querySelectorAll('#walk-strip img').length == 5"
        )
        look(page, tmp_path / "conditional.png")
    finally:
        page.close()
