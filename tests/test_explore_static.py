"""`python -m dcgan_tf.explore RUN --static DIR`: the explorer as a folder
that needs no server.

The writer's refusals run the command in child processes; the page itself is
opened in Debian's chromium through Playwright (as in
test_explore_browser.py), served by `http.server` from a thread, and
compared with Keras. onnxruntime-web's files come through
`dcgan_tf.explorer.ortweb` (the cache, else the npm registry); the tests that
need them skip, saying why, where neither answers.
"""

import base64
import errno
import functools
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_export import varied_generator

from dcgan_tf.explorer import Explorer, ortweb, static_site
from dcgan_tf.sampling import latents as latent_space
from dcgan_tf.sampling import load_generator
from dcgan_tf.sampling.images import make_grid

PROG = "python -m dcgan_tf.explore"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
TIMEOUT_MS = 60_000
# Largest difference, in grey levels, of the browser's images from Keras'
# (onnxruntime-web's float32 maths, then the same rounding to uint8).
TOLERANCE = 1


@pytest.fixture(scope="session")
def ort_files():
    try:
        return ortweb.onnxruntime_web()
    except ortweb.OrtWebError as error:
        pytest.skip(f"onnxruntime-web {ortweb.VERSION} is not to be had: {error}")


@pytest.fixture(scope="module")
def generator_file(tmp_path_factory):
    return varied_generator(tmp_path_factory.mktemp("static") / "generator.keras")


@pytest.fixture(scope="module")
def site(generator_file, ort_files, tmp_path_factory):
    out = tmp_path_factory.mktemp("sites") / "site"
    static_site.write_static_site(
        Explorer(load_generator(generator_file)), out, ort_files
    )
    return out


def command(*argv, env=None):
    environment = dict(os.environ, **(env or {}))
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).parent.parent)]
        + ([environment["PYTHONPATH"]] if environment.get("PYTHONPATH") else [])
    )
    return subprocess.run(
        [sys.executable, "-m", "dcgan_tf.explore", *map(str, argv)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )


def one_error_line(result, *words):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith(f"{PROG}: error: "), lines
    for word in words:
        assert word in lines[0]


# ------------------------------------------------------------------ writer
def test_the_command_writes_the_page_and_says_how_to_open_it(
    generator_file, ort_files, tmp_path
):
    dist = tmp_path / "package" / "dist"  # an extracted package folder
    dist.mkdir(parents=True)
    for name, data in ort_files.items():
        (dist / name).write_bytes(data)
    out = tmp_path / "site"
    result = command(
        generator_file, "--static", out, "--onnxruntime-web", tmp_path / "package"
    )
    assert result.returncode == 0, result.stderr
    assert "python -m http.server -d" in result.stdout
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == sorted(
        [
            "api/info",
            "generator.onnx",
            "index.html",
            "static/app.js",
            "static/local.js",
            "static/style.css",
            *(f"static/ort/{name}" for name in ortweb.FILES),
        ]
    )
    info = json.loads((out / "api/info").read_text())
    assert info["static"] is True and info["latent_dim"] == 8
    assert np.asarray(info["directions"]["directions"]).shape == (8, 8)
    # Only the page's files: onnxruntime-web's WebAssembly build is ~15 MB.
    assert static_site.folder_size(out) < 16e6
    assert not list(tmp_path.glob(static_site.TEMPORARY_PREFIX + "*"))


def test_a_folder_that_is_not_empty_is_refused(generator_file, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    one_error_line(command(generator_file, "--static", out), "not empty")
    # --overwrite replaces only a page --static wrote.
    one_error_line(
        command(generator_file, "--static", out, "--overwrite"), "no page written"
    )
    assert (out / "notes.txt").read_text() == "keep me"


def test_a_folder_that_is_a_link_is_refused(generator_file, tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "link").symlink_to(target)
    one_error_line(command(generator_file, "--static", tmp_path / "link"), "link")
    assert list(target.iterdir()) == []


def test_port_and_host_do_not_go_with_static(generator_file, tmp_path):
    for flag in (["--port", "9000"], ["--host", "0.0.0.0"]):
        result = command(generator_file, "--static", tmp_path / "site", *flag)
        one_error_line(result, "--port and --host")
    one_error_line(command(generator_file, "--overwrite"), "--static")


def test_a_folder_inside_the_run_is_refused(small_run):
    result = command(small_run, "--static", small_run / "page")
    one_error_line(result, "run directory")
    assert not (small_run / "page").exists()


def test_no_onnxruntime_web_and_no_network_is_one_line(generator_file, tmp_path):
    cut_off = {
        "XDG_CACHE_HOME": str(tmp_path / "empty-cache"),
        "https_proxy": "http://127.0.0.1:9",  # nothing listens: the download fails
        "HTTPS_PROXY": "http://127.0.0.1:9",
    }
    result = command(generator_file, "--static", tmp_path / "site", env=cut_off)
    one_error_line(result, ortweb.TARBALL_URL, "--onnxruntime-web PATH")
    assert not (tmp_path / "site").exists()
    bad = tmp_path / "fake.tgz"
    bad.write_bytes(b"not a tarball")
    result = command(
        generator_file, "--static", tmp_path / "site", "--onnxruntime-web", bad
    )
    one_error_line(result, "sha512")


def test_the_files_are_checked_wherever_they_come_from(
    ort_files, tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ortweb.cache_folder() == (
        tmp_path / "xdg" / "dcgan_tf" / f"onnxruntime-web-{ortweb.VERSION}"
    )
    dist = tmp_path / "dist"
    dist.mkdir()
    for name, data in ort_files.items():
        (dist / name).write_bytes(data)
    assert ortweb.onnxruntime_web(dist) == ort_files
    (dist / "ort-wasm-simd-threaded.wasm").write_bytes(b"\0asm tampered")
    with pytest.raises(ortweb.OrtWebError, match="not onnxruntime-web"):
        ortweb.onnxruntime_web(dist)
    # A cache that was tampered with is not used: without a download, refused.
    shutil.copytree(dist, ortweb.cache_folder())
    with pytest.raises(ortweb.OrtWebError, match="--onnxruntime-web PATH"):
        ortweb.onnxruntime_web(download=False)


@pytest.mark.parametrize(
    "fault", [OSError(errno.ENOSPC, "No space"), KeyboardInterrupt]
)
def test_a_failed_write_leaves_no_half_page_and_keeps_the_old_one(
    site, ort_files, generator_file, tmp_path, monkeypatch, fault
):
    explorer = Explorer(load_generator(generator_file))
    written = []

    def failing(path, data):
        written.append(path)
        if len(written) == 4:
            raise fault
        real_write(path, data)

    real_write = static_site._write
    monkeypatch.setattr(static_site, "_write", failing)
    with pytest.raises(type(fault) if isinstance(fault, OSError) else fault):
        static_site.write_static_site(explorer, tmp_path / "new", ort_files)
    assert not (tmp_path / "new").exists()
    old = tmp_path / "old"
    shutil.copytree(site, old)
    before = (old / "api/info").read_bytes()
    written.clear()
    with pytest.raises(type(fault) if isinstance(fault, OSError) else fault):
        static_site.write_static_site(explorer, old, ort_files, overwrite=True)
    assert (old / "api/info").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]


def test_overwrite_replaces_a_page_it_wrote(site, ort_files, generator_file, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(site, old)
    (old / "index.html").write_text("stale")
    explorer = Explorer(load_generator(generator_file))
    static_site.write_static_site(explorer, old, ort_files, overwrite=True)
    assert (old / "index.html").read_bytes() == (
        static_site.STATIC / "index.html"
    ).read_bytes()


# ----------------------------------------------------------------- browser
sync_api = None
if os.access(CHROMIUM, os.X_OK):
    try:
        from playwright import sync_api
    except ImportError:
        pass
browser_only = pytest.mark.skipif(
    sync_api is None,
    reason="no chromium (apt-get install chromium) or no Playwright "
    "(pip install playwright)",
)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def serve():
    """`serve(folder)` -> its address, from `http.server` in a thread."""
    servers = []

    def start(folder):
        handler = functools.partial(QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield start
    for server in servers:
        server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def open_page(browser, address, **options):
    """The page, its requests and errors: `(page, requests, errors)`."""
    page = browser.new_page(viewport={"width": 1200, "height": 900}, **options)
    page.set_default_timeout(TIMEOUT_MS)
    requests, errors = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(address)
    page.wait_for_selector(".tile img")
    return page, requests, errors


@pytest.fixture
def page(browser, site, serve):
    address = serve(site)
    page, requests, errors = open_page(browser, address, accept_downloads=True)
    yield page
    page.close()
    assert errors == []
    # Nothing but the folder's own files (data: URLs are the images).
    outside = [
        url
        for url in requests
        if not url.startswith(address) and not url.startswith("data:")
    ]
    assert outside == []


def pixels(src: str) -> np.ndarray:
    data = base64.b64decode(src.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), np.int64)


def keras_images(site_folder, generator_file, latents, labels=None):
    explorer = Explorer(load_generator(generator_file))
    classes = None if labels is None else explorer.class_vectors(labels, len(latents))
    return explorer.render(np.asarray(latents, np.float32), classes)[..., 0]


@browser_only
def test_the_grid_draws_keras_images(page, site, generator_file):
    assert page.locator(".tile").count() == 16
    samples = page.evaluate("state.samples.map((s) => [s.z, s.img])")
    drawn = np.stack([pixels(img) for _, img in samples])
    assert all(image.std() > 0 for image in drawn)  # not blank
    assert len({image.tobytes() for image in drawn}) == 16  # not all equal
    expected = keras_images(site, generator_file, [z for z, _ in samples])
    assert np.abs(drawn - expected).max() <= TOLERANCE
    assert page.is_hidden("#project-section")
    assert page.is_visible("#static-note")
    # Latents of a seed: normal, reproducible, and "more" extends the grid.
    latents = np.array([z for z, _ in samples])
    assert abs(latents.mean()) < 0.5 and 0.6 < latents.std() < 1.4
    page.click("#more")
    page.wait_for_function("state.samples.length == 32")
    assert page.evaluate("state.samples[3].z") == samples[3][0]
    # The samples' PNG, drawn in the browser as make_grid lays grids out.
    with page.expect_download() as download:
        page.click("#download-png")
    grid = np.asarray(Image.open(download.value.path()).convert("L"), np.int64)
    images = np.stack(
        [pixels(img) for img in page.evaluate("state.samples.map((s) => s.img)")]
    )
    expected = make_grid(images[..., None].astype(np.uint8), columns=8)[..., 0]
    assert grid.shape == expected.shape
    assert np.abs(grid - expected).max() <= 1


@browser_only
def test_pick_walk_slide_and_arithmetic(page, site, generator_file):
    tiles = page.locator(".tile")
    for index in (0, 5, 9):
        tiles.nth(index).click()
    page.fill("#steps", "6")
    page.click("#walk")
    page.wait_for_function("document.querySelectorAll('#walk-strip img').length == 11")
    walk = page.evaluate("[state.walk.latents, state.walk.images]")
    picks = page.evaluate("picked().map((s) => s.z)")
    expected = latent_space.join_segments(latent_space.walk_latents(picks, 6))
    np.testing.assert_allclose(walk[0], expected, atol=1e-5)
    drawn = np.stack([pixels(img) for img in walk[1]])
    assert np.abs(drawn - keras_images(site, generator_file, walk[0])).max() <= 1

    page.click("#pca")
    page.wait_for_selector(".slider input")
    assert page.locator(".slider").count() == 8
    page.locator(".slider input").first.fill("2.5")
    page.wait_for_function("document.getElementById('latency').textContent")
    page.wait_for_function("state.moved && state.moved.images.length == 3")

    page.click("#clear")
    for group, indices in {"A": (1, 2, 3), "B": (4, 6, 7), "C": (8, 10, 11)}.items():
        page.check(f"input[name=mode][value={group}]")
        for index in indices:
            tiles.nth(index).click()
    page.click("#arithmetic")
    page.wait_for_selector("#arith-result figure >> nth=10")
    result = page.evaluate("state.arith.latents")
    z = np.array(page.evaluate("state.samples.map((s) => s.z)"))
    centre = z[[1, 2, 3]].mean(0) - z[[4, 6, 7]].mean(0) + z[[8, 10, 11]].mean(0)
    np.testing.assert_allclose(result[0], centre, atol=1e-6)
    jitter = np.array(result[1:]) - centre
    assert len(result) == 8 and 0 < np.abs(jitter).max() <= 0.25


@browser_only
def test_the_class_picker_of_a_conditional_generator(
    browser, serve, ort_files, tmp_path
):
    file = varied_generator(tmp_path / "cond" / "generator.keras", num_classes=3)
    out = tmp_path / "site"
    static_site.write_static_site(Explorer(load_generator(file)), out, ort_files)
    address = serve(out)
    page, requests, errors = open_page(browser, address)
    page.wait_for_selector(".tile select")
    assert page.locator(".tile select").first.input_value() == "0"
    before = page.evaluate("state.samples[0].img")
    page.locator(".tile select").first.select_option("2")
    page.wait_for_function(f"state.samples[0].img != {before!r}")
    z, img = page.evaluate("[state.samples[0].z, state.samples[0].img]")
    expected = keras_images(out, file, [z], labels=np.array([2]))
    assert np.abs(pixels(img) - expected[0]).max() <= TOLERANCE
    page.locator(".tile").nth(0).click()
    page.select_option("#class-from", "0")
    page.select_option("#class-to", "2")
    page.click("#class-walk")
    page.wait_for_selector("#walk-strip img >> nth=11")
    assert errors == []
    assert all(url.startswith(address) or url.startswith("data:") for url in requests)
    page.close()


@browser_only
def test_from_a_file_the_page_says_how_to_serve_it(browser, site):
    page = browser.new_page()
    page.goto((site / "index.html").as_uri())
    page.wait_for_selector("#error:not([hidden])")
    assert "http.server" in page.inner_text("#error-text")
    page.close()


@browser_only
def test_first_draw_and_redraw_times(browser, site, serve):
    """Prints the times docs/explore.md quotes (pytest -s shows them)."""
    started = time.perf_counter()
    page, _, errors = open_page(browser, serve(site))
    first = page.evaluate("performance.now()")
    times = page.evaluate(
        """async () => {
        $("count").value = 64;
        const times = [];
        for (let i = 0; i < 3; i++) {
          const t = performance.now(); await draw(0); times.push(performance.now() - t);
        }
        return times;
    }"""
    )
    print(
        f"\nstatic page ({static_site.folder_size(site) / 1e6:.1f} MB): first grid "
        f"{first:.0f} ms after opening ({time.perf_counter() - started:.1f} s "
        f"with the browser), 64 samples redrawn in {min(times):.0f} ms"
    )
    assert page.locator(".tile").count() == 64 and errors == []
    page.close()
