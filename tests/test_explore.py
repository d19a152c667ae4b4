"""The explorer's JSON API (Flask's test client) and its command: what the
page is sent matches `generate` and `interpolate`, the `.npz` it downloads is
read back by `generate --from`, and bad requests change nothing."""

import base64
import io
import os
import signal
import socket
import subprocess
import sys
import urllib.request

import numpy as np
import pytest
from PIL import Image

from dcgan_tf import explore, generate
from dcgan_tf.explorer import Explorer, create_app
from dcgan_tf.sampling import drawing as sampling
from dcgan_tf.sampling import latents as latent_space
from dcgan_tf.sampling.images import to_uint8


def decode(url) -> np.ndarray:
    """A PNG data URL as a uint8 (h, w) or (h, w, 3) array."""
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


def png(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def snapshot(folder):
    return sorted(
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    )


@pytest.fixture(scope="module")
def explorer(trained_run):
    return Explorer(sampling.load_generator(trained_run))


@pytest.fixture(scope="module")
def client(explorer):
    return create_app(explorer).test_client()


@pytest.fixture(scope="module")
def conditional(tmp_path_factory):
    """An untrained conditional generator of three named classes."""
    from dcgan_tf.model.networks import build_generator

    path = tmp_path_factory.mktemp("conditional") / "generator.keras"
    model = build_generator((16, 16, 1), 8, 8, class_names=["cat", "dog", "owl"])
    model.save(path)
    return create_app(Explorer(sampling.load_generator(path))).test_client()


def test_samples_are_those_of_generate_and_more_extends_the_grid(client, trained_run):
    drawn = client.post("/api/sample", json={"seed": 3, "count": 6}).json
    more = client.post("/api/sample", json={"seed": 3, "count": 2, "offset": 6}).json
    expected = sampling.sample(sampling.load_generator(trained_run), 8, 3)
    latents = np.array(drawn["latents"] + more["latents"], np.float32)
    np.testing.assert_array_equal(latents, expected.latents)
    images = [decode(url) for url in drawn["images"] + more["images"]]
    # The compiled forward pass draws what `generate` draws (to a grey level).
    reference = to_uint8(expected.images)[..., 0]
    assert np.abs(np.stack(images).astype(int) - reference).max() <= 1
    assert len({image.tobytes() for image in images}) == 8


def test_walk_goes_through_the_picks_along_slerp(client):
    z = client.post("/api/sample", json={"seed": 1, "count": 3}).json["latents"]
    walk = client.post("/api/walk", json={"latents": z, "steps": 5, "loop": True}).json
    frames = np.array(walk["latents"], np.float32)
    assert len(walk["images"]) == len(frames) == 3 * 4  # a loop drops the repeat
    expected = latent_space.join_segments(
        latent_space.walk_latents(z, 5, loop=True), True
    )
    np.testing.assert_allclose(frames, expected, atol=1e-6)
    np.testing.assert_allclose(frames[[0, 4, 8]], z, atol=1e-6)
    linear = client.post(
        "/api/walk", json={"latents": z[:2], "method": "linear", "steps": 3}
    ).json
    np.testing.assert_allclose(linear["latents"][1], np.mean(z[:2], axis=0), atol=1e-5)


def test_arithmetic_averages_each_group_then_perturbs(client):
    z = np.array(
        client.post("/api/sample", json={"seed": 2, "count": 9}).json["latents"]
    )
    body = {"a": z[:3].tolist(), "b": z[3:6].tolist(), "c": z[6:].tolist(), "count": 5}
    result = client.post("/api/arithmetic", json=body).json
    centre = z[:3].mean(0) - z[3:6].mean(0) + z[6:].mean(0)
    latents = np.array(result["latents"])
    np.testing.assert_allclose(latents[0], centre, atol=1e-5)
    offsets = np.abs(latents[1:] - centre)
    assert offsets.max() <= 0.25 + 1e-6 and offsets.min() > 0
    np.testing.assert_allclose(result["means"][1], z[3:6].mean(0), atol=1e-6)
    assert len(result["images"]) == 5 and len(result["mean_images"]) == 3


def test_sliders_move_picks_along_principal_and_user_directions(client, explorer):
    found = client.get("/api/directions").json
    vectors = np.array(found["directions"])
    assert (
        vectors.shape == (explorer.generator.latent_dim, 8)[::-1] or len(vectors) == 8
    )
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert found["explained"] == sorted(found["explained"], reverse=True)
    assert found["layer"] == "project_relu"
    drawn = client.post("/api/sample", json={"seed": 4, "count": 16}).json
    z = np.array(drawn["latents"])
    body = {"latents": z.tolist(), "directions": vectors[:2].tolist()}
    still = client.post("/api/move", json=body | {"amounts": [0, 0]}).json
    assert still["images"] == drawn["images"]
    moved = client.post("/api/move", json=body | {"amounts": [2.0, -1.0]}).json
    np.testing.assert_allclose(
        moved["latents"], z + 2.0 * vectors[0] - vectors[1], atol=1e-5
    )
    assert sum(a != b for a, b in zip(moved["images"], drawn["images"])) >= 12
    assert moved["ms"] > 0
    user = client.post(
        "/api/direction", json={"positive": z[:2].tolist(), "negative": z[2:4].tolist()}
    ).json
    np.testing.assert_allclose(
        user["direction"], z[:2].mean(0) - z[2:4].mean(0), atol=1e-6
    )


def test_downloaded_npz_is_read_back_by_generate_from(client, trained_run, tmp_path):
    drawn = client.post("/api/sample", json={"seed": 5, "count": 4}).json
    response = client.post(
        "/api/export/npz", json={"latents": drawn["latents"], "seed": 5, "columns": 2}
    )
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    npz = tmp_path / "picks.npz"
    npz.write_bytes(response.data)
    with np.load(npz) as data:
        assert int(data["seed"]) == 5 and int(data["columns"]) == 2
    out = tmp_path / "again.png"
    generate.main(
        [str(trained_run), "--from", str(npz), "--indices", "3", "--out", str(out)]
        + ["--individual"]
    )
    # The picked sample keeps its number (--indices 3).
    again = np.asarray(Image.open(tmp_path / "again" / "0003.png"))
    assert np.abs(again.astype(int) - decode(drawn["images"][3])).max() <= 1
    grid = client.post("/api/export/png", json={"latents": drawn["latents"]})
    assert Image.open(io.BytesIO(grid.data)).size[0] > 4 * 28
    gif = client.post("/api/export/gif", json={"latents": drawn["latents"]})
    assert Image.open(io.BytesIO(gif.data)).n_frames == 4


def test_conditional_classes_walks_and_npz_labels(conditional, tmp_path):
    info = conditional.get("/api/info").json
    assert info["class_names"] == ["cat", "dog", "owl"]
    drawn = conditional.post("/api/sample", json={"seed": 0, "count": 4}).json
    assert drawn["labels"] == [0, 1, 2, 0]
    z = drawn["latents"]
    as_dog = conditional.post("/api/render", json={"latents": z[:1], "labels": [1]})
    assert as_dog.json["images"][0] != drawn["images"][0]
    # Sample 1 was drawn as class 1: the same latent and class, the same image.
    again = conditional.post("/api/render", json={"latents": z[1:2], "labels": [1]})
    assert again.json["images"][0] == drawn["images"][1]
    walk = conditional.post(
        "/api/class-walk", json={"latents": z[:1], "from": 0, "to": 2, "steps": 3}
    ).json
    np.testing.assert_allclose(walk["classes"], [[1, 0, 0], [0.5, 0, 0.5], [0, 0, 1]])
    body = {"latents": walk["latents"], "classes": walk["classes"]}
    npz = tmp_path / "walk.npz"
    npz.write_bytes(conditional.post("/api/export/npz", json=body).data)
    assert latent_space.load_labels(npz).tolist() == [0, 0, 2]
    with np.load(npz) as data:
        np.testing.assert_allclose(data["classes"], walk["classes"])
    legs = conditional.post(
        "/api/walk", json={"latents": z[:2], "labels": [0, 2], "steps": 3}
    ).json
    np.testing.assert_allclose(legs["classes"][1], [0.5, 0, 0.5])


def test_projection_finds_a_latent_near_the_uploaded_image(client, explorer):
    target = sampling.sample(explorer.generator, 1, 11).images[0]
    upload = png(to_uint8(target)[..., 0])
    far = client.post("/api/sample", json={"seed": 12, "count": 16}).json["images"]
    far_rmse = np.median(
        [np.sqrt(np.mean((decode(u) - to_uint8(target)[..., 0]) ** 2.0)) for u in far]
    )
    for distance in ("pixels", "features"):
        data = {"image": (io.BytesIO(upload), "mine.png"), "distance": distance}
        result = client.post("/api/project", data=data | {"steps": "40"}).json
        assert "error" not in result, result
        assert result["pixel_rmse"] < 0.7 * far_rmse
        found = decode(result["images"][0]).astype(float)
        assert np.sqrt(np.mean((found - to_uint8(target)[..., 0]) ** 2)) < far_rmse
        assert (result["feature_distance"] is None) == (distance == "pixels")


BAD_REQUESTS = [
    ("/api/sample", {"seed": 3, "count": 100000}, "count must be between 1 and"),
    ("/api/sample", {"seed": -1}, "seed must be between"),
    ("/api/sample", {"seed": "x"}, "seed must be a whole number"),
    ("/api/render", {"latents": [[0.0] * 3]}, "latents of size 8"),
    ("/api/render", {"latents": [[float("nan")] * 8]}, "NaN or infinite"),
    ("/api/render", {"latents": [[1e9] * 8]}, "beyond"),
    ("/api/render", {"latents": [["a"] * 8]}, "numbers"),
    ("/api/render", {"latents": [[0.0] * 8] * 300}, "between 1 and 256"),
    ("/api/render", {"latents": [[0.0] * 8], "labels": [1]}, "unconditional"),
    ("/api/render", {}, "needs the field 'latents'"),
    ("/api/render", {"latents": [[0.0] * 8], "labels": 3}, "unconditional"),
    ("/api/render", {"latents": [[0.0] * 8], "classes": [[1.0]]}, "unconditional"),
    ("/api/render", {"latents": [[[0.0] * 8]]}, "got shape (1, 1, 8)"),
    ("/api/render", {"latents": [[0.0] * 8, [0.0] * 7]}, "of one length"),
    ("/api/render", {"latents": {"a": 1}}, "list of latents"),
    ("/api/walk", {"latents": [[0.0] * 8]}, "between 2 and"),
    ("/api/walk", {"latents": [[0.0] * 8] * 2, "steps": 10**6}, "steps must be"),
    ("/api/walk", {"latents": [[0.0] * 8] * 2, "method": "cubic"}, "method must be"),
    ("/api/walk", {"latents": [[0.0] * 8] * 60, "steps": 100}, "frames"),
    ("/api/move", {"latents": [[0.0] * 8], "directions": [[1.0] * 8]}, "amounts"),
    (
        "/api/move",
        {"latents": [[0.0] * 8], "directions": [[90.0] * 8], "amounts": [9]},
        "too far",
    ),
    ("/api/class-walk", {"latents": [[0.0] * 8], "from": 0, "to": 1}, "no classes"),
    ("/api/arithmetic", {"a": [[0.0] * 8], "b": [[0.0] * 8]}, "'c'"),
]


@pytest.mark.parametrize(("path", "body", "message"), BAD_REQUESTS)
def test_bad_requests_get_a_clear_error_and_change_nothing(client, path, body, message):
    import json

    before = client.post("/api/sample", json={"seed": 9, "count": 2}).json
    response = client.post(path, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert message in response.json["error"]
    assert client.post("/api/sample", json={"seed": 9, "count": 2}).json == before


def test_bad_uploads_are_refused_in_one_sentence(client):
    def post(data, name="x.png"):
        return client.post("/api/project", data={"image": (io.BytesIO(data), name)})

    answer = post(b"not an image at all").json["error"]
    # Pillow's own words name its in-memory buffer: not shown.
    assert "not an image" in answer and "BytesIO" not in answer
    assert "empty" in post(b"").json["error"]
    wide = post(png(np.zeros((2, 9000), np.uint8)))
    assert wide.status_code == 400 and "pixels a side" in wide.json["error"]
    huge = post(os.urandom(9 * 2**20))
    assert huge.status_code == 413 and "larger than 8 MiB" in huge.json["error"]
    assert "Choose an image" in client.post("/api/project", data={}).json["error"]
    steps = {"image": (io.BytesIO(png(np.zeros((4, 4)))), "a.png"), "steps": "many"}
    assert "steps" in client.post("/api/project", data=steps).json["error"]
    deep = '{"latents": ' + "[" * 100_000 + "]" * 100_000 + "}"
    nested = client.post("/api/render", data=deep, content_type="application/json")
    assert nested.status_code == 400 and "not JSON" in nested.json["error"]
    assert client.get("/api/nothing").status_code == 404
    assert "error" in client.get("/api/nothing").json


def test_page_and_assets_ship_with_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and b'src="static/app.js"' in page.data
    for asset in ("app.js", "style.css", "local.js"):
        assert client.get(f"/static/{asset}").status_code == 200
    # Offline: nothing is fetched from another host.
    text = page.data + client.get("/static/app.js").data
    text += client.get("/static/local.js").data
    assert b"http://" not in text and b"https://" not in text


def test_nothing_is_written_to_the_run_directory(client, trained_run):
    before = snapshot(trained_run)
    z = client.post("/api/sample", json={"seed": 0, "count": 3}).json["latents"]
    client.post("/api/export/npz", json={"latents": z})
    client.post("/api/export/gif", json={"latents": z})
    client.post("/api/walk", json={"latents": z})
    assert snapshot(trained_run) == before


def test_command_refuses_bad_input_in_one_line(trained_run, capsys):
    for argv, message in [
        (["/no/such/run"], "No such run directory"),
        ([str(trained_run), "--port", "70000"], "--port must be from 0 to 65535"),
        ([str(trained_run / "discriminator.keras")], "is a discriminator"),
    ]:
        with pytest.raises(SystemExit) as stop:
            explore.main(argv)
        assert stop.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        with pytest.raises(SystemExit) as stop:
            explore.main([str(trained_run), "--port", port])
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(err) == 1 and "another --port" in err[0]


# Slow (a fresh process imports TensorFlow); the browser tests run the same
# command and stop it with Ctrl-C in the default suite.
@pytest.mark.slow
def test_command_prints_its_address_and_stops_on_ctrl_c(trained_run):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # the command hides TensorFlow's start-up
    process = subprocess.Popen(
        [sys.executable, "-m", "dcgan_tf.explore", str(trained_run), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        for line in process.stdout:
            if line.startswith("Exploring at "):
                break
        address = line.split()[2]
        assert address.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(address + "api/info", timeout=30) as response:
            assert b'"latent_dim":8' in response.read()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    # Ctrl-C is how a server is stopped: one line, no traceback, exit 0.
    assert process.returncode == 0
    assert out.strip().splitlines() == ["Stopped."] and err.strip() == ""
