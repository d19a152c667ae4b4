"""Conditional DCGAN: ask for a class, get that class.

Tiny networks (16x16 or the 28x28 Fashion-MNIST sample, 8 filters) and a few
steps: these check the plumbing a user relies on (classes reach both
networks, travel with the saved generator, resume exactly, fail in one
line), not that the classes are learnt, which the benchmark measures.
"""

import json

import keras
import numpy as np
import pytest
from conftest import TINY
from keras import ops
from PIL import Image

from dcgan_tf import sampling
from dcgan_tf.callbacks import restore
from dcgan_tf.data import CLASS_NAMES
from dcgan_tf.generate import main as generate_main
from dcgan_tf.interpolate import main as interpolate_main
from dcgan_tf.model import DCGAN, build_dcgan
from dcgan_tf.model.networks import build_discriminator, build_generator
from dcgan_tf.rundir import RunDir
from dcgan_tf.train import main as train_main

SHAPE = (16, 16, 1)
NAMES = ("T-shirt/top", "trouser", "bag")


def _one_hot(labels):
    return np.eye(len(NAMES), dtype="float32")[labels]


def _networks():
    keras.utils.set_random_seed(0)
    generator = build_generator(SHAPE, 8, 8, class_names=NAMES)
    discriminator = build_discriminator(SHAPE, 8, num_classes=len(NAMES))
    return generator, discriminator


def test_both_networks_take_the_class_and_it_changes_their_output():
    generator, discriminator = _networks()
    latents = np.random.default_rng(0).standard_normal((2, 8)).astype("float32")
    latents = np.repeat(latents[:1], 2, axis=0)  # one latent, two classes
    images = ops.convert_to_numpy(generator([latents, _one_hot([0, 2])]))
    assert images.shape == (2, *SHAPE)
    assert np.abs(images[0] - images[1]).max() > 1e-4
    same = np.repeat(images[:1], 2, axis=0)
    logits = ops.convert_to_numpy(discriminator([same, _one_hot([0, 2])]))
    assert logits.shape == (2, 1) and logits[0, 0] != logits[1, 0]


def test_conditional_networks_keep_the_unconditional_layer_names():
    plain = build_generator(SHAPE, 8, 8)
    generator, discriminator = _networks()
    assert {x.name for x in plain.layers} < {x.name for x in generator.layers}
    plain_d = build_discriminator(SHAPE, 8)
    assert {x.name for x in plain_d.layers} < {x.name for x in discriminator.layers}


def test_the_saved_generator_alone_knows_its_classes(tmp_path):
    generator, _ = _networks()
    generator.save(tmp_path / "g.keras")
    # safe_mode stays on: the class names are a registered layer's config.
    loaded = sampling.load_generator(tmp_path / "g.keras")
    assert loaded.class_names == NAMES
    a = sampling.sample(generator, 4, seed=3, labels="t-shirt/top").images
    b = sampling.sample(loaded, 4, seed=3, labels=0).images
    np.testing.assert_allclose(a, b, atol=1e-6)
    bags = sampling.sample(loaded, 4, seed=3, labels="bag").images
    assert np.abs(bags - b).max() > 1e-4


def test_unknown_classes_and_unconditional_generators_are_refused():
    generator, _ = _networks()
    with pytest.raises(ValueError, match="Unknown class 'dog'.*0 T-shirt/top"):
        sampling.sample(generator, 2, seed=0, labels="dog")
    with pytest.raises(ValueError, match="Unknown class 3"):
        sampling.sample(generator, 2, seed=0, labels=3)
    with pytest.raises(ValueError, match="unconditional"):
        sampling.sample(build_generator(SHAPE, 8, 8), 2, seed=0, labels="bag")


def test_class_interpolation_keeps_the_latent_and_ends_at_both_classes():
    generator, _ = _networks()
    latent = np.random.default_rng(1).standard_normal(8).astype("float32")
    path = sampling.interpolate_classes(generator, latent, "trouser", "bag", steps=4)
    assert path.images.shape == (4, *SHAPE)
    assert (path.latents == latent).all()
    ends = sampling.generate(generator, np.stack([latent, latent]), labels=[1, 2])
    np.testing.assert_allclose(path.images[[0, -1]], ends, atol=1e-6)


def test_fake_labels_follow_the_class_frequencies():
    generator, discriminator = _networks()
    model = DCGAN(generator, discriminator, seed=0, class_frequencies=[0, 3, 1])
    labels = ops.convert_to_numpy(model.sample_classes(400)).argmax(axis=-1)
    counts = np.bincount(labels, minlength=3)
    assert counts[0] == 0 and 250 < counts[1] < 350


def _train(run_dir, fashion_dir, *args):
    train_main(
        [
            "--conditional",
            "--data-dir",
            fashion_dir,
            "--steps-per-epoch",
            "3",
            "--seed",
            "7",
            "--quality-every",
            "0",
            "--image-size",
            "16",
            "--run-dir",
            str(run_dir),
            *TINY,
            *args,
        ]
    )


@pytest.fixture(scope="module")
def conditional_runs(tmp_path_factory):
    """A 2-epoch conditional run and one of 1 epoch resumed to 2."""
    from conftest import DATA

    fashion_dir = str(DATA / "fashion-mnist")
    root = tmp_path_factory.mktemp("conditional")
    straight, resumed = root / "straight", root / "resumed"
    _train(straight, fashion_dir, "--epochs", "2")
    _train(resumed, fashion_dir, "--epochs", "1")
    train_main(["--resume", str(resumed), "--epochs", "2"])
    return straight, resumed


def test_a_conditional_run_resumes_exactly(conditional_runs):
    straight, resumed = conditional_runs
    config = RunDir(straight).read_config()
    assert config.class_names == list(CLASS_NAMES["fashion_mnist"])
    a, b = build_dcgan(config), build_dcgan(config)
    restore(a, RunDir(straight).latest_checkpoint())
    restore(b, RunDir(resumed).latest_checkpoint())
    for x, y in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)


def test_a_conditional_run_draws_one_row_per_class(conditional_runs):
    straight, _ = conditional_runs
    recorded = json.loads((straight / "config.json").read_text())
    assert recorded["class_names"][0] == "T-shirt/top"
    grid = np.asarray(Image.open(straight / "samples" / "epoch_0002.png"))
    # 16x16 cells enlarged 4x, 2 px borders: 10 class rows of the first 4
    # of the 16 grid latents.
    assert grid.shape[:2] == (10 * 66 + 2, 4 * 66 + 2)


def test_generate_and_interpolate_by_class(conditional_runs, tmp_path):
    straight, _ = conditional_runs
    out = tmp_path / "classes.png"
    generate_main([str(straight), "--classes", "all", "--num", "3", "--out", str(out)])
    saved = np.load(out.with_suffix(".npz"))
    assert saved["labels"].tolist() == [c for c in range(10) for _ in range(3)]
    latents = saved["latents"].reshape(10, 3, -1)
    assert (latents == latents[:1]).all()  # the same latent down each column
    picked = tmp_path / "picked.png"
    generate_main(
        [str(straight), "--from", str(out.with_suffix(".npz"))]
        + ["--indices", "4", "29", "--out", str(picked)]
    )
    assert np.load(picked.with_suffix(".npz"))["labels"].tolist() == [1, 9]
    walk = tmp_path / "walk.png"
    interpolate_main(
        [str(straight), "--classes", "sandal", "sneaker"]
        + ["--pairs", "2", "--steps", "3", "--out", str(walk)]
    )
    assert walk.exists()
    # The latents file says which class input made each image: sandal (5),
    # halfway, sneaker (7), for each of the two rows.
    with np.load(walk.with_suffix(".npz")) as saved:
        np.testing.assert_allclose(
            saved["classes"][:3, [5, 7]], [[1, 0], [0.5, 0.5], [0, 1]]
        )
        assert saved["labels"][[0, 2, 3, 5]].tolist() == [5, 7, 5, 7]
    # Walking from it keeps the class of the first image picked.
    again = tmp_path / "again.png"
    interpolate_main(
        [str(straight), "--from", str(walk.with_suffix(".npz")), "--indices", "2", "5"]
        + ["--steps", "3", "--out", str(again)]
    )
    with np.load(again.with_suffix(".npz")) as saved:
        assert saved["labels"].tolist() == [7, 7, 7]


def test_asking_for_a_class_is_a_one_line_error(conditional_runs, tmp_path, capsys):
    straight, _ = conditional_runs
    unconditional = tmp_path / "unconditional.keras"
    build_generator(SHAPE, 8, 8).save(unconditional)
    for generator, flag in ((straight, "dog"), (unconditional, "sneaker")):
        with pytest.raises(SystemExit) as info:
            generate_main(
                [str(generator), "--class", flag, "--out", str(tmp_path / "x.png")]
            )
        assert info.value.code == 2
        lines = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
        assert len(lines) == 1 and "error: " in lines[0]


def test_class_consistency_and_fid_per_class_are_counted_per_class():
    from dcgan_tf.quality.classes import measure_classes
    from dcgan_tf.quality.features import Features

    def features(values, guesses):
        result = Features()
        result.update(np.asarray(values, float), np.eye(3)[guesses])
        return result

    rng = np.random.default_rng(0)
    real = features(rng.normal(size=(6, 2)), [0, 0, 1, 1, 2, 0])
    fake = features(rng.normal(size=(6, 2)), [0, 1, 1, 1, 2, 2])
    result = measure_classes(real, [0, 0, 1, 1, 2, 2], fake, [0, 0, 1, 1, 2, 2], NAMES)
    per_class = result["per_class"]
    assert [per_class[n]["consistency"] for n in NAMES] == [0.5, 1.0, 1.0]
    assert [per_class[n]["classifier_accuracy"] for n in NAMES] == [1.0, 1.0, 0.5]
    assert result["class_consistency"] == pytest.approx(5 / 6)
    assert result["class_consistency_min"] == 0.5
    assert all(per_class[n]["fid"] >= 0 for n in NAMES)


def test_evaluate_reports_class_consistency_of_a_conditional_generator(fashion_dir):
    from dcgan_tf.evaluate import format_table
    from dcgan_tf.quality.evaluation import evaluate

    model = build_generator((28, 28, 1), 8, 8, class_names=CLASS_NAMES["fashion_mnist"])
    record = evaluate(
        sampling.as_generator(model),
        dataset="fashion_mnist",
        data_dir=fashion_dir,
        num_samples=40,
        metrics=("fid",),
    )
    classes = record["classes"]
    assert list(classes["per_class"]) == list(CLASS_NAMES["fashion_mnist"])
    assert sum(e["num_samples"] for e in classes["per_class"].values()) == 40
    assert 0.0 <= classes["class_consistency"] <= 1.0
    assert "Sneaker" in format_table(record)


def test_class_stddev_is_the_spread_within_each_class_of_the_batch():
    from dcgan_tf.model.networks import ClassStddev

    features = np.array([[0, 0], [2, 4], [5, 1], [5, 1]], "float32")
    classes = _one_hot([0, 0, 1, 1])
    spread = ops.convert_to_numpy(ClassStddev()([features, classes]))
    # Class 0: population standard deviations 1 and 2; class 1: no spread.
    np.testing.assert_allclose(spread, [[1, 2], [1, 2], [0, 0], [0, 0]], atol=1e-3)
