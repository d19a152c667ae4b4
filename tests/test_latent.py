"""Loading, sampling and walking a trained generator (dcgan_tf.latent)."""

import numpy as np
import pytest

from dcgan_tf import latent
from dcgan_tf.config import TrainConfig
from dcgan_tf.networks import build_discriminator, build_generator

IMAGE_SHAPE = (16, 16, 1)
LATENT_DIM = 8
TRAIN_STEPS = 100


def make_run(run_dir):
    """A run directory of a tiny generator after a short real DCGAN training.

    A freshly initialised generator makes nearly flat gray images (weights
    ~ N(0, 0.02), batch-norm statistics at their start), which would hide
    mistakes in the order of images; 100 adversarial steps on blobs give
    samples that differ. Returns the training images.
    """
    import keras

    from dcgan_tf.data import make_dataset, synthetic_images
    from dcgan_tf.gan import DCGAN

    keras.utils.set_random_seed(0)
    generator = build_generator(IMAGE_SHAPE, latent_dim=LATENT_DIM, filters=8)
    discriminator = build_discriminator(IMAGE_SHAPE, filters=8)
    model = DCGAN(generator, discriminator, seed=0)
    model.compile()
    images = synthetic_images(64, IMAGE_SHAPE, seed=0)
    model.fit(
        make_dataset(images, 16, seed=0),
        epochs=1,
        steps_per_epoch=TRAIN_STEPS,
        shuffle=False,
        verbose=0,
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    generator.save(run_dir / "generator.keras")
    discriminator.save(run_dir / "discriminator.keras")
    TrainConfig(
        dataset="fashion_mnist",
        image_size=IMAGE_SHAPE[0],
        latent_dim=LATENT_DIM,
        generator_filters=8,
        discriminator_filters=8,
        seed=7,
    ).save(run_dir / "config.json")
    return images


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("run")
    make_run(path)
    return path


@pytest.fixture(scope="module")
def generator(run_dir):
    return latent.load_generator(run_dir)


def test_load_generator_tells_latent_size_image_shape_and_run_settings(run_dir):
    from_dir = latent.load_generator(run_dir)
    from_file = latent.load_generator(run_dir / "generator.keras")
    for generator in (from_dir, from_file):
        assert generator.latent_dim == LATENT_DIM
        assert generator.image_shape == IMAGE_SHAPE
        assert generator.latent_distribution == "normal"
        assert generator.dataset == "fashion_mnist"
        assert generator.seed == 7
        assert generator.path == run_dir / "generator.keras"


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


def test_load_generator_rejects_the_discriminator(run_dir):
    with pytest.raises(ValueError, match="is a discriminator"):
        latent.load_generator(run_dir / "discriminator.keras")


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
    run_dir, tmp_path, name, content, error, match
):
    path = tmp_path / name
    if content == "half":
        data = (run_dir / "generator.keras").read_bytes()
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


def test_sample_draws_the_latents_of_the_runs_training_grids():
    from dcgan_tf.runs import fixed_latents

    for distribution in ("normal", "uniform"):
        config = TrainConfig(
            latent_dim=5, num_samples=4, seed=11, latent_distribution=distribution
        )
        np.testing.assert_array_equal(
            latent.sample_latents(4, 5, seed=11, distribution=distribution),
            fixed_latents(config),
        )


def test_uniform_latents_stay_in_the_unit_box():
    latents = latent.sample_latents(500, 4, seed=0, distribution="uniform")
    assert latents.min() >= -1.0 and latents.max() < 1.0
    assert latents.min() < -0.95 and latents.max() > 0.95
    with pytest.raises(ValueError, match="Unknown latent distribution"):
        latent.sample_latents(2, 4, distribution="cauchy")


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


def test_slerp_keeps_latent_norms_where_lerp_does_not():
    # Independent Gaussian latents are nearly orthogonal with norms near
    # sqrt(d): the straight line's middle has about 1/sqrt(2) of that norm.
    rng = np.random.default_rng(0)
    start, end = rng.standard_normal((2, 200, 100))
    endpoints = (np.linalg.norm(start, axis=1) + np.linalg.norm(end, axis=1)) / 2
    for method, low, high in (("slerp", 0.95, 1.05), ("linear", 0.6, 0.8)):
        middle = latent.interpolate_latents(start, end, 3, method)[:, 1]
        ratio = np.linalg.norm(middle, axis=1) / endpoints
        assert low < ratio.min() and ratio.max() < high, method
    # Between latents of equal norm, every point of slerp keeps that norm.
    same = end * (np.linalg.norm(start, axis=1) / np.linalg.norm(end, axis=1))[:, None]
    path = latent.interpolate_latents(start, same, 9, "slerp")
    np.testing.assert_allclose(
        np.linalg.norm(path, axis=2),
        np.repeat(np.linalg.norm(start, axis=1)[:, None], 9, axis=1),
        rtol=1e-5,
    )


def test_slerp_moves_at_constant_speed_and_handles_parallel_latents():
    rng = np.random.default_rng(1)
    start, end = rng.standard_normal((2, 16))
    # On a sphere (equal norms), slerp takes equal steps along the arc.
    on_sphere = end * np.linalg.norm(start) / np.linalg.norm(end)
    path = latent.interpolate_latents(start, on_sphere, 11, "slerp")
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    np.testing.assert_allclose(steps, steps.mean(), rtol=1e-4)
    # Parallel latents and the zero latent have no great circle: a line.
    for other in (2.0 * start, np.zeros(16)):
        parallel = latent.interpolate_latents(start, other, 5, "slerp")
        linear = latent.interpolate_latents(start, other, 5, "linear")
        assert np.all(np.isfinite(parallel))
        np.testing.assert_allclose(parallel, linear, atol=1e-5)


def test_walk_visits_keyframes_in_order_and_can_loop():
    keyframes = latent.sample_latents(3, 4, seed=0)
    open_walk = latent.walk_latents(keyframes, 5, "slerp")
    loop = latent.walk_latents(keyframes, 5, "slerp", loop=True)
    assert open_walk.shape == (2, 5, 4) and loop.shape == (3, 5, 4)
    np.testing.assert_allclose(loop[:, 0], keyframes, atol=1e-6)
    np.testing.assert_allclose(loop[:, -1], np.roll(keyframes, -1, axis=0), atol=1e-6)
    frames = latent.join_segments(loop, loop=True)
    assert len(frames) == 3 * 4  # no keyframe shown twice, so it loops smoothly
    np.testing.assert_allclose(frames[[0, 4, 8]], keyframes, atol=1e-6)
    assert len(latent.join_segments(open_walk)) == 2 * 4 + 1
    with pytest.raises(ValueError, match="at least 2 keyframe"):
        latent.walk_latents(keyframes[:1])
    with pytest.raises(ValueError, match="at least 2"):
        latent.interpolate_latents(keyframes[0], keyframes[1], steps=1)
    with pytest.raises(ValueError, match="Unknown interpolation method"):
        latent.interpolate_latents(keyframes[0], keyframes[1], method="cubic")


def test_walks_are_smooth(generator):
    keyframes = latent.sample_latents(3, LATENT_DIM, seed=5)
    images = latent.walk(generator, keyframes, steps=12, loop=True).images
    for segment in images:
        jumps = np.abs(np.diff(segment, axis=0)).mean(axis=(1, 2, 3))
        span = np.abs(segment[-1] - segment[0]).mean()
        # Each step moves a small part of the way, never most of it.
        assert jumps.max() < 0.4 * span
        assert jumps.sum() < 2.0 * span


def test_latents_round_trip_and_are_picked_by_grid_index(tmp_path):
    latents = latent.sample_latents(6, 4, seed=2)
    path = latent.save_latents(tmp_path / "grid.npz", latents, seed=2, columns=3)
    loaded = latent.load_latents(path, latent_dim=4)
    np.testing.assert_array_equal(loaded, latents)
    with np.load(path) as data:
        assert int(data["seed"]) == 2 and int(data["columns"]) == 3
    np.testing.assert_array_equal(latent.pick(loaded, [4, 1, 4]), latents[[4, 1, 4]])
    np.save(tmp_path / "latents.npy", latents)  # a run's training-grid latents
    np.testing.assert_array_equal(
        latent.load_latents(tmp_path / "latents.npy"), latents
    )


@pytest.mark.parametrize(
    "action, match",
    [
        ("pick 6", r"Index 6 is out of range: there are 6 latents \(indices 0 to 5\)"),
        ("pick -1", "Index -1 is out of range"),
        ("dim 5", "holds 4-dimensional latents but the generator takes 5"),
        ("no latents", "has no 'latents' array"),
        ("not npz", "Cannot read latents from"),
        ("missing", "No such latents file"),
    ],
)
def test_latents_files_and_indices_give_one_line_errors(tmp_path, action, match):
    latents = latent.sample_latents(6, 4, seed=2)
    path = latent.save_latents(tmp_path / "grid.npz", latents)
    with pytest.raises((ValueError, FileNotFoundError), match=match) as raised:
        if action.startswith("pick"):
            latent.pick(latents, [0, int(action.split()[1])])
        elif action == "dim 5":
            latent.load_latents(path, latent_dim=5)
        elif action == "no latents":
            np.savez(tmp_path / "other.npz", images=np.zeros(3))
            latent.load_latents(tmp_path / "other.npz")
        elif action == "not npz":
            (tmp_path / "text.npz").write_text("hello")
            latent.load_latents(tmp_path / "text.npz")
        else:
            latent.load_latents(tmp_path / "nothing.npz")
    assert "\n" not in str(raised.value)
