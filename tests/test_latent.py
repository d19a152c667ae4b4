"""Loading, sampling and walking a trained generator (dcgan_tf.latent).

The generator is the session's `trained_run` (tests/conftest.py): a short real
training on the shipped Fashion-MNIST sample.
"""

import numpy as np
import pytest

from dcgan_tf import latent, latent_space
from dcgan_tf.config import TrainConfig
from dcgan_tf.networks import build_generator

# What the `trained_run` fixture trains.
IMAGE_SHAPE = (28, 28, 1)
LATENT_DIM = 8
SEED = 7


@pytest.fixture(scope="module")
def generator(trained_run):
    return latent.load_generator(trained_run)


def test_load_generator_tells_latent_size_image_shape_and_run_settings(trained_run):
    from_dir = latent.load_generator(trained_run)
    from_file = latent.load_generator(trained_run / "generator.keras")
    for generator in (from_dir, from_file):
        assert generator.latent_dim == LATENT_DIM
        assert generator.image_shape == IMAGE_SHAPE
        assert generator.latent_distribution == "normal"
        assert generator.dataset == "fashion_mnist"
        assert generator.seed == SEED
        assert generator.path == trained_run / "generator.keras"


def test_load_generator_samples_the_runs_latent_distribution(tmp_path):
    build_generator(IMAGE_SHAPE, LATENT_DIM, 8).save(tmp_path / "g.keras")
    bare = latent.load_generator(tmp_path / "g.keras")
    assert bare.latent_distribution == "normal"
    assert bare.dataset is None and bare.seed is None
    TrainConfig(latent_distribution="uniform").save(tmp_path / "config.json")
    uniform = latent.load_generator(tmp_path / "g.keras")
    assert uniform.latent_distribution == "uniform"
    latents = latent.sample(uniform, 50, seed=0).latents
    assert latents.min() >= -1.0 and latents.max() <= 1.0


def test_load_generator_rejects_the_discriminator(trained_run):
    with pytest.raises(ValueError, match="is a discriminator"):
        latent.load_generator(trained_run / "discriminator.keras")


@pytest.mark.parametrize(
    "name, content, error, match",
    [
        ("truncated.keras", "half", ValueError, "not a zip archive; truncated"),
        ("notes.keras", b"not a model", ValueError, "not a zip archive"),
        ("model.weights.h5", b"\x89HDF", ValueError, "weights only"),
        ("model.txt", b"text", ValueError, "not a .keras file"),
        ("missing.keras", None, FileNotFoundError, "No such run directory"),
        ("empty_run", "dir", FileNotFoundError, "No generator.keras in"),
    ],
)
def test_load_generator_gives_one_line_errors(
    trained_run, tmp_path, name, content, error, match
):
    path = tmp_path / name
    if content == "half":
        data = (trained_run / "generator.keras").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match=match) as raised:
        latent.load_generator(path)
    assert "\n" not in str(raised.value)


def test_sample_is_reproducible_by_seed(generator):
    first = latent.sample(generator, 6, seed=3)
    again = latent.sample(generator, 6, seed=3)
    other = latent.sample(generator, 6, seed=4)
    assert first.images.shape == (6, *IMAGE_SHAPE)
    assert first.images.dtype == np.float32
    assert first.latents.shape == (6, LATENT_DIM)
    assert -1.0 <= first.images.min() and first.images.max() <= 1.0
    np.testing.assert_array_equal(first.latents, again.latents)
    np.testing.assert_allclose(first.images, again.images, atol=1e-6)
    assert not np.allclose(first.latents, other.latents)
    # The generator was trained: its samples differ from each other.
    assert first.images.std(axis=0).mean() > 0.02
    # A smaller grid of the same seed is the start of the larger one.
    np.testing.assert_array_equal(
        latent.sample_latents(2, LATENT_DIM, 3), first.latents[:2]
    )


def test_generate_does_not_depend_on_the_batch(generator):
    latents = latent.sample_latents(7, LATENT_DIM, seed=0)
    np.testing.assert_allclose(
        latent.generate(generator, latents, batch_size=3),
        latent.generate(generator, latents, batch_size=64),
        atol=1e-5,
    )
    with pytest.raises(ValueError, match="takes 8-dimensional latents"):
        latent.generate(generator, np.zeros((2, 5)))


@pytest.mark.parametrize("method", ["slerp", "linear"])
def test_interpolation_endpoints_are_the_two_source_images(generator, method):
    source = latent.sample(generator, 4, seed=1)
    single = latent.interpolate(
        generator, source.latents[0], source.latents[1], 6, method
    )
    assert single.images.shape == (6, *IMAGE_SHAPE)
    np.testing.assert_array_equal(single.latents[0], source.latents[0])
    np.testing.assert_array_equal(single.latents[-1], source.latents[1])
    np.testing.assert_allclose(single.images[0], source.images[0], atol=1e-5)
    np.testing.assert_allclose(single.images[-1], source.images[1], atol=1e-5)
    pairs = latent.interpolate(
        generator, source.latents[:2], source.latents[2:], 5, method
    )
    assert pairs.images.shape == (2, 5, *IMAGE_SHAPE)
    np.testing.assert_allclose(pairs.images[:, 0], source.images[:2], atol=1e-5)
    np.testing.assert_allclose(pairs.images[:, -1], source.images[2:], atol=1e-5)


def test_walks_are_smooth(generator):
    keyframes = latent.sample_latents(3, LATENT_DIM, seed=5)
    images = latent.walk(generator, keyframes, steps=12, loop=True).images
    for segment in images:
        jumps = np.abs(np.diff(segment, axis=0)).mean(axis=(1, 2, 3))
        span = np.abs(segment[-1] - segment[0]).mean()
        # Each step moves a small part of the way, never most of it.
        assert jumps.max() < 0.4 * span
        assert jumps.sum() < 2.0 * span


def test_the_latent_maths_is_still_importable_from_latent():
    # dcgan_tf/__init__.py and the notebooks import these from dcgan_tf.latent.
    for name in (
        "LATENT_DISTRIBUTIONS",
        "METHODS",
        "interpolate_latents",
        "join_segments",
        "lerp",
        "load_latents",
        "pick",
        "sample_latents",
        "save_latents",
        "slerp",
        "walk_latents",
    ):
        assert getattr(latent, name) is getattr(latent_space, name), name


def test_dcgan_tf_interpolate_stays_callable_after_the_command_is_imported(generator):
    import dcgan_tf
    import dcgan_tf.interpolate  # noqa: F401  (rebinds the package attribute)

    start, end = np.zeros((2, generator.latent_dim), "float32")
    end += 1.0
    path = dcgan_tf.interpolate(generator, start, end, steps=3, method="linear")
    direct = latent.interpolate(generator, start, end, steps=3, method="linear")
    np.testing.assert_array_equal(path.images, direct.images)
