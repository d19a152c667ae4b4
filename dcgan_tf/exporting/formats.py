"""The export formats: which Keras backend exports each, what each needs
installed, and the export itself, through Keras' own `Model.export`.

Keras 3 (`keras/src/export/`) exports ONNX on TensorFlow (through tf2onnx),
JAX (jax2onnx) and torch (`torch.onnx`); a TensorFlow SavedModel on
TensorFlow and JAX (jax2tf; torch needs torch_xla); LiteRT on TensorFlow
(its TFLite converter; torch needs litert-torch, which pulls in a large
stack and is not wired here). A generator's `.keras` file is the same on
every backend, so a format one backend lacks is one `--backend tensorflow`
away.
"""

import importlib
import warnings
from pathlib import Path
from typing import NamedTuple

# How to install what an export needs (setup.cfg's extras).
EXTRA_INSTALL = 'pip install -e ".[export]"'
JAX_EXTRA_INSTALL = 'pip install -e ".[export-jax]"'


class ExportFormat(NamedTuple):
    """One export format.

    Attributes:
        name: as `--format` takes it.
        keras_format: the `format=` of `keras.Model.export`.
        suffix: what `--out` must end with ("" for a folder).
        runtime: the module that runs the exported file in the round trip.
        served_by: how the round trip runs it, in words.
        backends: the Keras backends dcgan_tf exports it on, each with the
            modules the export itself needs there (beyond the backend).
        unsupported: for the other backends, why not.
    """

    name: str
    keras_format: str
    suffix: str
    runtime: str
    served_by: str
    backends: dict
    unsupported: dict


FORMATS = {
    "onnx": ExportFormat(
        name="onnx",
        keras_format="onnx",
        suffix=".onnx",
        runtime="onnxruntime",
        served_by="onnxruntime",
        backends={
            "tensorflow": ("onnx", "tf2onnx"),
            "jax": ("onnx", "jax2onnx"),
            "torch": ("onnx",),
        },
        unsupported={},
    ),
    "saved_model": ExportFormat(
        name="saved_model",
        keras_format="tf_saved_model",
        suffix="",
        runtime="tensorflow",
        served_by="tf.saved_model.load",
        backends={"tensorflow": (), "jax": ()},
        unsupported={
            "torch": "Keras' torch backend writes a SavedModel only through "
            "torch_xla, which dcgan_tf does not install",
        },
    ),
    "litert": ExportFormat(
        name="litert",
        keras_format="litert",
        suffix=".tflite",
        runtime="ai_edge_litert",
        served_by="the LiteRT interpreter",
        backends={"tensorflow": ()},
        unsupported={
            "jax": "Keras converts to LiteRT from TensorFlow or torch only",
            "torch": "Keras' torch backend converts to LiteRT only through "
            "litert-torch, which dcgan_tf does not install",
        },
    ),
}

# Where a module is missing, how to install it (the extras of setup.cfg).
INSTALL = {
    "onnx": EXTRA_INSTALL,
    "tf2onnx": EXTRA_INSTALL,
    "onnxruntime": EXTRA_INSTALL,
    "ai_edge_litert": EXTRA_INSTALL,
    "jax2onnx": JAX_EXTRA_INSTALL,
    "tensorflow": "pip install -e .",
}


class MissingDependency(ValueError):
    """A module an export needs is not installed; the message says what to
    install."""


def check_supported(name: str, backend: str) -> ExportFormat:
    """The format `name`, if Keras exports it on `backend`.

    Raises:
        ValueError: for an unknown format, or one this backend cannot
            export, saying which backend can.
    """
    if name not in FORMATS:
        raise ValueError(f"Unknown export format {name!r}; use {', '.join(FORMATS)}.")
    export_format = FORMATS[name]
    if backend not in export_format.backends:
        why = export_format.unsupported.get(backend, "Keras does not export it")
        able = " or ".join(f"--backend {b}" for b in export_format.backends)
        raise ValueError(
            f"The {name} export does not run on the {backend} backend ({why}); "
            f"run it with {able} (a generator's .keras file is the same on "
            "every backend)."
        )
    return export_format


def check_dependencies(export_format: ExportFormat, backend: str) -> None:
    """Refuses, before any work, an export whose converter or runtime is
    not installed (or does not import).

    Raises:
        MissingDependency: `the onnx export needs onnxruntime: pip install ...`.
    """
    # The runtime first: every backend's export of the format needs it.
    needed = (export_format.runtime, *export_format.backends[backend])
    for module in needed:
        try:
            importlib.import_module(module)
        except ImportError:
            where = "" if module == export_format.runtime else f" on {backend}"
            raise MissingDependency(
                f"the {export_format.name} export{where} needs {module}: "
                f"{INSTALL.get(module, 'pip install ' + module)}"
            ) from None


def input_signature(model) -> list:
    """The `input_signature` of `Model.export` for a generator: its latents
    `(batch, latent_dim)`, named `latents`, and for a conditional one its
    classes `(batch, num_classes)`, named `classes`, any batch size.

    A conditional generator is called on one list `[latents, classes]`, which
    Keras' signature writes as a list in a list.
    """
    import keras

    specs = [
        keras.InputSpec(shape=(None, x.shape[-1]), dtype="float32", name=name)
        for x, name in zip(model.inputs, ("latents", "classes"))
    ]
    return [specs] if len(specs) > 1 else specs


def export_model(model, path, export_format: ExportFormat) -> None:
    """Writes `model` to `path` in `export_format` with Keras' `Model.export`.

    Raises:
        Whatever the converter raises: a bug or a layer it cannot convert.
    """
    with warnings.catch_warnings():
        # Keras' own numpy 2 patch of tf2onnx touches `np.object`; torch's
        # tracer warns that a shape is taken as a constant. What a trace
        # might get wrong, the round trip checks.
        warnings.filterwarnings("ignore", message=".*np.object.*")
        warnings.filterwarnings("ignore", message=".*trace might not generalize.*")
        model.export(
            str(path),
            format=export_format.keras_format,
            verbose=False,
            input_signature=input_signature(model),
        )
    if export_format.name == "onnx":
        inline_external_data(path)


def inline_external_data(path) -> None:
    """Folds into the `.onnx` file the tensors a converter wrote beside it.

    jax2onnx writes every tensor above 1 MiB to `NAME.onnx.data` next to the
    file (ONNX's external data), which a user copying the one file would
    lose; a generator is far below protobuf's 2 GB, so it fits in one file.
    """
    import onnx
    from onnx.external_data_helper import uses_external_data

    path = Path(path)
    model = onnx.load(str(path), load_external_data=False)
    sidecars = {
        entry.value
        for tensor in model.graph.initializer
        if uses_external_data(tensor)
        for entry in tensor.external_data
        if entry.key == "location"
    }
    if not sidecars:
        return
    onnx.save_model(onnx.load(str(path)), str(path), save_as_external_data=False)
    for name in sidecars:
        (path.parent / name).unlink()
