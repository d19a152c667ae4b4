"""Runs a tutorial notebook headless, top to bottom, with its parameters changed.

    python notebooks/run.py notebooks/01_fashion_mnist.ipynb --quick \\
        --out outputs/notebooks/01_fashion_mnist.ipynb

As papermill does, the values (`--quick`: the quick look each parameters cell
suggests; `--set NAME=VALUE`: any of them) go into a cell inserted after the
cell tagged `parameters`; the notebook runs in its own folder, as in Jupyter,
on this Python (`jupyter` itself is not needed: nbclient and ipykernel, from
the `dev` extra), and the executed copy, with its outputs and figures, is
written to `--out` (never over the notebook itself). The runs and files a
notebook writes (its `RUNS_DIR` and `OUT_DIR`) go beside the executed copy, in
`--out`'s name with `_files` (unless `--set` names them), not among the user's
own runs in `checkpoints/`. Exit code 1 when a cell fails, naming it.
"""

import argparse
import ast
import json
import sys
import tempfile
from pathlib import Path

# The parameters that name where a notebook writes its runs and files.
OUTPUT_PARAMETERS = ("RUNS_DIR", "OUT_DIR")

# The quick look on a CPU that each notebook's parameters cell suggests.
QUICK = {
    "01_fashion_mnist.ipynb": {"EPOCHS": 3, "STEPS_PER_EPOCH": 100, "FILTERS": 32},
    "02_cifar10.ipynb": {"EPOCHS": 3, "STEPS_PER_EPOCH": 100, "FILTERS": 32},
    "03_bicycles_128.ipynb": {
        "EPOCHS": 4,
        "STEPS_PER_EPOCH": 75,
        "BATCH_SIZE": 32,
        "FILTERS": 16,
    },
    "04_latent_space.ipynb": {},  # already small: 5 epochs at half width
    "05_conditional.ipynb": {"FILTERS": 32},
}


def value(text: str):
    """A Python literal (`3`, `None`, `"a"`), else the text as a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parameter_names(notebook) -> set[str]:
    """The names the cell tagged `parameters` assigns."""
    cell = next(
        cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])
    )
    tree = ast.parse("".join(cell.source))
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def output_values(notebook, out: Path, values: dict) -> dict:
    """`RUNS_DIR` and `OUT_DIR` beside the executed copy `out`, for those the
    notebook has and `values` leaves unset: a headless run never takes a run
    number among the user's own runs."""
    folder = out.resolve().with_name(out.stem + "_files")
    names = parameter_names(notebook)
    return {
        name: str(folder / name.lower().removesuffix("_dir"))
        for name in OUTPUT_PARAMETERS
        if name in names and name not in values
    }


def with_parameters(notebook, values: dict):
    """Inserts a cell setting `values` after the cell tagged `parameters`."""
    import nbformat

    index = next(
        i
        for i, cell in enumerate(notebook.cells)
        if "parameters" in cell.metadata.get("tags", [])
    )
    source = "# Injected by notebooks/run.py\n" + "".join(
        f"{name} = {item!r}\n" for name, item in values.items()
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["injected-parameters"]
    notebook.cells.insert(index + 1, cell)
    return notebook


def kernel_spec(folder: Path) -> str:
    """A kernel running this very Python, so that the notebook uses its packages."""
    spec = folder / "kernels" / "dcgan-tf-run"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "dcgan_tf", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    return spec.name


def execute(path: Path, values: dict, timeout: int = 3600):
    """Runs the notebook at `path` with `values` set.

    Returns:
        `(notebook, error)`: the executed copy, as far as it ran, and the
        `CellExecutionError` of the cell that failed, or None.
    """
    import os

    import nbclient
    import nbformat
    from nbclient.exceptions import CellExecutionError

    notebook = with_parameters(nbformat.read(path, as_version=4), values)
    with tempfile.TemporaryDirectory() as jupyter:
        name = kernel_spec(Path(jupyter))
        os.environ["JUPYTER_PATH"] = os.pathsep.join(
            filter(None, [jupyter, os.environ.get("JUPYTER_PATH")])
        )
        client = nbclient.NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name=name,
            resources={"metadata": {"path": str(path.resolve().parent)}},
        )
        try:
            client.execute()
        except CellExecutionError as error:
            return notebook, error
    return notebook, None


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python notebooks/run.py",
        description="Run a tutorial notebook headless with changed parameters.",
    )
    parser.add_argument("notebook", type=Path, help="The .ipynb to run.")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="The quick look on a CPU that the parameters cell suggests.",
    )
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="Parameters to change, after --quick (VALUE: a Python literal, "
        "else a string).",
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="Where to write the executed copy."
    )
    args = parser.parse_args(argv)
    if not args.notebook.is_file():
        parser.error(f"{args.notebook} is not a notebook file.")
    if args.out.resolve() == args.notebook.resolve():
        parser.error("--out must not be the notebook itself.")
    values = dict(QUICK.get(args.notebook.name, {})) if args.quick else {}
    for item in args.set:
        name, sep, text = item.partition("=")
        if not sep or not name.isidentifier():
            parser.error(f"--set takes NAME=VALUE, got {item!r}.")
        values[name] = value(text)
    import nbformat

    values.update(output_values(nbformat.read(args.notebook, 4), args.out, values))
    print(f"Running {args.notebook} with {values}", flush=True)

    notebook, failed = execute(args.notebook, values)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, args.out)
    if failed is not None:
        print(f"{parser.prog}: a cell failed:\n{failed}", file=sys.stderr)
        sys.exit(1)
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
