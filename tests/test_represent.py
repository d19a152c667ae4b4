"""`python -m dcgan_tf.represent`: the table and JSON of a probe on a run made
by `train`, and one-line errors for what it cannot use."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dcgan_tf import represent

DATA = Path(__file__).parent / "data"
PROG = represent.PROG
# The fewest labels and fits that still make a table: seconds on 2 cores.
QUICK = [
    "--labels-per-class",
    "3",
    "all",
    "--draws",
    "2",
    "--c-values",
    "0.1",
    "--threads",
    "1",
    "--test-limit",
    "32",
]


def test_the_command_prints_the_table_and_writes_the_json(
    trained_run, tmp_path, capsys
):
    out = tmp_path / "results" / "probe.json"
    argv = [str(trained_run), *QUICK, "--methods", "dcgan", "pixels"]
    represent.main([*argv, "--per-layer", "--json", str(out)])
    printed = capsys.readouterr().out
    assert f"epoch 2 of {trained_run}" in printed
    table = printed[printed.index("method") :].splitlines()
    assert table[0].split() == ["method", "features", "3/class", "all"]
    assert [line.split()[0] for line in table[1:5]] == [
        "dcgan",
        "pixels",
        "dcgan:block1_lrelu",
        "dcgan:block2_lrelu",
    ]
    assert "±" in table[1] and f"Wrote {out}" in printed
    record = json.loads(out.read_text())
    assert record["command"].startswith("python -m dcgan_tf.represent ")
    assert record["dataset"] == "fashion_mnist" and record["epoch"] == 2
    rows = {(row["method"], row["labels_per_class"]): row for row in record["rows"]}
    assert rows["dcgan", 3]["draws"] == 2 and rows["dcgan", None]["draws"] == 1
    assert rows["dcgan", 3]["features"] == 16 * (8 + 16)
    assert record["settings"]["test_images"] == 32
    assert all(0 <= row["mean"] <= 1 for row in record["rows"])
    assert all(row["seconds"] > 0 for row in record["rows"])
    assert record["seconds"] >= max(row["seconds"] for row in record["rows"])
    assert record["machine"]["cpu_count"] and "features" in record["machine"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["RUN/generator.keras", "--dataset", "fashion_mnist"], "is a generator"),
        (["MISSING"], "No such run directory"),
        (["RUN", "--dataset", "cifar10"], "are 32x32x3 but this discriminator"),
        (["RUN", "--json", "RUN/probe.json"], "into the run directory"),
        (["RUN", "--json", "RUN/samples/probe.json"], "into the run directory"),
        (["RUN", "--json", "out.txt"], "--json must end in .json"),
        (["RUN", "--labels-per-class", "300"], "fewer than --labels-per-class 300"),
        (["RUN", "--layers", "block9_lrelu"], "has no layer block9_lrelu"),
        (["RUN", "--labels-per-class", "1"], "at least 2 labels per class"),
        (["RUN", "--c-values", "0"], "--c-values must be positive and finite"),
        (["RUN", "--c-values", "0.1", "nan"], "--c-values must be positive and fin"),
        (["RUN", "--seed", "4294967295", "--draws", "3"], "pick a smaller --seed"),
        (["BARE"], "pass --dataset"),
    ],
)
def test_bad_input_exits_2_with_a_one_line_error(
    trained_run, tmp_path, capsys, monkeypatch, args, message
):
    monkeypatch.chdir(tmp_path)
    bare = tmp_path / "bare.keras"  # a discriminator with no config.json beside it
    bare.write_bytes((trained_run / "discriminator.keras").read_bytes())
    paths = {
        "RUN": str(trained_run),
        "MISSING": str(tmp_path / "no_run"),
        "BARE": str(bare),
    }
    argv = [
        next((arg.replace(k, v) for k, v in paths.items() if k in arg), arg)
        for arg in args
    ]
    if "cifar10" in argv:
        argv += ["--data-dir", str(DATA / "cifar10")]
    with pytest.raises(SystemExit) as raised:
        represent.main([*argv, "--methods", "pixels", "--threads", "1"])
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{PROG}: error: ") and message in errors[0]
    assert not (trained_run / "probe.json").exists()


def test_represent_answers_help_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "dcgan_tf.represent", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--labels-per-class" in result.stdout and "--per-layer" in result.stdout


def test_a_checkpoint_within_an_epoch_and_one_draw_are_told_as_they_are(
    trained_run, tmp_path, capsys
):
    # A new user saw "Discriminator: epoch 2" for a checkpoint 144 steps into
    # epoch 3, and "mean ± std over 1 draws".
    run = tmp_path / "run"
    run.mkdir()
    for name in ("config.json", "latents.npy"):
        (run / name).write_bytes((trained_run / name).read_bytes())
    within = run / "checkpoint_epoch_0002_step_000005.weights.h5"
    within.write_bytes((trained_run / "checkpoint_epoch_0002.weights.h5").read_bytes())
    represent.main(
        [str(run), "--labels-per-class", "3", "--draws", "1", "--methods", "pixels"]
        + ["--c-values", "0.1", "--threads", "1", "--test-limit", "32"]
    )
    printed = capsys.readouterr().out
    assert f"Discriminator: epoch 3, step 5 of {run}" in printed
    assert "one draw of labels" in printed
    assert "1 draws" not in printed and "±" not in printed
