"""The tutorial notebooks run top to bottom, at CI scale, on the samples in tests/data.

Each notebook starts with a cell tagged `parameters` holding its full-scale
values; as papermill does, the test inserts a cell after it that sets tiny ones
(a few steps of narrow networks on the shipped samples, runs in a temporary
directory), then executes every cell with nbclient and fails on any error.
Set `DCGAN_EXECUTED_NOTEBOOKS=DIR` to keep the executed copies for reading.
"""

import json
import os
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DATA = Path(__file__).resolve().parent / "data"
KERNEL = "dcgan-tf-tests"
CELL_TIMEOUT_S = 300
# Where the notebooks write: each one a parameters cell defines is pointed at a
# temporary folder, so that the checkout stays clean.
OUTPUT_DIRS = ("RUNS_DIR", "OUT_DIR")
# A line that displays a figure in the notebooks (a call, not a definition).
# What TensorFlow prints on its own when it starts (dcgan_tf.system.console hides it).
START_UP = re.compile(r"absl::|oneDNN|cuda drivers|cuInit|^[IWE]0000 ")
FIGURE = re.compile(r"^(?!def )(.*\W)?(show\w*\(|Image\(filename)", re.MULTILINE)

# Tiny runs: each notebook takes well under a minute on 2 CPU cores.
CI_PARAMETERS = {
    "01_fashion_mnist.ipynb": {
        "EPOCHS": 3,
        "STEPS_PER_EPOCH": 4,
        "BATCH_SIZE": 16,
        "FILTERS": 8,
        "LATENT_DIM": 32,
        "DATA_DIR": str(DATA / "fashion-mnist"),
        "DEMO_STEPS": 60,
        "QUALITY_SAMPLES": 100,
    },
    "02_cifar10.ipynb": {
        "EPOCHS": 2,
        "STEPS_PER_EPOCH": 4,
        "BATCH_SIZE": 16,
        "FILTERS": 8,
        "DATA_DIR": str(DATA / "cifar10"),
    },
    "03_bicycles_128.ipynb": {
        "DATASET": "folder",
        "DATA_DIR": str(DATA / "folder"),
        "EPOCHS": 2,
        "STEPS_PER_EPOCH": 3,
        "BATCH_SIZE": 8,
        "FILTERS": 4,
    },
    "04_latent_space.ipynb": {
        "RUN": None,
        "DATA_DIR": str(DATA / "fashion-mnist"),
        "EPOCHS": 2,
        "STEPS_PER_EPOCH": 5,
        "BATCH_SIZE": 16,
        "FILTERS": 8,
    },
    "05_conditional.ipynb": {
        "RUN": None,
        "DATA_DIR": str(DATA / "fashion-mnist"),
        "EPOCHS": 2,
        "STEPS_PER_EPOCH": 5,
        "BATCH_SIZE": 16,
        "FILTERS": 8,
        "NUM_SAMPLES": 100,
    },
    "06_representations.ipynb": {
        "RUN": None,
        "DATA_DIR": str(DATA / "fashion-mnist"),
        "EPOCHS": 1,
        "STEPS_PER_EPOCH": 4,
        "BATCH_SIZE": 16,
        "FILTERS": 8,
        "LABELS_PER_CLASS": [3, None],
        "DRAWS": 2,
        "TEST_LIMIT": 32,
        "C_VALUES": [0.1],
        "SUPERVISED_EPOCHS": 2,
        "THREADS": 1,
    },
}


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A kernel spec running this very interpreter, first on the Jupyter path,
    so that the notebooks test this checkout whatever other kernels exist."""
    spec_dir = tmp_path_factory.mktemp("jupyter") / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "dcgan_tf tests",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(spec_dir.parent.parent))
        path = [str(ROOT), os.environ.get("PYTHONPATH", "")]
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, path)))
        # Keep the kernels' decoded-image cache out of the user's home.
        patch.setenv("DCGAN_TF_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield KERNEL


def read(name):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def parameters_index(notebook):
    return next(
        i
        for i, cell in enumerate(notebook.cells)
        if "parameters" in cell.metadata.get("tags", [])
    )


def defines(cell, name):
    return re.search(rf"^{name} = ", cell.source, re.MULTILINE) is not None


def with_parameters(notebook, values):
    """Inserts a cell setting `values` after the cell tagged `parameters`."""
    index = parameters_index(notebook)
    source = "# Injected by tests/test_notebooks.py\n" + "".join(
        f"{name} = {value!r}\n" for name, value in values.items()
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["injected-parameters"]
    notebook.cells.insert(index + 1, cell)
    return notebook


def test_every_notebook_is_tested():
    assert sorted(path.name for path in NOTEBOOKS.glob("*.ipynb")) == sorted(
        CI_PARAMETERS
    )


# Notebooks committed with the outputs of a real run, at the scale their
# parameters cell holds (the others are committed without outputs).
SHOWN_RUNS = {"03_bicycles_128.ipynb"}


@pytest.mark.parametrize("name", sorted(CI_PARAMETERS))
def test_notebook_is_committed_clean_with_parameters_first(name):
    notebook = read(name)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), (
        f"{name}: the first code cell must be the parameters cell, tagged 'parameters'"
    )
    if name in SHOWN_RUNS:
        # Committed with the outputs of the real run its parameters describe.
        counts = [cell.execution_count for cell in code]
        assert counts == list(range(1, len(code) + 1)), f"{name}: not run in order"
        kinds = {
            k for cell in code for out in cell.outputs for k in out.get("data", {})
        }
        assert any(kind.startswith("image/") for kind in kinds), f"{name}: no figure"
        return
    for cell in code:
        assert not cell.outputs and cell.execution_count is None, (
            f"{name} holds outputs; clear them before committing "
            "(see notebooks/README.md)"
        )
    # The CI values override names the parameters cell really defines.
    for parameter in [*CI_PARAMETERS[name], "RUNS_DIR"]:
        assert defines(code[0], parameter), f"{name} does not define {parameter}"


@pytest.mark.parametrize("name", sorted(CI_PARAMETERS))
def test_notebook_runs_top_to_bottom(name, kernel, tmp_path):
    notebook = read(name)
    values = dict(CI_PARAMETERS[name])
    parameters = notebook.cells[parameters_index(notebook)]
    for folder in OUTPUT_DIRS:
        if defines(parameters, folder):
            values[folder] = str(tmp_path / folder.lower())
    with_parameters(notebook, values)
    before = sorted(NOTEBOOKS.iterdir())
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name=kernel,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    try:
        client.execute()
    finally:
        keep = os.environ.get("DCGAN_EXECUTED_NOTEBOOKS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, Path(keep) / name)
    # Every cell that shows a figure did show one (not, say, a silent plt.show).
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and FIGURE.search(cell.source):
            kinds = {kind for output in cell.outputs for kind in output.get("data", {})}
            assert any(kind.startswith("image/") for kind in kinds), (
                f"{name}, cell {index}: no figure in its output"
            )
    assert sorted(NOTEBOOKS.iterdir()) == before, f"{name} wrote into notebooks/"
    # No TensorFlow start-up line (absl, oneDNN, CUDA) among the outputs.
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            text = output.get("text", "") + str(
                output.get("data", {}).get("text/plain", "")
            )
            shown = [line for line in text.splitlines() if START_UP.search(line)]
            assert not shown, f"{name}, cell {index}: {shown}"


def load_runner():
    """notebooks/run.py, the headless runner, as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("run", NOTEBOOKS / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(CI_PARAMETERS))
def test_headless_run_writes_beside_its_copy_not_among_the_users_runs(name, tmp_path):
    # A headless run once took checkpoints/00001-fashion_mnist among the
    # user's own runs: every folder a notebook writes goes beside --out.
    runner = load_runner()
    out = tmp_path / "executed" / name
    values = runner.output_values(read(name), out, {})
    assert "RUNS_DIR" in values
    for folder in values.values():
        assert Path(folder).is_relative_to(tmp_path / "executed" / f"{out.stem}_files")
    # A folder given with --set is kept.
    assert "RUNS_DIR" not in runner.output_values(read(name), out, {"RUNS_DIR": "x"})
