"""The explorer's work on a loaded generator: draw, walk, do arithmetic, move
along directions, all batched through one compiled forward pass.

Radford et al. (2015) §6.1 walk between samples and §6.3 do vector
arithmetic on the average z of three samples per concept; this is both,
with the latent maths of `dcgan_tf.sampling.latents` (the same seeds, slerp and
`.npz` files as `generate` and `interpolate`). An `Explorer` holds no state
of a page: every call gets the latents it works on, so several tabs never
see each other's picks.
"""

import io
import tempfile
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from dcgan_tf.explorer import backend
from dcgan_tf.sampling import latents as latent_space
from dcgan_tf.sampling.images import make_grid, save_gif, to_uint8
from dcgan_tf.sampling.latents import one_hot

# Latents per forward pass: 16 samples redraw in one call; bounds memory.
FORWARD_BATCH = 64
# The paper's §6.3 perturbs the result of A - B + C by noise of scale 0.25.
ARITHMETIC_NOISE = 0.25


class Explorer:
    """A generator ready to be explored.

    Args:
        generator: a `dcgan_tf.sampling.loading.Generator`.
    """

    def __init__(self, generator):
        self.generator = generator
        self.forward = backend.compile_forward(
            generator.model, conditional=bool(generator.num_classes)
        )
        self._directions = None
        self._features = False  # not looked for yet
        self._lock = threading.Lock()

    @property
    def num_classes(self) -> int | None:
        return self.generator.num_classes

    def info(self) -> dict:
        """What the page shows of the generator and needs to talk to it."""
        g = self.generator
        return {
            "name": g.path.parent.name
            if g.path and g.path.name == "generator.keras"
            else (g.path.name if g.path else g.model.name),
            "latent_dim": g.latent_dim,
            "image_shape": list(g.image_shape),
            "latent_distribution": g.latent_distribution,
            "dataset": g.dataset,
            "seed": g.seed,
            "class_names": list(g.class_names) if g.class_names else None,
            "backend": backend.keras.backend.backend(),
        }

    def class_vectors(self, labels, count: int) -> np.ndarray | None:
        """One-hot class inputs for `count` latents (labels: indices or None)."""
        if not self.num_classes:
            return None
        labels = np.zeros(count, np.int64) if labels is None else labels
        return one_hot(labels, self.num_classes)

    def render(self, latents, classes=None) -> np.ndarray:
        """uint8 images `(n, h, w, c)` of float32 latents and class vectors."""
        latents = np.asarray(latents, np.float32)
        if self.num_classes and classes is None:
            classes = self.class_vectors(None, len(latents))
        chunks = []
        for i in range(0, len(latents), FORWARD_BATCH):
            part = None if classes is None else classes[i : i + FORWARD_BATCH]
            chunks.append(self.forward(latents[i : i + FORWARD_BATCH], part))
        return to_uint8(np.concatenate(chunks))

    def sample(self, seed: int, count: int, offset: int = 0) -> np.ndarray:
        """Latents `offset` to `offset + count` of a seed: those of `generate
        --seed SEED --num offset+count`, so that "more" extends the same grid."""
        g = self.generator
        drawn = latent_space.sample_latents(
            offset + count, g.latent_dim, seed, g.latent_distribution
        )
        return drawn[offset:]

    def walk(self, keyframes, labels=None, steps=10, method="slerp", loop=False):
        """The frames of a walk through keyframes, one continuous sequence.

        For a conditional generator the class input moves in a straight line
        from each keyframe's class to the next one's.

        Returns:
            `(latents (frames, d), classes (frames, k) or None)`.
        """
        segments = latent_space.walk_latents(keyframes, steps, method, loop)
        latents = latent_space.join_segments(segments, loop)
        if not self.num_classes:
            return latents, None
        ends = self.class_vectors(labels, len(keyframes))
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        count = len(segments)
        starts, stops = ends[:count], np.roll(ends, -1, axis=0)[:count]
        paths = latent_space.lerp(starts[:, None], stops[:, None], t)
        return latents, latent_space.join_segments(paths, loop).astype(np.float32)

    def class_walk(self, latent, start: int, end: int, steps: int = 10):
        """One latent fixed, the class input moving from `start` to `end`
        (as `sampling.interpolate_classes`)."""
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        eye = np.eye(self.num_classes, dtype=np.float32)
        classes = latent_space.lerp(eye[start], eye[end], t).astype(np.float32)
        return np.repeat(np.asarray(latent, np.float32)[None], steps, 0), classes

    def arithmetic(self, a, b, c, count: int, seed: int, noise=ARITHMETIC_NOISE):
        """The paper's vector arithmetic on averaged latents (§6.3, Fig. 7).

        Args:
            a, b, c: `(k, d)` latents of each group, averaged each.
            count: results: `mean(a) - mean(b) + mean(c)` first, then
                `count - 1` perturbed by uniform noise in [-noise, noise].
            seed: seed of the perturbations.

        Returns:
            `(means (3, d), results (count, d))` float32.
        """
        means = np.stack([np.mean(g, axis=0) for g in (a, b, c)]).astype(np.float32)
        centre = means[0] - means[1] + means[2]
        rng = np.random.default_rng(seed)
        jitter = rng.uniform(-noise, noise, (count - 1, centre.shape[0]))
        results = np.concatenate([centre[None], centre + jitter]).astype(np.float32)
        return means, results

    def move(self, latents, directions, amounts) -> np.ndarray:
        """Latents moved by `sum_k amounts[k] * directions[k]`."""
        offset = np.asarray(amounts, np.float32) @ np.asarray(directions, np.float32)
        return (np.asarray(latents, np.float32) + offset).astype(np.float32)

    def directions(self):
        """The principal directions, computed on first use and kept
        (see `dcgan_tf.explorer.directions`)."""
        from dcgan_tf.explorer.directions import principal_directions

        with self._lock:
            if self._directions is None:
                self._directions = principal_directions(self)
            return self._directions

    def features(self):
        """The shipped classifier's feature network for this generator, or
        None (see `dcgan_tf.explorer.projection.feature_network`)."""
        from dcgan_tf.explorer.projection import feature_network

        with self._lock:
            if self._features is False:
                self._features = feature_network(self.generator)
            return self._features


def png_bytes(image) -> bytes:
    """One uint8 `(h, w, c)` image as PNG."""
    image = np.asarray(image)
    image = image[..., 0] if image.shape[-1] == 1 else image
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def grid_png(images, columns: int | None = None) -> bytes:
    """A grid of uint8 images as PNG (`dcgan_tf.sampling.images.make_grid`)."""
    return png_bytes(make_grid(images, columns))


def gif_bytes(images, seconds_per_frame: float = 0.1) -> bytes:
    """The frames of a walk as a looping GIF, enlarged like the grids are."""
    frames = [make_grid(image[None]) for image in images]
    with tempfile.TemporaryDirectory() as folder:
        path = save_gif(frames, Path(folder) / "walk.gif", seconds_per_frame)
        return path.read_bytes()


def npz_bytes(latents, seed, distribution, columns, classes=None) -> bytes:
    """Latents as the `.npz` that `generate --from` and `interpolate --from`
    read (`latent_space.save_latents`), with each sample's class."""
    labels = None if classes is None else np.asarray(classes).argmax(axis=-1)
    with tempfile.TemporaryDirectory() as folder:
        path = latent_space.save_latents(
            Path(folder) / "latents.npz",
            latents,
            seed,
            distribution,
            columns,
            labels=labels,
            classes=classes,
        )
        return path.read_bytes()
