"""`python -m dcgan_tf.export` writes an export only after its own runtime has
drawn Keras' images, and refuses bad input in one line.

The round trips need the `export` extra (onnxruntime, tf2onnx, ai-edge-litert;
jax2onnx for ONNX on JAX): they skip, saying which module is missing, where
it is not installed, and where the backend of the run (KERAS_BACKEND) does
not export the format. The refusals need none of it.
"""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import save_generator

from dcgan_tf import export
from dcgan_tf.exporting import FORMATS, TOLERANCE, check_supported, formats
from dcgan_tf.exporting import round_trip as round_trips
from dcgan_tf.exporting.writing import SAVED_MODEL_FILE
from dcgan_tf.sampling import load_generator
from dcgan_tf.sampling.drawing import generate

PROG = "python -m dcgan_tf.export"
BACKEND = keras.backend.backend()
OUT = {"onnx": "g.onnx", "saved_model": "g_saved_model", "litert": "g.tflite"}


def varied_generator(path: Path, num_classes=None) -> Path:
    """A tiny 28x28x1 generator (8 filters, 8-dimensional latents) whose
    weights and batch-norm statistics are drawn wide, saved at `path`: a
    fresh one draws nearly flat gray, in which a converter's mistake hides."""
    from dcgan_tf.model.networks import build_generator

    keras.utils.set_random_seed(3)
    model = build_generator((28, 28, 1), 8, 8, num_classes=num_classes)
    rng = np.random.default_rng(3)
    for variable in model.weights:
        value = rng.normal(0, 0.3, variable.shape).astype("float32")
        if variable.path.endswith("moving_variance"):
            value = np.abs(value) + 0.5
        variable.assign(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


@pytest.fixture(scope="module")
def generator_file(tmp_path_factory):
    return varied_generator(tmp_path_factory.mktemp("export") / "generator.keras")


@pytest.fixture(scope="module")
def conditional_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export_conditional")
    return varied_generator(folder / "generator.keras", num_classes=3)


def needs(format_name: str):
    """Skips, with the reason, where the backend does not export the format
    or its converter or runtime is not installed; returns the format."""
    try:
        export_format = check_supported(format_name, BACKEND)
    except ValueError as error:
        pytest.skip(str(error))
    for module in (export_format.runtime, *export_format.backends[BACKEND]):
        pytest.importorskip(
            module, reason=f"the {format_name} export on {BACKEND} needs {module}"
        )
    return format_name


def an_exportable_format() -> str:
    """The first format this backend exports with what is installed
    (saved_model needs only TensorFlow; torch exports onnx only)."""
    for name in ("saved_model", "onnx", "litert"):
        try:
            export_format = check_supported(name, BACKEND)
            for module in (export_format.runtime, *export_format.backends[BACKEND]):
                importlib.import_module(module)
        except (ValueError, ImportError):
            continue
        return name
    pytest.skip(f"no export format runs on {BACKEND} with what is installed")


def run_export(capsys, *argv):
    """Runs the command in this process; returns (exit code, stdout, stderr)."""
    try:
        export.main([str(a) for a in argv])
        code = 0
    except SystemExit as exit:
        code = exit.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def error_lines(err: str) -> list[str]:
    """stderr without the warnings a converter or runtime prints itself."""
    return [line for line in err.splitlines() if line.startswith(PROG)]


# --- The round trip of each format ---------------------------------------------


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_each_format_is_written_after_its_runtime_draws_the_keras_images(
    format_name, generator_file, tmp_path, capsys
):
    needs(format_name)
    out = tmp_path / OUT[format_name]
    code, stdout, err = run_export(
        capsys, generator_file, "--format", format_name, "--out", out
    )
    assert code == 0, err
    line = stdout.strip().splitlines()[-1]
    assert line.startswith(f"Wrote {out} ({format_name} ")
    assert "tolerance 0.0001" in line
    assert sorted(tmp_path.iterdir()) == [out]  # no temporary folder left
    # Checked again here on other latents, a batch of 3 (the round trip's is
    # 8): the export takes any batch size.
    generator = load_generator(generator_file)
    latents = np.random.default_rng(11).standard_normal((3, 8)).astype("float32")
    expected = generate(generator, latents)
    assert np.ptp(expected) > 0.5  # images that differ, not flat gray
    got = round_trips.RUNTIMES[format_name](out, {"latents": latents})
    assert np.max(np.abs(got - expected)) <= TOLERANCE


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_an_export_runs_alone_where_it_is_moved(format_name, tmp_path, capsys):
    # A 1.25 MB kernel (z of 100 -> 7x7x64): jax2onnx writes any tensor above
    # 1 MiB to a NAME.data file beside the .onnx, which must not be lost.
    from dcgan_tf.model.networks import build_generator

    keras.utils.set_random_seed(4)
    source = tmp_path / "generator.keras"
    build_generator((28, 28, 1), latent_dim=100, filters=32).save(source)
    needs(format_name)
    out = tmp_path / "exports" / OUT[format_name]
    code, _, err = run_export(capsys, source, "--format", format_name, "--out", out)
    assert code == 0, err
    assert [p.name for p in out.parent.iterdir()] == [out.name]
    moved = tmp_path / "moved" / out.name
    moved.parent.mkdir()
    out.rename(moved)
    latents = np.random.default_rng(2).standard_normal((2, 100)).astype("float32")
    expected = generate(load_generator(source), latents)
    got = round_trips.RUNTIMES[format_name](moved, {"latents": latents})
    assert np.max(np.abs(got - expected)) <= TOLERANCE


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_a_conditional_generator_keeps_its_class_input(
    format_name, conditional_file, tmp_path, capsys
):
    needs(format_name)
    out = tmp_path / OUT[format_name]
    code, _, err = run_export(
        capsys, conditional_file, "--format", format_name, "--out", out
    )
    assert code == 0, err
    generator = load_generator(conditional_file)
    latents = np.repeat(
        np.random.default_rng(5).standard_normal((1, 8)).astype("float32"), 3, 0
    )
    classes = np.eye(3, dtype="float32")  # one latent, each class
    expected = generate(generator, latents, labels=classes)
    assert np.abs(expected[0] - expected[1]).max() > 0.1  # the class matters
    inputs = {"latents": latents, "classes": classes}
    got = round_trips.RUNTIMES[format_name](out, inputs)
    assert np.max(np.abs(got - expected)) <= TOLERANCE


def test_an_export_that_disagrees_with_keras_is_refused_and_removed(
    generator_file, tmp_path, capsys, monkeypatch
):
    format_name = an_exportable_format()
    run = round_trips.RUNTIMES[format_name]
    # A converter that moves every pixel by 1e-3: ten times the tolerance.
    monkeypatch.setitem(
        round_trips.RUNTIMES, format_name, lambda path, x: run(path, x) + 1e-3
    )
    out = tmp_path / OUT[format_name]
    code, _, err = run_export(
        capsys, generator_file, "--format", format_name, "--out", out
    )
    assert code == 1
    assert error_lines(err) == [
        f"{PROG}: error: The {format_name} export disagrees with the Keras "
        f"generator: a largest difference of 0.001 on 8 fixed latents "
        f"(tolerance 0.0001), so nothing was written."
    ]
    assert list(tmp_path.iterdir()) == []


def test_an_export_its_runtime_cannot_run_is_refused_and_removed(tmp_path, capsys):
    # Mixed precision: the TFLite converter keeps float16 layers as TensorFlow
    # ("Flex") ops, which the LiteRT interpreter does not have.
    from dcgan_tf.model.networks import build_generator

    needs("litert")
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = build_generator((28, 28, 1), 8, 8)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    source = tmp_path / "mixed" / "generator.keras"
    source.parent.mkdir()
    model.save(source)
    out = tmp_path / "exports" / "g.tflite"
    code, _, err = run_export(capsys, source, "--format", "litert", "--out", out)
    assert code == 1
    [line] = error_lines(err)
    assert line.startswith(
        f"{PROG}: error: The litert export does not run in its own runtime (Select "
        "TensorFlow op(s)"
    )
    assert line.endswith(", so nothing was written.")
    assert list(out.parent.iterdir()) == []


def test_a_conversion_cut_short_leaves_nothing(
    generator_file, tmp_path, capsys, monkeypatch
):
    format_name = an_exportable_format()

    def half_written(model, path, export_format):
        Path(path).write_bytes(b"half")
        raise KeyboardInterrupt  # Ctrl-C in the middle of the conversion

    monkeypatch.setattr("dcgan_tf.exporting.writing.export_model", half_written)
    out = tmp_path / OUT[format_name]
    code, _, err = run_export(
        capsys, generator_file, "--format", format_name, "--out", out
    )
    assert code == 130
    assert list(tmp_path.iterdir()) == []


def test_a_converter_that_writes_files_beside_the_export_is_refused(
    generator_file, tmp_path, capsys, monkeypatch
):
    format_name = an_exportable_format()
    export_model = formats.export_model

    def with_a_sidecar(model, path, export_format):
        export_model(model, path, export_format)
        Path(f"{path}.data").write_bytes(b"weights the file points to")

    monkeypatch.setattr("dcgan_tf.exporting.writing.export_model", with_a_sidecar)
    out = tmp_path / OUT[format_name]
    code, _, err = run_export(
        capsys, generator_file, "--format", format_name, "--out", out
    )
    assert code == 1
    assert error_lines(err) == [
        f"{PROG}: error: The {format_name} converter wrote {out.name}.data beside "
        f"{out.name}, which the export would lose, so nothing was written."
    ]
    assert list(tmp_path.iterdir()) == []


def test_overwrite_replaces_an_export_of_the_same_format(
    generator_file, tmp_path, capsys
):
    format_name = an_exportable_format()
    out = tmp_path / OUT[format_name]
    argv = [generator_file, "--format", format_name, "--out", out]
    assert run_export(capsys, *argv)[0] == 0
    stamp = tmp_path / "stamp"
    stamp.write_text("x")  # any change made after the first export
    old = out / SAVED_MODEL_FILE if out.is_dir() else out
    os.utime(old, (0, 0))
    code, _, err = run_export(capsys, *argv)
    assert code == 2
    assert error_lines(err) == [
        f"{PROG}: error: --out {out} already exists; pass --overwrite to replace "
        "it or choose another --out."
    ]
    assert old.stat().st_mtime == 0  # untouched
    code, _, err = run_export(capsys, *argv, "--overwrite")
    assert code == 0, err
    new = out / SAVED_MODEL_FILE if out.is_dir() else out
    assert new.stat().st_mtime > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, "stamp"])


# --- Refusals, before any work ------------------------------------------------


def test_overwrite_never_replaces_a_folder_that_is_not_a_saved_model(
    generator_file, tmp_path, capsys
):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"mine")
    code, _, err = run_export(
        capsys, generator_file, "--format", "saved_model", "--out", folder,
        "--overwrite",
    )  # fmt: skip
    assert code == 2
    assert error_lines(err) == [
        f"{PROG}: error: --out {folder} is not a SavedModel folder (no "
        f"{SAVED_MODEL_FILE}), so --overwrite does not replace it; choose another "
        "--out."
    ]
    assert (folder / "holiday.jpg").read_bytes() == b"mine"


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_an_out_that_is_a_link_is_refused(generator_file, tmp_path, capsys, overwrite):
    target = tmp_path / "elsewhere.onnx"
    target.write_bytes(b"someone's model")
    link = tmp_path / "g.onnx"
    link.symlink_to(target)
    code, _, err = run_export(
        capsys, generator_file, "--format", "onnx", "--out", link, *overwrite
    )
    assert code == 2
    assert error_lines(err) == [
        f"{PROG}: error: --out {link} is a symbolic link, and the export never "
        "writes through a link; remove it or choose another --out."
    ]
    assert link.is_symlink() and target.read_bytes() == b"someone's model"


def test_an_out_inside_the_run_is_refused(small_run, capsys):
    out = small_run / "exports" / "g.onnx"
    code, _, err = run_export(capsys, small_run, "--format", "onnx", "--out", out)
    assert code == 2
    [line] = error_lines(err)
    assert f"would be written into the run directory {small_run}" in line
    assert not (small_run / "exports").exists()


def test_an_out_that_is_the_generator_is_refused(generator_file, capsys):
    code, _, err = run_export(
        capsys, generator_file, "--format", "litert", "--out", generator_file,
        "--overwrite",
    )  # fmt: skip
    assert code == 2
    [line] = error_lines(err)
    assert f"would replace the generator {generator_file}" in line


def test_the_out_must_end_as_the_format_s_files_do(generator_file, tmp_path, capsys):
    out = tmp_path / "g.onnx"
    code, _, err = run_export(
        capsys, generator_file, "--format", "litert", "--out", out
    )
    assert code == 2
    assert error_lines(err) == [
        f"{PROG}: error: --out of the litert export must end in .tflite, got {out}."
    ]


@pytest.mark.parametrize("what", ["folder", "text"])
def test_an_input_that_is_neither_a_run_nor_a_keras_file_is_one_line(
    what, tmp_path, capsys
):
    source = tmp_path / "notes"
    if what == "folder":
        source.mkdir()
    else:
        source = tmp_path / "notes.txt"
        source.write_text("not a model")
    format_name = an_exportable_format()
    out = tmp_path / "out" / OUT[format_name]
    code, _, err = run_export(capsys, source, "--format", format_name, "--out", out)
    assert code == 2
    assert len(error_lines(err)) == 1, err
    assert not out.parent.exists()


def test_a_missing_runtime_is_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    with pytest.raises(formats.MissingDependency) as error:
        formats.check_dependencies(FORMATS["onnx"], "tensorflow")
    assert str(error.value) == (
        'the onnx export needs onnxruntime: pip install -e ".[export]"'
    )


def test_a_missing_converter_names_the_backend_and_its_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", object())  # as if installed
    monkeypatch.setitem(sys.modules, "jax2onnx", None)
    with pytest.raises(formats.MissingDependency) as error:
        formats.check_dependencies(FORMATS["onnx"], "jax")
    assert str(error.value) == (
        'the onnx export on jax needs jax2onnx: pip install -e ".[export-jax]"'
    )


@pytest.mark.parametrize(
    "format_name, backend, able",
    [
        ("litert", "jax", "--backend tensorflow"),
        ("litert", "torch", "--backend tensorflow"),
        ("saved_model", "torch", "--backend tensorflow or --backend jax"),
    ],
)
def test_a_format_the_backend_does_not_export_names_one_that_does(
    format_name, backend, able
):
    with pytest.raises(ValueError) as error:
        check_supported(format_name, backend)
    message = str(error.value)
    assert message.startswith(
        f"The {format_name} export does not run on the {backend} backend ("
    )
    assert f"run it with {able} " in message


# --- The command line, in a real process --------------------------------------


def command(*argv, cwd, pythonpath=()):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [*map(str, pythonpath), str(Path(__file__).parent.parent)]
        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    return subprocess.run(
        [sys.executable, "-m", "dcgan_tf.export", *map(str, argv)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def test_the_command_s_refusals_are_one_line_and_exit_2(generator_file, tmp_path):
    taken = tmp_path / "taken.onnx"
    taken.write_bytes(b"x")
    result = command(generator_file, "--format", "onnx", "--out", taken, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{PROG}: error: --out {taken} already exists; pass --overwrite to "
        "replace it or choose another --out."
    ]
    result = command(generator_file, "--format", "tflite", "--out", "g", cwd=tmp_path)
    assert result.returncode == 2
    assert "argument --format: invalid choice: 'tflite'" in result.stderr


def test_the_command_says_which_runtime_is_missing(generator_file, tmp_path):
    # A package that fails to import, ahead of any real one on the path.
    shadow = tmp_path / "shadow" / "onnxruntime"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('not installed')\n")
    result = command(
        generator_file, "--format", "onnx", "--out", tmp_path / "g.onnx",
        "--backend", "tensorflow", cwd=tmp_path, pythonpath=[shadow.parent],
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f'{PROG}: error: the onnx export needs onnxruntime: pip install -e ".[export]"'
    ]
    assert not (tmp_path / "g.onnx").exists()


def test_the_command_writes_a_saved_model_and_says_so(generator_file, tmp_path):
    out = tmp_path / "exports" / "generator"
    result = command(
        generator_file, "--format", "saved_model", "--out", out,
        "--backend", "tensorflow", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith(f"Wrote {out} (saved_model folder, ")
    assert "tf.saved_model.load drew the Keras images within" in line
    assert (out / SAVED_MODEL_FILE).is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["generator"]


def test_a_run_directory_exports_like_a_bare_file(tmp_path, capsys):
    # A run's generator (config.json beside it) exports like a bare file.
    run = save_generator(tmp_path / "run", dataset="fashion_mnist").parent
    format_name = an_exportable_format()
    out = tmp_path / OUT[format_name]
    code, stdout, err = run_export(capsys, run, "--format", format_name, "--out", out)
    assert code == 0, err
    assert f"Generator {run / 'generator.keras'}" in stdout


def test_the_command_s_help_loads_no_keras():
    # What makes `--help` and the refusals answer at once.
    code = (
        "import sys\n"
        "import dcgan_tf.export\n"
        "dcgan_tf.export.build_parser().format_help()\n"
        "print(sorted({'tensorflow', 'keras', 'jax', 'torch'} & set(sys.modules)))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert result.stdout.strip() == "[]", result.stderr
