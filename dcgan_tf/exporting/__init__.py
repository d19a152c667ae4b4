"""Exporting a trained generator for serving: ONNX, a TensorFlow SavedModel,
LiteRT (TFLite).

`python -m dcgan_tf.export` is its command. `formats`: which formats each
Keras backend exports and what each needs installed, and the export itself
(Keras' own `Model.export`); `round_trip`: the exported file run by its own
runtime (onnxruntime, `tf.saved_model.load`, the LiteRT interpreter) on fixed
latents and compared with Keras; `writing`: where an export may go, and the
export written beside it, checked, then renamed into place.

Nothing here imports Keras at import time, so that the command's `--help`
and its flag errors answer at once.
"""

from dcgan_tf.exporting.formats import (
    EXTRA_INSTALL,
    FORMATS,
    ExportFormat,
    check_dependencies,
    check_supported,
)
from dcgan_tf.exporting.round_trip import (
    ROUND_TRIP_SAMPLES,
    ROUND_TRIP_SEED,
    TOLERANCE,
    RoundTripError,
)
from dcgan_tf.exporting.writing import (
    Exported,
    artifact_size,
    check_out,
    export_generator,
)

__all__ = [
    "EXTRA_INSTALL",
    "FORMATS",
    "ROUND_TRIP_SAMPLES",
    "ROUND_TRIP_SEED",
    "TOLERANCE",
    "ExportFormat",
    "Exported",
    "RoundTripError",
    "artifact_size",
    "check_dependencies",
    "check_out",
    "check_supported",
    "export_generator",
]
