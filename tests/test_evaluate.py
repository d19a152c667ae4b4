"""`python -m dcgan_tf.evaluate` prints and writes what it measured, and refuses
bad input in one line (exit code 2, no traceback)."""

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import save_generator

from dcgan_tf import evaluate, rundir
from dcgan_tf.config import TrainConfig
from dcgan_tf.model.networks import build_generator
from dcgan_tf.system import files

FASHION = Path(__file__).parent / "data" / "fashion-mnist"
PROG = "python -m dcgan_tf.evaluate"


def one_error_line(capsys) -> str:
    """The only line on stderr, which must say `PROG: error: ...`."""
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{PROG}: error: ")
    return errors[0]


def test_evaluate_writes_json_for_a_run(tmp_path, capsys):
    run = tmp_path / "00000-fashion_mnist"
    keras.utils.set_random_seed(0)
    files.save_model(
        build_generator((28, 28, 1), latent_dim=8, filters=8),
        run / rundir.GENERATOR,
    )
    config = TrainConfig(latent_distribution="uniform", latent_dim=8)
    rundir.RunDir(run).write_config(config)
    out = tmp_path / "results" / "out.json"
    argv = [str(run), "--data-dir", str(FASHION), "--num-samples", "50"]
    evaluate.main(argv + ["--json", str(out)])
    record = json.loads(out.read_text())
    assert set(record["metrics"]) == {
        "fid",
        "kid",
        "kid_std",
        "is",
        "is_std",
        "is_real",
        "precision",
        "recall",
    }
    # Precision and recall are on by default, shares of each set.
    assert 0 <= record["metrics"]["precision"] <= 1
    assert 0 <= record["metrics"]["recall"] <= 1
    assert record["num_samples"] == 50 and record["real_split"] == "test"
    assert record["features"] == "classifier-fashion_mnist"
    assert record["latent_distribution"] == "uniform"
    assert record["command"] == f"{PROG} {' '.join(argv)} --json {out}"
    printed = capsys.readouterr().out
    assert "KID" in printed and f"wrote {out}" in printed
    assert "precision" in printed and "recall" in printed


def test_artifacts_measure_the_periodic_texture_too(tmp_path, capsys):
    out = tmp_path / "artifacts.json"
    evaluate.main(
        ["--compare-real", "train", "--dataset", "fashion_mnist", "--data-dir"]
        + [str(FASHION), "--metrics", "artifacts", "--num-samples", "64"]
        + ["--json", str(out)]
    )
    record = json.loads(out.read_text())
    assert set(record["metrics"]) == {"artifacts", "periodic"}
    assert record["features"] is None  # the image measures need no network
    # Real images against real ones: near the floor of both ratios.
    assert 0.5 < record["metrics"]["artifacts"] < 2
    assert 0.5 < record["metrics"]["periodic"] < 2
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("artifacts ") for line in lines)
    assert any(line.startswith("periodic ") for line in lines)


def test_memorisation_tells_copies_from_held_out_images(tmp_path, capsys):
    # The real training split "generates" copies of the training images; the
    # test split is held out: ratio 0 with every sample a copy, against 1.
    records = {}
    for split in ("train", "test"):
        out = tmp_path / f"{split}.json"
        evaluate.main(
            ["--compare-real", split, "--dataset", "fashion_mnist", "--data-dir"]
            + [str(FASHION), "--metrics", "kid", "--num-samples", "64"]
            + ["--memorisation", "--json", str(out)]
        )
        records[split] = json.loads(out.read_text())
    copied, held_out = records["train"], records["test"]
    assert copied["metrics"]["memorisation"] == 0
    assert copied["metrics"]["memorisation_copies"] == 1
    assert held_out["metrics"]["memorisation"] == pytest.approx(1)
    assert held_out["metrics"]["memorisation_copies"] < 0.2
    assert held_out["memorisation"]["heldout"] == "test split"
    assert held_out["memorisation"]["num_train"] == 256
    assert "memorisation" in capsys.readouterr().out


def test_memorisation_is_off_by_default(tmp_path):
    out = tmp_path / "plain.json"
    evaluate.main(
        ["--compare-real", "test", "--dataset", "fashion_mnist", "--data-dir"]
        + [str(FASHION), "--metrics", "kid", "--num-samples", "20"]
        + ["--json", str(out)]
    )
    record = json.loads(out.read_text())
    assert "memorisation" not in record and "memorisation" not in record["metrics"]


def test_memorisation_of_a_folder_holds_each_image_out_of_the_others(tmp_path):
    # A folder is trained on whole: no image of it is held out, so each
    # training image is measured against the others (leave-one-out).
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(20):
        pixels = rng.integers(0, 256, (64, 64, 3), np.uint8)
        Image.fromarray(pixels).save(folder / f"{index:02d}.png")
    out = tmp_path / "folder.json"
    evaluate.main(
        ["--compare-real", "train", "--dataset", "folder", "--data-dir"]
        + [str(folder), "--metrics", "periodic", "--num-samples", "20"]
        + ["--memorisation", "--json", str(out)]
    )
    record = json.loads(out.read_text())
    check = record["memorisation"]
    assert check["heldout"] == "leave-one-out"
    assert check["num_heldout"] == check["num_train"] == 20
    assert check["heldout_median"] > 0.3  # noise images: far from each other
    assert record["metrics"]["memorisation"] == 0  # the folder's own images
    assert set(record["metrics"]) == {"periodic", "memorisation", "memorisation_copies"}


def test_evaluate_measures_the_real_floor(tmp_path):
    out = tmp_path / "floor.json"
    evaluate.main(
        ["--compare-real", "train", "--dataset", "fashion_mnist", "--data-dir"]
        + [str(FASHION), "--metrics", "kid", "--json", str(out)]
    )
    record = json.loads(out.read_text())
    assert record["source"] == "real train split"
    assert set(record["metrics"]) == {"kid", "kid_std"}


def truncated(trained_run, folder):
    data = (trained_run / "generator.keras").read_bytes()
    path = folder / "truncated.keras"
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize(
    "argv, message",
    [
        (["MISSING"], "No such run directory or .keras file"),
        (["TRUNCATED"], "not a zip archive; truncated?"),
        (["DISCRIMINATOR"], "is a discriminator"),
        ([], "--compare-real"),
        (["--compare-real", "train"], "--dataset is needed"),
        (["--compare-real", "train", "--dataset", "biked"], "inception"),
        (["--compare-real", "train", "--num-samples", "1"], "at least 2"),
        (["RUN", "--forward-batch", "0"], "--forward-batch must be at least 1"),
        (["RUN", "--json", "FILE/out.json"], "is a file, not a folder"),
        (["RUN", "--json", "out.txt"], "--json must end in .json"),
        (["RUN", "--num-samples", "3"], "precision and recall (pr) need more"),
        (["RUN", "--metrics", "pr", "--num-real", "3"], "raise --num-real"),
    ],
)
def test_evaluate_turns_bad_input_into_one_line(
    trained_run, tmp_path, capsys, argv, message
):
    (tmp_path / "file").write_text("not a folder")
    paths = {
        "RUN": trained_run,
        "MISSING": tmp_path / "nothing",
        "TRUNCATED": truncated(trained_run, tmp_path),
        "DISCRIMINATOR": trained_run / "discriminator.keras",
        "FILE/out.json": tmp_path / "file" / "out.json",
    }
    with pytest.raises(SystemExit) as raised:
        evaluate.main([str(paths.get(arg, arg)) for arg in argv])
    assert raised.value.code == 2
    assert message in one_error_line(capsys)


def test_a_failed_json_write_is_one_line_after_the_table(tmp_path, monkeypatch, capsys):
    def full_disk(source, target):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full_disk)
    out = tmp_path / "floor.json"
    with pytest.raises(SystemExit) as raised:
        evaluate.main(
            ["--compare-real", "train", "--dataset", "fashion_mnist", "--data-dir"]
            + [str(FASHION), "--metrics", "fid", "--json", str(out)]
        )
    assert raised.value.code == 2
    printed = capsys.readouterr()
    assert "FID" in printed.out  # the numbers are not lost
    errors = printed.err.splitlines()
    assert len(errors) == 1
    assert errors[0].startswith(f"{PROG}: error: Cannot write {out}: the disk is full")
    assert list(tmp_path.iterdir()) == []  # no half-written or temporary file


def test_evaluate_answers_help_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "dcgan_tf.evaluate", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--num-samples" in result.stdout and "--forward-batch" in result.stdout
    assert result.stderr == ""


def test_the_json_never_replaces_a_runs_configuration(small_run, tmp_path):
    # The case: the metrics replaced config.json, which later
    # commands read back as a default configuration.
    config = small_run / "config.json"
    before = config.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "dcgan_tf.evaluate", str(small_run)]
        + ["--num-samples", "20", "--json", str(config)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{PROG}: error: --json {config} would be written into the run directory "
        f"{small_run} (it holds config.json and latents.npy); commands never write "
        "into a run: "
        "choose another --json outside it."
    ]
    assert config.read_bytes() == before


@pytest.mark.parametrize(
    "argv, message",
    [
        (["RUN", "--json", "RUN/metrics.json"], "into the run directory"),
        (["RUN", "--json", "DATA/fid.json"], "inside the run's data folder"),
        (
            ["--compare-real", "train", "--dataset", "fashion_mnist", "--data-dir"]
            + ["DATA", "--json", "DATA/fid.json"],
            "inside the --data-dir",
        ),
        (["RUN", "--seed", "-1"], "--seed: must be 0 or more"),
        (["RUN", "--num-samples", "3"], "leave pr out of --metrics"),
    ],
)
def test_evaluate_refuses_before_any_work(
    small_run, tmp_path, monkeypatch, capsys, argv, message
):
    from dcgan_tf.quality import evaluation
    from dcgan_tf.sampling import drawing as sampling

    monkeypatch.setattr(sampling, "load_generator", pytest.fail)
    monkeypatch.setattr(evaluation, "evaluate", pytest.fail)
    argv = [
        a.replace("RUN", str(small_run)).replace("DATA", str(FASHION)) for a in argv
    ]
    with pytest.raises(SystemExit) as raised:
        evaluate.main(argv)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in small_run.iterdir()) == [
        "config.json",
        "generator.keras",
        "latents.npy",
    ]


def test_a_generator_that_is_not_finite_is_refused(tmp_path, capsys):
    # It used to be measured: FID 179, exit 0.
    path = save_generator(tmp_path / "diverged", fault="nan")
    with pytest.raises(SystemExit) as raised:
        evaluate.main(
            [str(path), "--dataset", "fashion_mnist", "--data-dir", str(FASHION)]
            + ["--num-samples", "20", "--metrics", "fid"]
        )
    assert raised.value.code == 2
    assert "not finite (NaN or inf" in one_error_line(capsys)


def test_the_shapes_named_are_the_real_ones(tmp_path, capsys):
    # A 32x32x3 generator against fashion_mnist was said to have got (32, 32, 1).
    path = save_generator(tmp_path / "colour", image_shape=(32, 32, 3))
    with pytest.raises(SystemExit) as raised:
        evaluate.main(
            [str(path), "--dataset", "fashion_mnist", "--data-dir", str(FASHION)]
            + ["--num-samples", "20", "--metrics", "fid"]
        )
    assert raised.value.code == 2
    assert (
        "The generator makes 32x32x3 images but fashion_mnist has 28x28x1 images"
        in one_error_line(capsys)
    )


def test_running_out_of_memory_advises_this_commands_flags(
    small_run, monkeypatch, capsys
):
    from dcgan_tf.quality import evaluation

    def too_big(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(evaluation, "evaluate", too_big)
    with pytest.raises(SystemExit) as raised:
        evaluate.main([str(small_run), "--num-samples", "100000000"])
    assert raised.value.code == 2
    line = one_error_line(capsys)
    assert "out of memory" in line and "--num-samples" in line
    assert "--batch-size" not in line


def test_kid_is_printed_with_its_scale():
    # A new user saw "KID 1.77751 ± 0.09262" and could not tell x100 from x1000.
    record = {
        "features": "classifier-fashion_mnist",
        "dataset": "fashion_mnist",
        "real_split": "test",
        "num_real": 10,
        "source": "RUN",
        "num_samples": 10,
        "metrics": {"kid": 1.77751, "kid_std": 0.09262},
    }
    line = next(x for x in evaluate.format_table(record).splitlines() if "KID" in x)
    assert line.startswith("KID      1.77751 ± 0.09262  (unscaled")
    assert "x 1000" in line
