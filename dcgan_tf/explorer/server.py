"""The explorer's web server: a Flask app of one page and a small JSON API.

Every request carries the latents it works on and gets images back as PNG
data URLs, so the server keeps no state of a page (several tabs work at
once) and writes no file (downloads are made in memory or a temporary
folder). A bad request is answered `400 {"error": "..."}`, which the page
shows; nothing changes. This module makes the app and its routes;
`dcgan_tf.explorer.serving` refuses what is not the page's own request,
answers errors and listens.
"""

import base64
import json
import threading
import time
from importlib import resources

import numpy as np
from flask import Flask, Response, jsonify, request

from dcgan_tf.explorer import projection, serving
from dcgan_tf.explorer import validation as check
from dcgan_tf.explorer.directions import direction_between
from dcgan_tf.explorer.engine import gif_bytes, grid_png, npz_bytes, png_bytes
from dcgan_tf.explorer.serving import (  # noqa: F401 (their old home)
    DEFAULT_HOST,
    FORM_ROUTES,
    bind,
    serve,
)
from dcgan_tf.explorer.validation import RequestError
from dcgan_tf.sampling import latents as latent_space

STATIC = resources.files("dcgan_tf.explorer") / "static"
MAX_SAMPLES = check.MAX_LATENTS
MAX_DIRECTIONS = 16


def data_urls(images) -> list[str]:
    return [
        "data:image/png;base64," + base64.b64encode(png_bytes(i)).decode("ascii")
        for i in images
    ]


def _tolist(array):
    return None if array is None else np.asarray(array).tolist()


def create_app(explorer) -> Flask:
    """The Flask app serving the page and the API for one `Explorer`."""
    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = projection.MAX_UPLOAD_BYTES + 2**20
    app.config["EXPLORER_HOST"] = DEFAULT_HOST  # `serve` sets where it listens
    d, k = explorer.generator.latent_dim, explorer.num_classes
    projecting = threading.Semaphore(1)

    def body() -> dict:
        try:
            value = json.loads(request.get_data(cache=True) or b"null")
        except (ValueError, RecursionError):
            raise RequestError(
                "The request is not JSON the explorer can read."
            ) from None
        if not isinstance(value, dict):
            raise RequestError("The request must be a JSON object.")
        return value

    def inputs(b, name="latents", high=MAX_SAMPLES):
        """Latents and their class input: `labels` (indices) or `classes`
        (class vectors, such as the mixes of a class walk)."""
        z = check.latents(b, name, d, high=high)
        if not k and b.get("classes") is not None:
            raise RequestError("This generator is unconditional: it takes no classes.")
        if k and b.get("classes") is not None:
            mix = check.latents(b, "classes", k, low=len(z), high=len(z))
            if mix.min() < 0 or mix.max() > 1:
                raise RequestError(
                    "classes must be class vectors with values in [0, 1]."
                )
            return z, mix
        labels = check.classes(b, "labels", len(z), k)
        return z, explorer.class_vectors(labels, len(z))

    def images_of(z, c):
        return data_urls(explorer.render(z, c))

    serving.refuse_and_answer_errors(app)

    @app.get("/")
    def page():
        return Response((STATIC / "index.html").read_text(), mimetype="text/html")

    @app.get("/favicon.ico")
    def favicon():
        return Response(status=204)

    @app.get("/api/info")
    def info():
        result = explorer.info()
        result["features"] = projection.features_available(explorer.generator)
        result["limits"] = {
            "samples": MAX_SAMPLES,
            "frames": check.MAX_FRAMES,
            "steps": check.MAX_STEPS,
            "upload_bytes": projection.MAX_UPLOAD_BYTES,
        }
        return jsonify(result)

    @app.post("/api/sample")
    def sample():
        b = body()
        seed = check.integer(b, "seed", 0, check.MAX_SEED)
        offset = check.integer(b, "offset", 0, MAX_SAMPLES - 1, default=0)
        count = check.integer(b, "count", 1, MAX_SAMPLES - offset, default=16)
        z = explorer.sample(seed, count, offset)
        labels = None
        if k:  # each class in turn, as `generate` draws them
            labels = (np.arange(offset, offset + count) % k).astype(np.int64)
        c = explorer.class_vectors(labels, count)
        return jsonify(
            latents=_tolist(z), labels=_tolist(labels), images=images_of(z, c)
        )

    @app.post("/api/render")
    def render():
        z, c = inputs(body())
        return jsonify(images=images_of(z, c))

    def walk_request(b):
        keyframes = check.latents(b, "latents", d, low=2, high=64)
        labels = check.classes(b, "labels", len(keyframes), k)
        steps = check.integer(b, "steps", 2, check.MAX_STEPS, default=10)
        method = check.choice(b, "method", latent_space.METHODS, default="slerp")
        loop = check.flag(b, "loop")
        segments = len(keyframes) if loop else len(keyframes) - 1
        if segments * (steps - 1) + 1 > check.MAX_FRAMES:
            raise RequestError(
                f"A walk of {segments} legs of {steps} steps is more than "
                f"{check.MAX_FRAMES} frames; use fewer steps or picks."
            )
        return explorer.walk(keyframes, labels, steps, method, loop)

    @app.post("/api/walk")
    def walk():
        z, c = walk_request(body())
        return jsonify(latents=_tolist(z), classes=_tolist(c), images=images_of(z, c))

    @app.post("/api/class-walk")
    def class_walk():
        b = body()
        if not k:
            raise RequestError(
                "This generator is unconditional: it has no classes to walk."
            )
        z = check.latents(b, "latents", d, high=1)
        start = check.integer(b, "from", 0, k - 1)
        end = check.integer(b, "to", 0, k - 1)
        steps = check.integer(b, "steps", 2, check.MAX_STEPS, default=10)
        z, c = explorer.class_walk(z[0], start, end, steps)
        return jsonify(latents=_tolist(z), classes=_tolist(c), images=images_of(z, c))

    @app.post("/api/arithmetic")
    def arithmetic():
        b = body()
        groups = [check.latents(b, name, d, high=64) for name in ("a", "b", "c")]
        count = check.integer(b, "count", 1, 64, default=8)
        seed = check.integer(b, "seed", 0, check.MAX_SEED, default=0)
        noise = check.number(b, "noise", 0.0, 2.0, default=0.25)
        label = check.integer(b, "label", 0, k - 1, default=0) if k else None
        means, results = explorer.arithmetic(*groups, count, seed, noise)
        labels = None if label is None else np.full(count, label)
        mean_labels = None if label is None else np.full(3, label)
        return jsonify(
            means=_tolist(means),
            mean_images=images_of(means, explorer.class_vectors(mean_labels, 3)),
            latents=_tolist(results),
            labels=_tolist(labels),
            images=images_of(results, explorer.class_vectors(labels, count)),
        )

    @app.get("/api/directions")
    def directions():
        found = explorer.directions()
        return jsonify(
            directions=_tolist(found.vectors),
            explained=_tolist(found.explained),
            layer=found.layer,
        )

    @app.post("/api/direction")
    def direction():
        b = body()
        positive = check.latents(b, "positive", d, high=64)
        negative = check.latents(b, "negative", d, high=64)
        return jsonify(direction=_tolist(direction_between(positive, negative)))

    @app.post("/api/move")
    def move():
        started = time.perf_counter()
        b = body()
        z, c = inputs(b)
        vectors = check.latents(b, "directions", d, high=MAX_DIRECTIONS)
        amounts = check.field(b, "amounts", required=True)
        if not isinstance(amounts, list) or len(amounts) != len(vectors):
            raise RequestError("amounts must hold one number per direction.")
        amounts = [check.number({"amount": a}, "amount", -10.0, 10.0) for a in amounts]
        moved = explorer.move(z, vectors, amounts)
        if np.abs(moved).max() > check.MAX_ABS_LATENT:
            raise RequestError("The move takes the latents too far; move back.")
        images = images_of(moved, c)
        ms = (time.perf_counter() - started) * 1000
        return jsonify(latents=_tolist(moved), images=images, ms=round(ms, 1))

    @app.post("/api/project")
    def project():
        upload = request.files.get("image")
        if upload is None:
            raise RequestError("Choose an image file to project.")
        form = {key: request.form[key] for key in request.form}
        distance = check.choice(
            form, "distance", projection.DISTANCES, default="pixels"
        )
        steps = check.integer(
            {"steps": _int(form.get("steps"))}, "steps", 1, 1000, default=200
        )
        label = None
        if k and form.get("label") not in (None, "", "auto"):
            label = check.integer({"label": _int(form["label"])}, "label", 0, k - 1)
        target = projection.read_image(upload.read(), explorer.generator.image_shape)
        if not projecting.acquire(blocking=False):
            return jsonify(
                error="A projection is running; try again when it ends."
            ), 503
        try:
            found = projection.project(explorer, target, label, distance, steps)
        finally:
            projecting.release()
        labels = None if found.label is None else [found.label]
        z = found.latent[None]
        return jsonify(
            latents=_tolist(z),
            labels=labels,
            images=images_of(z, explorer.class_vectors(labels, 1)),
            target=data_urls(found.target[None])[0],
            pixel_rmse=found.pixel_rmse,
            feature_distance=found.feature_distance,
        )

    def download(data: bytes, mimetype: str, name: str):
        return Response(
            data,
            mimetype=mimetype,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @app.post("/api/export/png")
    def export_png():
        b = body()
        z, c = inputs(b, high=check.MAX_FRAMES)
        columns = check.integer(b, "columns", 1, 64, default=min(len(z), 8))
        return download(
            grid_png(explorer.render(z, c), columns), "image/png", "explore.png"
        )

    @app.post("/api/export/gif")
    def export_gif():
        b = body()
        z, c = inputs(b, high=2 * check.MAX_FRAMES)  # played forth and back
        seconds = check.number(b, "seconds_per_frame", 0.02, 2.0, default=0.1)
        return download(
            gif_bytes(explorer.render(z, c), seconds), "image/gif", "walk.gif"
        )

    @app.post("/api/export/npz")
    def export_npz():
        b = body()
        z, c = inputs(b, high=check.MAX_FRAMES)
        seed = None
        if b.get("seed") is not None:
            seed = check.integer(b, "seed", 0, check.MAX_SEED)
        columns = check.integer(b, "columns", 1, 64, default=min(len(z), 8))
        data = npz_bytes(z, seed, explorer.generator.latent_distribution, columns, c)
        return download(data, "application/octet-stream", "latents.npz")

    return app


def _int(text):
    """A form field as an int when it reads as one (else as it is, for the check)."""
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return text
