"""`python -m dcgan_tf.train_classifier` writes loadable weights and records how
they were made beside them, and refuses bad input in one line (exit code 2)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dcgan_tf import train_classifier
from dcgan_tf.quality.classifiers import RECORD_FILE, load_classifier

FASHION = Path(__file__).parent / "data" / "fashion-mnist"
PROG = "python -m dcgan_tf.train_classifier"


def test_training_writes_weights_and_a_record_beside_them(tmp_path, capsys):
    out = tmp_path / "weights" / "fashion_mnist_classifier.weights.h5"
    record = out.parent / RECORD_FILE
    out.parent.mkdir()
    record.write_text(json.dumps({"cifar10": {"test_accuracy": 0.8}}))
    argv = ["--dataset", "fashion_mnist", "--data-dir", str(FASHION)]
    argv += ["--epochs", "1", "--batch-size", "64", "--out", str(out)]
    train_classifier.main(argv)
    load_classifier("fashion_mnist", out)  # the shipped classifiers' format
    records = json.loads(record.read_text())
    assert records["cifar10"] == {"test_accuracy": 0.8}  # the others are kept
    entry = records["fashion_mnist"]
    assert entry["weights"] == out.name and entry["epochs"] == 1
    assert 0 <= entry["test_accuracy"] <= 1 and entry["batch_size"] == 64
    assert entry["command"] == f"{PROG} {' '.join(argv)}"
    assert f"wrote {out} and {record}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--out", "OUT.h5"], "--out must end in .weights.h5"),
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--data-dir", "EMPTY"], "Fashion-MNIST is not on this machine"),
        (["--record", "{broken"], "Cannot read"),
        (["--out", "FILE/x.weights.h5"], "is a file, not a folder"),
    ],
)
def test_bad_input_exits_2_with_a_one_line_error(
    tmp_path, capsys, isolated_data, args, message
):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("not a folder")
    out = tmp_path / "c.weights.h5"
    argv = ["--dataset", "fashion_mnist", "--data-dir", str(FASHION)]
    if "--record" in args:
        (tmp_path / RECORD_FILE).write_text(args[1])
        args = []
    paths = {
        "OUT.h5": tmp_path / "c.h5",
        "EMPTY": tmp_path / "empty",
        "FILE/x.weights.h5": tmp_path / "file" / "x.weights.h5",
    }
    argv += [str(paths.get(arg, arg)) for arg in args]
    argv += ["--out", str(out)] if "--out" not in argv else []
    with pytest.raises(SystemExit) as raised:
        train_classifier.main(argv)
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{PROG}: error: ") and message in errors[0]
    assert not out.exists()


def test_the_commands_import_no_tensorflow_before_their_checks():
    # What makes --help fast and lets cli.quiet_tensorflow come first.
    code = (
        "import sys\n"
        "import dcgan_tf.evaluate, dcgan_tf.neighbours, dcgan_tf.train_classifier\n"
        "print(sorted({'tensorflow', 'keras'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--out", "RUN/c.weights.h5"], "into the run directory"),
        (["--out", "DATA/c.weights.h5"], "inside the --data-dir"),
        # The record beside --out would be the run's file too.
        (["--out", "RUN/weights/c.weights.h5"], "into the run directory"),
        (["--out", "OUT", "--seed", "-1"], "--seed: must be 0 or more"),
    ],
)
def test_nothing_is_written_into_a_run_or_the_data_and_before_any_work(
    small_run, tmp_path, monkeypatch, capsys, args, message
):
    from dcgan_tf.quality import classifiers

    monkeypatch.setattr(classifiers, "train_classifier", pytest.fail)
    paths = {
        "RUN": str(small_run),
        "DATA": str(FASHION),
        "OUT": str(tmp_path / "c.weights.h5"),
    }
    argv = ["--dataset", "fashion_mnist", "--data-dir", str(FASHION)]
    for arg in args:
        for key, value in paths.items():
            arg = arg.replace(key, value)
        argv.append(arg)
    before = sorted(small_run.rglob("*")), sorted(FASHION.iterdir())
    with pytest.raises(SystemExit) as raised:
        train_classifier.main(argv)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err
    assert (sorted(small_run.rglob("*")), sorted(FASHION.iterdir())) == before
