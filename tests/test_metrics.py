import json
from pathlib import Path

import keras
import numpy as np
import pytest

from dcgan_tf import evaluate, metrics
from dcgan_tf.classifier import IMAGE_SHAPES, build_classifier
from dcgan_tf.data import load_images
from dcgan_tf.monitor import BEST_NAME, STATE_NAME, QualityMonitor
from dcgan_tf.networks import build_generator

DATA = Path(__file__).parent / "data"
DATA_DIRS = {"fashion_mnist": DATA / "fashion-mnist", "cifar10": DATA / "cifar10"}


def _real(dataset, split):
    return load_images(dataset, data_dir=DATA_DIRS[dataset], split=split)


# --- The maths ----------------------------------------------------------------


def test_frechet_distance_equals_the_closed_form_of_diagonal_gaussians():
    rng = np.random.default_rng(0)
    mean1, mean2 = rng.normal(size=6), rng.normal(size=6)
    var1, var2 = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    expected = np.sum((mean1 - mean2) ** 2) + np.sum(
        var1 + var2 - 2 * np.sqrt(var1 * var2)
    )
    distance = metrics.frechet_distance(mean1, np.diag(var1), mean2, np.diag(var2))
    assert distance == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_of_scaled_full_covariances():
    # C2 = a^2 C1 gives tr sqrt(C1 C2) = a tr C1, so d^2 = (1 - a)^2 tr C1.
    rng = np.random.default_rng(1)
    root = rng.normal(size=(5, 5))
    cov = root @ root.T
    mean = rng.normal(size=5)
    scaled = metrics.frechet_distance(mean, cov, mean, 9 * cov)
    assert scaled == pytest.approx(4 * np.trace(cov), rel=1e-9)
    assert metrics.frechet_distance(mean, cov, mean, cov) == pytest.approx(0, abs=1e-9)


def test_kid_is_unbiased_on_equal_distributions_and_positive_on_shifted_ones():
    rng = np.random.default_rng(2)
    equal = [
        metrics.kernel_distance(
            rng.normal(size=(100, 8)), rng.normal(size=(100, 8)), 5, seed=i
        )[0]
        for i in range(40)
    ]
    standard_error = np.std(equal) / np.sqrt(len(equal))
    assert abs(np.mean(equal)) < 3 * standard_error
    assert min(equal) < 0  # unbiased: single estimates fall on both sides of 0
    shifted, spread = metrics.kernel_distance(
        rng.normal(size=(100, 8)), rng.normal(0.5, 1, size=(100, 8)), 20
    )
    assert shifted > 10 * standard_error and spread >= 0


def test_inception_score_equals_hand_computed_values():
    uniform = np.full((40, 10), 0.1)
    assert metrics.inception_score(uniform)[0] == pytest.approx(1.0)
    one_hot = np.eye(4)[np.arange(40) % 4]
    assert metrics.inception_score(one_hot, splits=1) == pytest.approx((4.0, 0.0))
    # Two images, p = (0.9, 0.1) and (0.1, 0.9): marginal (0.5, 0.5), so
    # KL = 0.9 log 1.8 + 0.1 log 0.2 for each.
    table = np.array([[0.9, 0.1], [0.1, 0.9]])
    expected = np.exp(0.9 * np.log(1.8) + 0.1 * np.log(0.2))
    assert metrics.inception_score(table, splits=1)[0] == pytest.approx(expected)


def test_running_statistics_in_batches_equal_one_pass():
    features = np.random.default_rng(3).normal(5.0, 2.0, size=(503, 16))
    stats = metrics.RunningStats()
    for start in range(0, len(features), 7):
        stats.update(features[start : start + 7])
    np.testing.assert_allclose(stats.mean, features.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(
        stats.covariance, np.cov(features, rowvar=False), atol=1e-11
    )


# --- Feature networks on real images ------------------------------------------


@pytest.fixture(scope="module", params=sorted(IMAGE_SHAPES))
def classifier_case(request):
    dataset = request.param
    return dataset, metrics.ClassifierFeatures(dataset), _real(dataset, "train")


def _blur(images):
    """A 5-tap binomial blur (sigma ~ 1 pixel) along both axes, in numpy."""
    kernel = np.array([1, 4, 6, 4, 1], np.float32) / 16
    out = images.astype(np.float32)
    for axis in (1, 2):
        padding = [(0, 0)] * 4
        padding[axis] = (2, 2)
        padded = np.pad(out, padding, mode="edge")
        size = out.shape[axis]
        out = sum(
            weight * np.take(padded, range(shift, shift + size), axis=axis)
            for shift, weight in enumerate(kernel)
        )
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def test_real_images_are_nearer_than_blurred_and_noise(classifier_case):
    dataset, features, train = classifier_case
    test = features.extract(_real(dataset, "test"))
    noise = np.random.default_rng(0).integers(0, 256, train.shape, dtype=np.uint8)
    scores = {
        name: metrics.compare(test, features.extract(images), ("fid", "kid"))
        for name, images in [
            ("train", train),
            ("blurred", _blur(train)),
            ("noise", noise),
        ]
    }
    for metric in ("fid", "kid"):
        values = [scores[name][metric] for name in ("train", "blurred", "noise")]
        assert values == sorted(values), (dataset, metric, values)


def test_features_in_batches_equal_one_pass(classifier_case):
    dataset, features, train = classifier_case
    images = train[:40]
    whole = features.extract(images, batch_size=len(images))
    batched = features.extract(iter([images[:13], images[13:]]), batch_size=5)
    assert batched.count == whole.count == 40
    np.testing.assert_allclose(batched.features, whole.features, rtol=1e-4, atol=1e-5)
    reference = features.extract(train[40:80])
    one, many = (metrics.compare(reference, f, seed=0) for f in (whole, batched))
    assert many == pytest.approx(one, rel=1e-4, abs=1e-6)
    probabilities = whole.probabilities
    assert probabilities.shape == (40, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_classifier_rejects_images_of_another_shape():
    features = metrics.ClassifierFeatures("fashion_mnist")
    with pytest.raises(ValueError, match=r"\(28, 28, 1\)"):
        features.extract(np.zeros((4, 32, 32, 3), np.uint8))


def test_classifier_without_weights_says_how_to_train_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m dcgan_tf.classifier"):
        metrics.ClassifierFeatures("cifar10", weights=tmp_path / "x.weights.h5")
    with pytest.raises(ValueError, match="inception"):
        metrics.feature_extractor("classifier", "biked")


def test_classifier_weights_round_trip(tmp_path):
    model = build_classifier((28, 28, 1))
    path = tmp_path / "tiny.weights.h5"
    model.save_weights(path)
    features = metrics.ClassifierFeatures("fashion_mnist", weights=path)
    images = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 1))
    expected = keras.Model(model.input, model.get_layer("features").output)(images)
    np.testing.assert_allclose(features(images)[0], expected, rtol=1e-5, atol=1e-6)


def test_inception_without_weights_fails_in_one_line(monkeypatch):
    def offline(**kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...\nx")

    monkeypatch.setattr(keras.applications, "InceptionV3", offline)
    with pytest.raises(metrics.FeatureNetworkError) as error:
        metrics.feature_extractor("inception")
    message = str(error.value)
    assert "\n" not in message and "--inception-weights PATH" in message
    assert metrics.INCEPTION_FILE in message


@pytest.mark.slow
def test_inception_features_of_gray_images_with_random_weights():
    # Random weights and 75x75 inputs (InceptionV3's minimum): the plumbing
    # of the real network (gray to RGB, resize, both outputs), offline.
    features = metrics.InceptionFeatures(weights=None, image_size=75)
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28, 1), np.uint8)
    result = features.extract(images, batch_size=2)
    assert result.features.shape == (5, 2048)
    np.testing.assert_allclose(result.probabilities.sum(axis=1), 1.0, rtol=1e-5)


# --- Generators, the command and the training callback -------------------------


def _generator(shape=(28, 28, 1)):
    keras.utils.set_random_seed(0)
    return build_generator(shape, latent_dim=8, filters=8)


def test_evaluate_generator_does_not_depend_on_the_batch_size():
    generator = _generator()
    one = np.concatenate(list(metrics.sample_images(generator, 10, seed=1)))
    many = np.concatenate(
        list(metrics.sample_images(generator, 10, seed=1, batch_size=3))
    )
    assert one.dtype == np.uint8 and one.shape == (10, 28, 28, 1)
    np.testing.assert_array_equal(one, many)


def test_evaluate_command_writes_json_for_a_run(tmp_path, capsys):
    run = tmp_path / "00000-fashion_mnist"
    run.mkdir()
    _generator().save(run / "generator.keras")
    config = {"dataset": "fashion_mnist", "latent_distribution": "uniform"}
    (run / "config.json").write_text(json.dumps(config))
    out = tmp_path / "out.json"
    argv = [str(run), "--data-dir", str(DATA_DIRS["fashion_mnist"])]
    evaluate.main(argv + ["--num-samples", "50", "--json", str(out)])
    record = json.loads(out.read_text())
    assert set(record["metrics"]) == {
        "fid",
        "kid",
        "kid_std",
        "is",
        "is_std",
        "is_real",
    }
    assert record["num_samples"] == 50 and record["real_split"] == "test"
    assert record["features"] == "classifier-fashion_mnist"
    assert record["latent_distribution"] == "uniform"
    assert "KID" in capsys.readouterr().out


def test_evaluate_command_measures_the_real_floor(tmp_path):
    out = tmp_path / "floor.json"
    evaluate.main(
        ["--compare-real", "train", "--dataset", "fashion_mnist", "--data-dir"]
        + [str(DATA_DIRS["fashion_mnist"]), "--metrics", "kid", "--json", str(out)]
    )
    record = json.loads(out.read_text())
    assert record["source"] == "real train split"
    assert set(record["metrics"]) == {"kid", "kid_std"}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["missing_run"], "does not exist"),
        ([], "--compare-real"),
        (["--compare-real", "train", "--dataset", "biked"], "inception"),
        (["--compare-real", "train", "--num-samples", "1"], "at least 2"),
    ],
)
def test_evaluate_command_turns_bad_input_into_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        evaluate.main(argv)
    assert exit_.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("python -m dcgan_tf.evaluate: error:") and message in error


class _TinyGAN(keras.Model):
    def __init__(self):
        super().__init__()
        self.generator = _generator()
        self.latent_distribution = "normal"


def _monitor(run_dir, **kwargs):
    monitor = QualityMonitor(
        _real("fashion_mnist", "train"),
        run_dir,
        dataset="fashion_mnist",
        every=2,
        num_samples=32,
        **kwargs,
    )
    monitor.set_model(_TinyGAN())
    monitor.set_params({"epochs": 10})
    return monitor


def test_monitor_logs_kid_and_keeps_the_best_generator(tmp_path):
    monitor = _monitor(tmp_path, metrics=("kid", "fid"))
    logs = {"d_loss": 1.0}
    monitor.on_epoch_end(0, logs)  # epoch 1: not a multiple of `every`
    assert "kid" not in logs and not (tmp_path / BEST_NAME).exists()
    monitor.on_epoch_end(1, logs)
    assert np.isfinite(logs["kid"]) and logs["fid"] > 0
    best = keras.models.load_model(tmp_path / BEST_NAME, compile=False)
    assert best.output_shape == (None, 28, 28, 1)
    state = json.loads((tmp_path / STATE_NAME).read_text())
    assert state["best_epoch"] == 2 and state["metric"] == "kid"


def test_monitor_warns_on_worsening_and_resumes_its_best(tmp_path, monkeypatch, capsys):
    values = iter([0.5, 0.2, 0.3, 0.4, 0.6, 0.1])
    monkeypatch.setattr(QualityMonitor, "evaluate", lambda self: {"kid": next(values)})
    monitor = _monitor(tmp_path, patience=3)
    for epoch in (1, 3, 5, 7):
        monitor.on_epoch_end(epoch, {})
    assert "worsened" not in capsys.readouterr().out
    monitor.on_epoch_end(9, {})  # 0.2 -> 0.3 -> 0.4 -> 0.6: three in a row
    assert "kid has worsened 3 evaluations in a row" in capsys.readouterr().out
    resumed = _monitor(tmp_path)
    assert resumed.best() == {"epoch": 4, "kid": 0.2}
    resumed.on_epoch_end(5, {})  # a resume at epoch 6 forgets epochs 6 to 10
    assert [h["epoch"] for h in resumed.history] == [2, 4, 6]
    assert resumed.best() == {"epoch": 6, "kid": 0.1}


def test_monitor_without_features_for_the_dataset_fails_before_training(tmp_path):
    monitor = QualityMonitor(
        np.zeros((4, 64, 64, 3), np.uint8), tmp_path, dataset="biked"
    )
    with pytest.raises(ValueError, match="inception"):
        monitor.on_train_begin()
