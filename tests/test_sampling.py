"""Loading, sampling and walking a trained generator (dcgan_tf.sampling.drawing).

The generator is the session's `trained_run` (tests/conftest.py): a short real
training on the shipped Fashion-MNIST sample.
"""

import numpy as np
import pytest
from conftest import save_generator

from dcgan_tf import rundir
from dcgan_tf.config import TrainConfig
from dcgan_tf.model.networks import build_generator
from dcgan_tf.sampling import drawing as sampling
from dcgan_tf.sampling import latents as latent_space
from dcgan_tf.system import files

# What the `trained_run` fixture trains.
IMAGE_SHAPE = (28, 28, 1)
LATENT_DIM = 8
SEED = 7


@pytest.fixture(scope="module")
def generator(trained_run):
    return sampling.load_generator(trained_run)


def test_load_generator_tells_latent_size_image_shape_and_run_settings(trained_run):
    from_dir = sampling.load_generator(trained_run)
    from_file = sampling.load_generator(trained_run / "generator.keras")
    for generator in (from_dir, from_file):
        assert generator.latent_dim == LATENT_DIM
        assert generator.image_shape == IMAGE_SHAPE
        assert generator.latent_distribution == "normal"
        assert generator.dataset == "fashion_mnist"
        assert generator.seed == SEED
        assert generator.path == trained_run / "generator.keras"
        assert isinstance(generator.config, TrainConfig)
        assert generator.config.latent_dim == LATENT_DIM


def test_load_generator_samples_the_runs_latent_distribution(tmp_path):
    build_generator(IMAGE_SHAPE, LATENT_DIM, 8).save(tmp_path / "g.keras")
    bare = sampling.load_generator(tmp_path / "g.keras")
    assert bare.latent_distribution == "normal"
    assert bare.dataset is None and bare.seed is None and bare.config is None
    files.write_json(
        tmp_path / "config.json", TrainConfig(latent_distribution="uniform").to_dict()
    )
    uniform = sampling.load_generator(tmp_path / "g.keras")
    assert uniform.latent_distribution == "uniform"
    latents = sampling.sample(uniform, 50, seed=0).latents
    assert latents.min() >= -1.0 and latents.max() <= 1.0


def test_load_generator_names_an_unreadable_config(tmp_path):
    build_generator(IMAGE_SHAPE, LATENT_DIM, 8).save(tmp_path / "g.keras")
    (tmp_path / "config.json").write_text("{ half")
    with pytest.raises(rundir.RunDirError, match="config.json") as raised:
        sampling.load_generator(tmp_path / "g.keras")
    assert "\n" not in str(raised.value)


def test_load_generator_rejects_the_discriminator(trained_run):
    with pytest.raises(ValueError, match="is a discriminator"):
        sampling.load_generator(trained_run / "discriminator.keras")


@pytest.mark.parametrize(
    "name, content, error, match",
    [
        ("truncated.keras", "half", ValueError, "not a zip archive; truncated"),
        ("cut.keras", "cut", ValueError, "Cannot load .* as a Keras model"),
        ("notes.keras", b"not a model", ValueError, "not a zip archive"),
        ("model.weights.h5", b"\x89HDF", ValueError, "weights only"),
        ("model.txt", b"text", ValueError, "not a .keras file"),
        ("missing.keras", None, FileNotFoundError, "No such run directory"),
        ("empty_run", "dir", FileNotFoundError, "No generator.keras in"),
        # A run in its first epoch (a hostile pass: it was told to "pass a
        # run directory", which it is).
        ("young_run", "run", FileNotFoundError, "is a run with no generator.keras"),
    ],
)
def test_load_generator_gives_one_line_errors(
    trained_run, tmp_path, name, content, error, match
):
    path = tmp_path / name
    data = (trained_run / "generator.keras").read_bytes()
    if content == "half":
        path.write_bytes(data[: len(data) // 2])
    elif content == "cut":
        # A whole zip whose weights are cut short: the archive opens, its
        # model.weights.h5 does not.
        import zipfile

        with zipfile.ZipFile(trained_run / "generator.keras") as source:
            with zipfile.ZipFile(path, "w") as target:
                for item in source.infolist():
                    member = source.read(item.filename)
                    if item.filename.endswith(".h5"):
                        member = member[: len(member) // 3]
                    target.writestr(item, member)
    elif content == "dir":
        path.mkdir()
    elif content == "run":
        path.mkdir()
        (path / "config.json").write_bytes((trained_run / "config.json").read_bytes())
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match=match) as raised:
        sampling.load_generator(path)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "fault, message",
    [
        ("nan", r"weights that are not finite \(NaN or inf, in .*block1_deconv"),
        ("variance", "makes images that are not finite"),
    ],
)
def test_load_generator_refuses_a_generator_that_is_not_finite(
    tmp_path, fault, message
):
    # A diverged run saves such weights; its images would be junk, its FID a number.
    path = save_generator(tmp_path, fault=fault)
    with pytest.raises(ValueError, match=message) as raised:
        sampling.load_generator(path)
    assert "earlier generator" in str(raised.value) and "\n" not in str(raised.value)


def test_load_generator_keeps_keras_safe_mode_on(tmp_path):
    import keras

    inputs = keras.Input((LATENT_DIM,))
    images = keras.layers.Reshape((2, 2, 2))(keras.layers.Dense(8)(inputs))
    outputs = keras.layers.Lambda(lambda x: x[..., :1] * 0.0)(images)
    keras.Model(inputs, outputs).save(tmp_path / "lambda.keras")
    # Loading would run the pickled lambda's code: refused, in one line.
    with pytest.raises(ValueError, match="Cannot load") as raised:
        sampling.load_generator(tmp_path / "lambda.keras")
    assert "\n" not in str(raised.value)


def test_sample_is_reproducible_by_seed(generator):
    first = sampling.sample(generator, 6, seed=3)
    again = sampling.sample(generator, 6, seed=3)
    other = sampling.sample(generator, 6, seed=4)
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
        latent_space.sample_latents(2, LATENT_DIM, 3), first.latents[:2]
    )


def test_generate_does_not_depend_on_the_forward_batch(generator):
    latents = latent_space.sample_latents(7, LATENT_DIM, seed=0)
    np.testing.assert_allclose(
        sampling.generate(generator, latents, forward_batch=3),
        sampling.generate(generator, latents, forward_batch=64),
        atol=1e-5,
    )
    with pytest.raises(ValueError, match="takes 8-dimensional latents"):
        sampling.generate(generator, np.zeros((2, 5)))


def test_a_bare_keras_generator_is_sampled_with_normal_latents():
    model = build_generator(IMAGE_SHAPE, LATENT_DIM, 8)
    samples = sampling.sample(model, 3, seed=0)
    assert samples.images.shape == (3, *IMAGE_SHAPE)
    assert sampling.as_generator(model).latent_distribution == "normal"


@pytest.mark.parametrize("method", ["slerp", "linear"])
def test_interpolation_endpoints_are_the_two_source_images(generator, method):
    source = sampling.sample(generator, 4, seed=1)
    single = sampling.interpolate(
        generator, source.latents[0], source.latents[1], 6, method
    )
    assert single.images.shape == (6, *IMAGE_SHAPE)
    np.testing.assert_array_equal(single.latents[0], source.latents[0])
    np.testing.assert_array_equal(single.latents[-1], source.latents[1])
    np.testing.assert_allclose(single.images[0], source.images[0], atol=1e-5)
    np.testing.assert_allclose(single.images[-1], source.images[1], atol=1e-5)
    pairs = sampling.interpolate(
        generator, source.latents[:2], source.latents[2:], 5, method
    )
    assert pairs.images.shape == (2, 5, *IMAGE_SHAPE)
    np.testing.assert_allclose(pairs.images[:, 0], source.images[:2], atol=1e-5)
    np.testing.assert_allclose(pairs.images[:, -1], source.images[2:], atol=1e-5)


def test_walks_are_smooth(generator):
    keyframes = latent_space.sample_latents(3, LATENT_DIM, seed=5)
    images = sampling.walk(generator, keyframes, steps=12, loop=True).images
    for segment in images:
        jumps = np.abs(np.diff(segment, axis=0)).mean(axis=(1, 2, 3))
        span = np.abs(segment[-1] - segment[0]).mean()
        # Each step moves a small part of the way, never most of it.
        assert jumps.max() < 0.4 * span
        assert jumps.sum() < 2.0 * span


def test_the_public_api_is_importable_from_the_package(generator):
    from dcgan_tf import (  # noqa: F401
        DCGAN,
        Generator,
        Samples,
        TrainConfig,
        build_discriminator,
        build_generator,
        interpolate,
        load_generator,
        sample,
        slerp,
        walk,
    )

    assert load_generator is sampling.load_generator
    assert slerp is latent_space.slerp
    start, end = np.zeros((2, LATENT_DIM), "float32")
    end += 1.0
    path = interpolate(generator, start, end, steps=3, method="linear")
    assert path.images.shape == (3, *IMAGE_SHAPE)


def test_dcgan_tf_interpolate_stays_callable_after_the_command_is_imported(generator):
    import dcgan_tf
    import dcgan_tf.interpolate  # noqa: F401  (rebinds the package attribute)

    start, end = np.zeros((2, generator.latent_dim), "float32")
    end += 1.0
    path = dcgan_tf.interpolate(generator, start, end, steps=3, method="linear")
    direct = sampling.interpolate(generator, start, end, steps=3, method="linear")
    np.testing.assert_array_equal(path.images, direct.images)
    from dcgan_tf import interpolate

    assert callable(interpolate)


def overflowing_generator(folder, scale: float, first_only: bool = False):
    """A saved generator with finite weights whose first layer overflows
    float32 away from z = 0: its `project` kernel is `scale` everywhere, or
    (`first_only`) only on the first latent, so that the latents of the
    loader's check pass and a far one (z_0 = 1000) does not."""
    import keras

    path = save_generator(folder)
    model = keras.models.load_model(path)
    kernel = model.get_layer("project").kernel
    value = np.zeros(kernel.shape, np.float32)
    value[: 1 if first_only else None] = scale
    kernel.assign(value)
    model.save(path)
    return path


def test_load_generator_tries_normal_latents_not_only_zero(tmp_path):
    # The case: finite at z = 0, NaN for normal z; generate and
    # explore returned junk with exit code 0.
    path = overflowing_generator(tmp_path, 3e38)
    with pytest.raises(ValueError, match="makes images that are not finite") as error:
        sampling.load_generator(path)
    assert "\n" not in str(error.value)


def test_images_that_are_not_finite_are_refused_before_anyone_uses_them(tmp_path):
    generator = sampling.load_generator(overflowing_generator(tmp_path, 1e37, True))
    latents = np.zeros((3, LATENT_DIM), np.float32)
    assert np.isfinite(sampling.generate(generator, latents)).all()
    latents[2, 0] = 1000.0  # finite, far out: the first layer overflows
    with pytest.raises(ValueError, match="made 1 of 3 images that are not finite") as e:
        sampling.generate(generator, latents)
    assert "first at index 2" in str(e.value) and "\n" not in str(e.value)


def keras_archive(path, members: dict) -> None:
    """Writes a zip archive of `members` (name: bytes, or a count of zeros
    streamed in, compressed: a zip bomb)."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            if isinstance(content, int):
                with archive.open(name, "w", force_zip64=True) as member:
                    block = bytes(1 << 20)
                    for _ in range(content >> 20):
                        member.write(block)
            else:
                archive.writestr(name, content)


def test_a_zip_bomb_is_refused_before_keras_opens_it(
    trained_run, tmp_path, monkeypatch
):
    import zipfile

    import keras

    # The case: a 400 KB .keras of 1.5 GB of zeros took 1.5 GB and 19 s
    # before its one line. Here 256 MiB of weights, from about 250 KB.
    with zipfile.ZipFile(trained_run / "generator.keras") as source:
        config = source.read("config.json")
        metadata = source.read("metadata.json")
    bomb = tmp_path / "bomb.keras"
    members = {"metadata.json": metadata, "config.json": config}
    keras_archive(bomb, {**members, "model.weights.h5": 256 << 20})
    assert bomb.stat().st_size < 1 << 20
    monkeypatch.setattr(keras.models, "load_model", pytest.fail)  # never opened
    with pytest.raises(ValueError, match=r"would unpack to 256 MiB .*zip bomb") as e:
        sampling.load_generator(bomb)
    assert "\n" not in str(e.value)
    # A zip that is no Keras model says so, without asking Keras.
    keras_archive(tmp_path / "photos.keras", {"photo.jpg": b"\xff\xd8"})
    with pytest.raises(ValueError, match="lacks config.json, metadata.json"):
        sampling.load_generator(tmp_path / "photos.keras")
