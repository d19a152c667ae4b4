"""The console is the project's: no TensorFlow start-up line, no TensorFlow early."""

import os
import subprocess
import sys
from pathlib import Path

from conftest import TINY

ROOT = Path(__file__).resolve().parent.parent
# What TensorFlow 2.21 prints on import and on first listing its devices.
START_UP = ("absl::InitializeLog", "oneDNN", "cuda drivers", "cuInit", "I0000", "E0000")


def run_python(code, level=None, cwd=None):
    env = dict(os.environ)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), env.get("PYTHONPATH")])
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


# docs/training.md's model snippet, shortened: the package imported first, then a
# network built and TensorFlow used directly (which lists the devices: cuInit).
USE = (
    "from dcgan_tf import build_generator\n"
    "import tensorflow as tf\n"
    "build_generator((28, 28, 1))\n"
    "print(float(tf.reduce_sum(tf.ones(3))))\n"
)


def test_python_use_shows_no_tensorflow_start_up_line_at_level_2():
    # Unset: tests/test_cli.py; 0 shows them (the user asked for everything).
    level = "2"
    result = run_python(USE, level)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3.0"
    shown = [
        line for line in result.stderr.splitlines() if any(s in line for s in START_UP)
    ]
    assert not shown, f"TF_CPP_MIN_LOG_LEVEL={level}: {shown}"


def test_a_data_error_comes_before_tensorflow_is_imported(tmp_path):
    (tmp_path / "empty").mkdir()
    flags = ["--dataset", "folder", "--data-dir", str(tmp_path / "empty")]
    code = (
        "import sys\n"
        "from dcgan_tf import train\n"
        "try:\n"
        f"    train.main({flags!r})\n"
        "except SystemExit as exit:\n"
        "    print('exit', exit.code, 'tensorflow' in sys.modules,\n"
        "          'keras' in sys.modules)\n"
    )
    result = run_python(code, cwd=tmp_path)
    assert result.stdout.strip() == "exit 2 False False", result.stdout + result.stderr
    assert "No images" in result.stderr and len(result.stderr.splitlines()) == 1


# A tiny run of the command (conftest.TINY), as a user's shell starts it.
TRAIN = [
    sys.executable,
    "-m",
    "dcgan_tf.train",
    "--data-dir",
    str(ROOT / "tests" / "data" / "fashion-mnist"),
    *TINY,
    "--steps-per-epoch",
    "3",
    "--quality-every",
    "0",
]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), env.get("PYTHONPATH")])
    )
    return env


def _epochs(run_dir):
    import json

    return json.loads((run_dir / "state.json").read_text())["epoch"]


def test_a_reader_of_stdout_that_goes_away_costs_no_epoch_and_no_traceback(
    tmp_path,
):
    """`train ... | head`: the reader leaves before the first epoch's line;
    the run trains on with its output discarded, says so once, exits 0."""
    run_dir = tmp_path / "run"
    child = subprocess.Popen(
        [*TRAIN, "--epochs", "2", "--run-dir", str(run_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    for line in child.stdout:
        if line.startswith("run directory:"):
            break
    child.stdout.close()  # as `head` ends: every later write is a broken pipe
    err = child.stderr.read()
    assert child.wait(timeout=300) == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert [line for line in err.splitlines() if "stdout" in line] == [
        "python -m dcgan_tf.train: stdout is gone (Broken pipe); the work goes on "
        "and its output is discarded (the run directory records it)."
    ]
    assert _epochs(run_dir) == 2
    assert (run_dir / "generator.keras").is_file()


def test_a_closed_stdout_trains_the_run_with_one_line_on_stderr(tmp_path):
    """`train ... >&-`: descriptor 1 is reopened on /dev/null (no file of the
    run can take its number), and the run trains."""
    run_dir = tmp_path / "run"
    result = subprocess.run(
        [*TRAIN, "--epochs", "1", "--run-dir", str(run_dir)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
        preexec_fn=lambda: os.close(1),
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "stdout is closed; the work goes on" in result.stderr
    assert _epochs(run_dir) == 1


def test_the_torch_backend_shows_no_tensorflow_start_up_line(tmp_path):
    """Under torch, Keras looks TensorFlow up (`importlib.util.find_spec`)
    before the data pipeline imports it: the import is still the quiet one."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        import pytest

        pytest.skip("torch is not installed")
    env = {**_env(), "KERAS_BACKEND": "torch"}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    code = (
        "import dcgan_tf, importlib.util\n"
        "importlib.util.find_spec('tensorflow')\n"
        "import keras\n"
        "from dcgan_tf.data import pipeline\n"
        "import tensorflow as tf\n"
        "tf.config.list_physical_devices()\n"
        "print(keras.backend.backend())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "torch"
    shown = [
        line for line in result.stderr.splitlines() if any(s in line for s in START_UP)
    ]
    assert not shown, shown
