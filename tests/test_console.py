"""The console is the project's: no TensorFlow start-up line, no TensorFlow early."""

import os
import subprocess
import sys
from pathlib import Path

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
