"""The helpers every command shares (dcgan_tf.cli): quiet start-up, one-line
errors and the checks of flags."""

import argparse
import ast
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from dcgan_tf import cli
from dcgan_tf.rundir import RunDirError

PACKAGE = Path(cli.__file__).parent.parent
COMMANDS = ("generate", "interpolate")


def run_python(code, **env):
    """Runs `code` in a fresh Python whose TF_CPP_MIN_LOG_LEVEL is `env`'s only."""
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )


def test_quiet_tensorflow_hides_the_start_up_messages_and_restores_stderr():
    result = run_python(
        "import os, sys\n"
        "from dcgan_tf import cli\n"
        "cli.quiet_tensorflow()\n"
        "import tensorflow as tf\n"
        "tf.config.list_physical_devices()\n"
        "print(float(tf.reduce_sum(tf.ones(3))))\n"
        "print('python stderr', file=sys.stderr, flush=True)\n"
        "os.write(2, b'descriptor 2\\n')\n"
    )
    assert result.stdout.strip() == "3.0"
    # Only what the program itself wrote to stderr, once the import is over.
    assert result.stderr.splitlines() == ["python stderr", "descriptor 2"]
    for chatter in ("absl", "cuda", "oneDNN", "cuInit"):
        assert chatter not in result.stderr


@pytest.mark.parametrize(
    "env", [{"TF_CPP_MIN_LOG_LEVEL": "0"}, {"KERAS_BACKEND": "jax"}]
)
def test_quiet_tensorflow_leaves_a_users_choice_alone(env):
    # Neither imports TensorFlow nor changes the log level the user set.
    result = run_python(
        "import os, sys\n"
        "from dcgan_tf import cli\n"
        "cli.quiet_tensorflow()\n"
        "print('tensorflow' in sys.modules, os.environ.get('TF_CPP_MIN_LOG_LEVEL'))\n",
        **env,
    )
    assert result.stdout.split() == ["False", env.get("TF_CPP_MIN_LOG_LEVEL", "None")]


def test_importing_the_package_and_the_commands_loads_no_tensorflow():
    # What makes `--help` fast and lets quiet_tensorflow come first.
    result = run_python(
        "import sys\n"
        "import dcgan_tf, dcgan_tf.cli, dcgan_tf.generate, dcgan_tf.interpolate\n"
        "print(sorted({'tensorflow', 'keras', 'jax', 'torch'} & set(sys.modules)))\n"
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("command", COMMANDS)
def test_commands_import_the_library_and_cli_but_no_other_command(command):
    tree = ast.parse((PACKAGE / f"{command}.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported |= {f"{node.module}.{alias.name}" for alias in node.names}
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
    others = {f"dcgan_tf.{name}" for name in COMMANDS + ("train", "neighbours")}
    others |= {"dcgan_tf.evaluate", "dcgan_tf.bench", "dcgan_tf.train_classifier"}
    assert not imported & (others - {f"dcgan_tf.{command}"})
    assert "dcgan_tf.cli" in imported


def test_fail_prints_one_line_and_exits_2(capsys):
    with pytest.raises(SystemExit) as raised:
        cli.fail("python -m dcgan_tf.x", "a message\n  over two lines")
    assert raised.value.code == 2
    captured = capsys.readouterr()
    assert captured.err == "python -m dcgan_tf.x: error: a message over two lines\n"
    assert captured.out == ""


@pytest.mark.parametrize(
    "error, message",
    [
        (ValueError("bad value"), "bad value"),
        (FileNotFoundError("No such run directory or .keras file: x"), "No such run"),
        (RunDirError("Cannot write x: the disk is full."), "the disk is full"),
        (PermissionError(13, "Permission denied", "out/grid.png"), "out/grid.png"),
        (IsADirectoryError(21, "Is a directory", "grid.png"), "Is a directory"),
        (MemoryError(), "out of memory (MemoryError); lower --batch-size"),
        (RuntimeError("RESOURCE_EXHAUSTED: Out of memory"), "out of memory"),
    ],
)
def test_run_command_turns_expected_errors_into_one_line(capsys, error, message):
    def body():
        raise error

    with pytest.raises(SystemExit) as raised:
        cli.run_command("prog", body)
    assert raised.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("prog: error: ")
    assert message in lines[0]


def test_run_command_knows_the_data_error_of_a_command_that_loads_data(
    monkeypatch, capsys
):
    class DataError(Exception):  # as if it stopped being a ValueError
        pass

    data = type(sys)("dcgan_tf.data")
    data.DataError = DataError

    def body():
        monkeypatch.setitem(sys.modules, "dcgan_tf.data", data)  # imported late
        raise DataError("No Fashion-MNIST in data/; download it with ...")

    with pytest.raises(SystemExit) as raised:
        cli.run_command("prog", body)
    assert raised.value.code == 2
    assert capsys.readouterr().err == (
        "prog: error: No Fashion-MNIST in data/; download it with ...\n"
    )


def test_run_command_passes_results_and_bugs_through(capsys):
    assert cli.run_command("prog", lambda: 42) == 42

    def bug():
        raise TypeError("a bug keeps its traceback")

    with pytest.raises(TypeError):
        cli.run_command("prog", bug)


def test_ctrl_c_exits_130_with_a_line(capsys):
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as raised:
        cli.run_command("prog", interrupted)
    assert raised.value.code == 130  # 128 + SIGINT, as shells do
    assert capsys.readouterr().err == "\nprog: stopped by Ctrl-C\n"


def test_warnings_show_in_one_line(monkeypatch, capsys):
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    cli.show_warnings_in_one_line()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("3 files\nwere skipped", UserWarning, stacklevel=1)
        # The same warning again (a damaged state.json read twice on a
        # resume): said once.
        warnings.warn("3 files were skipped", UserWarning, stacklevel=1)
        warnings.warn("another", UserWarning, stacklevel=1)
    assert capsys.readouterr().err == (
        "warning: 3 files were skipped\nwarning: another\n"
    )


def parser_with(*flags):
    parser = argparse.ArgumentParser(prog="prog")
    for flag in flags:
        parser.add_argument(flag, type=int, default=None)
    return parser


def test_check_positive_names_the_flag(capsys):
    parser = parser_with("--num", "--forward-batch")
    args = parser.parse_args(["--num", "3"])
    cli.check_positive(parser, args, "num", "forward_batch")  # None is unset: fine
    args = parser.parse_args(["--forward-batch", "0"])
    with pytest.raises(SystemExit):
        cli.check_positive(parser, args, "num", "forward_batch")
    assert capsys.readouterr().err == (
        "prog: error: --forward-batch must be at least 1, got 0.\n"
    )


def test_check_image_path_accepts_new_folders_and_refuses_what_cannot_be_written(
    tmp_path, capsys
):
    parser = parser_with()
    new = tmp_path / "new" / "deeper" / "grid.PNG"
    assert cli.check_image_path(parser, str(new)) == new
    (tmp_path / "taken.png").mkdir()
    (tmp_path / "file").write_text("")
    for path, flag, suffixes, message in [
        (tmp_path / "grid.bmp", "--out", None, "--out must end in .png or .jpg"),
        (tmp_path / "walk.png", "--gif", (".gif",), "--gif must end in .gif"),
        (tmp_path / "taken.png", "--out", None, "is a folder"),
        (tmp_path / "file" / "grid.png", "--out", None, "is a file, not a folder"),
    ]:
        with pytest.raises(SystemExit) as raised:
            cli.check_image_path(parser, path, flag, suffixes)
        assert raised.value.code == 2
        lines = capsys.readouterr().err.splitlines()
        assert len(lines) == 1 and message in lines[0], lines


def test_resolve_seed_keeps_a_given_seed_and_draws_a_fresh_one():
    assert cli.resolve_seed(5) == 5
    assert cli.resolve_seed(0) == 0
    drawn = {cli.resolve_seed(None) for _ in range(5)}
    assert all(0 <= seed < 2**31 for seed in drawn) and len(drawn) > 1


def test_describe_generator_says_what_was_loaded():
    from dcgan_tf.model.networks import build_generator
    from dcgan_tf.sampling.drawing import as_generator

    generator = as_generator(build_generator((16, 16, 3), 8, 8))
    assert cli.describe_generator(generator) == (
        "Generator: z of 8 (normal) -> 16x16x3"
    )


@pytest.mark.parametrize("backend", ["numpy", "openvino"])
@pytest.mark.parametrize(
    "command",
    [
        ["train"],
        ["generate", "g.keras"],
        ["interpolate", "g.keras"],
        ["neighbours", "g.keras"],
        ["evaluate", "g.keras"],
        ["train_classifier", "--dataset", "fashion_mnist", "--out", "c.weights.h5"],
        ["bench"],
        ["explore", "g.keras"],
        ["represent", "g.keras"],
    ],
    ids=lambda c: c[0] if isinstance(c, list) else c,
)
def test_keras_backends_dcgan_tf_does_not_run_on_are_one_line(
    tmp_path, command, backend
):
    """Keras' numpy and openvino backends (openvino is not installed: a
    traceback at `import keras`), refused by every command before Keras."""
    (tmp_path / "g.keras").write_bytes(b"")  # a file: explore checks it first
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": root}
    result = subprocess.run(
        [sys.executable, "-m", f"dcgan_tf.{command[0]}", *command[1:]],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"python -m dcgan_tf.{command[0]}: error: Keras' {backend} backend is not "
        "one dcgan_tf runs on (KERAS_BACKEND or keras.json); use tensorflow, jax, "
        "torch."
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.keras"]


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_scheduler_s_signal_stops_a_command_with_one_line_and_no_half_file(
    tmp_path, name
):
    # A hostile pass: SIGTERM or SIGHUP killed generate and interpolate with
    # no line, and left a `.tmp-NNNN.png` behind (Ctrl-C was clean).
    code = (
        "import os, signal, time\n"
        "from dcgan_tf import cli\n"
        "from dcgan_tf.system.files import write_atomically\n"
        "def write(tmp):\n"
        "    open(tmp, 'w').write('half')\n"
        f"    os.kill(os.getpid(), signal.{name})\n"
        "    time.sleep(30)\n"
        f"cli.run_command('prog', lambda: write_atomically({str(tmp_path)!r} + "
        "'/out.png', write))\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        # As under a terminal: under `nohup` (as the suite may run) the child
        # would inherit SIGHUP ignored.
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL),
    )
    number = {"SIGTERM": 15, "SIGHUP": 1}[name]
    assert result.returncode == 128 + number, result.stderr
    assert result.stderr.strip().splitlines() == [f"prog: stopped by {name}"]
    assert list(tmp_path.iterdir()) == []
