"""The round trip: an exported generator run by its own runtime, compared
with Keras on the same inputs.

An export is only as good as the runtime that serves it agrees with the
model that was trained, so each artifact is run where it will be served
(onnxruntime for ONNX, `tf.saved_model.load` for a SavedModel, the LiteRT
interpreter of `ai_edge_litert` for LiteRT) on fixed latents, and for a
conditional generator every class, and refused when any pixel is further
from Keras' than `TOLERANCE`.
"""

from pathlib import Path

import numpy as np

# The generator's images are float32 in [-1, 1] (tanh). A converter folds
# batch norm into the convolutions and picks other convolution algorithms,
# which move the last bits of float32 (measured, every format and backend:
# at most 2.4e-7 on a conditional generator of 8 filters trained 2 epochs of
# 64 steps on the Fashion-MNIST sample, 3e-8 on fresh 28x28x1 and 64x64x3
# ones of the default 64 filters and 100-dimensional z). 1e-4 is
# far above that and far below what a user sees: one step of a saved 8-bit
# pixel is 2 / 255 = 7.8e-3, so a round trip within 1e-4 gives the same
# pixels, but for the rare value at a rounding boundary. A wrong layer or a
# lost input moves images by 1e-2 and more.
TOLERANCE = 1e-4
# Latents compared: several, so that a batch dimension fixed to 1 by the
# converter is caught; at least one per class for a conditional generator.
ROUND_TRIP_SAMPLES = 8
ROUND_TRIP_SEED = 0


class RoundTripError(Exception):
    """The exported file disagrees with Keras beyond `TOLERANCE`, or does not
    run; the message says by how much."""


def round_trip_inputs(generator) -> dict[str, np.ndarray]:
    """The fixed inputs of the round trip, by the exported inputs' names:
    `latents` (drawn from the generator's distribution) and, for a
    conditional generator, `classes` (one-hot, each class in turn)."""
    from dcgan_tf.sampling.latents import sample_latents
    from dcgan_tf.sampling.loading import resolve_labels

    count = max(ROUND_TRIP_SAMPLES, generator.num_classes or 0)
    latents = sample_latents(
        count,
        generator.latent_dim,
        ROUND_TRIP_SEED,
        generator.latent_distribution,
    )
    inputs = {"latents": latents}
    classes = resolve_labels(generator, None, (count,))
    if classes is not None:
        inputs["classes"] = classes
    return inputs


def keras_images(generator, inputs) -> np.ndarray:
    """What the Keras model makes of `inputs`, in inference mode."""
    from dcgan_tf.sampling.drawing import generate

    return generate(generator, inputs["latents"], labels=inputs.get("classes"))


def run_onnx(path, inputs) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(
        str(path), providers=["CPUExecutionProvider"]
    )
    names = [x.name for x in session.get_inputs()]
    _check_names(path, names, inputs)
    return session.run(None, {name: inputs[name] for name in names})[0]


def run_saved_model(path, inputs) -> np.ndarray:
    import tensorflow as tf
    from absl import logging

    # jax2tf's SavedModel holds custom gradients, and loading it warns that
    # they cannot be taken: the round trip takes none.
    verbosity = logging.get_verbosity()
    logging.set_verbosity(logging.ERROR)
    try:
        served = tf.saved_model.load(str(path)).signatures["serving_default"]
    finally:
        logging.set_verbosity(verbosity)
    _check_names(path, list(served.structured_input_signature[1]), inputs)
    outputs = served(**{name: tf.constant(x) for name, x in inputs.items()})
    return next(iter(outputs.values())).numpy()


def run_litert(path, inputs) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(path)).get_signature_runner()
    _check_names(path, list(runner.get_input_details()), inputs)
    return next(iter(runner(**inputs).values()))


RUNTIMES = {"onnx": run_onnx, "saved_model": run_saved_model, "litert": run_litert}


def _check_names(path, names, inputs) -> None:
    if sorted(names) != sorted(inputs):
        raise RoundTripError(
            f"The exported {Path(path).name} takes inputs {sorted(names)}, "
            f"not the generator's {sorted(inputs)}."
        )


def max_difference(expected: np.ndarray, got) -> float:
    """The largest absolute difference, `inf` for a shape that differs or a
    value that is not finite."""
    got = np.asarray(got)
    if got.shape != expected.shape or not np.isfinite(got).all():
        return float("inf")
    return float(np.max(np.abs(got.astype(np.float64) - expected)))


def round_trip(generator, format_name: str, path) -> float:
    """Runs the export at `path` with its runtime and compares it with Keras.

    Args:
        generator: the `dcgan_tf.sampling.Generator` that was exported.
        format_name: a key of `dcgan_tf.exporting.FORMATS`.
        path: the exported file (or SavedModel folder).

    Returns:
        The largest absolute difference from Keras' images.

    Raises:
        RoundTripError: for a difference above `TOLERANCE`, or images of
            another shape or not finite.
    """
    inputs = round_trip_inputs(generator)
    expected = keras_images(generator, inputs)
    try:
        got = RUNTIMES[format_name](path, inputs)
    except RoundTripError:
        raise
    except Exception as error:  # any failure: the runtime cannot serve it
        lines = str(error).strip().splitlines() or [type(error).__name__]
        raise RoundTripError(
            f"The {format_name} export does not run in its own runtime "
            f"({lines[0]}), so nothing was written."
        ) from None
    difference = max_difference(expected, got)
    if not difference <= TOLERANCE:
        shape = np.shape(got)
        if shape != expected.shape:
            what = f"images of shape {shape} for {expected.shape}"
        elif not np.isfinite(got).all():
            what = "images that are not finite (NaN or inf)"
        else:
            what = f"a largest difference of {difference:.3g}"
        raise RoundTripError(
            f"The {format_name} export disagrees with the Keras generator: "
            f"{what} on {len(expected)} fixed latents (tolerance "
            f"{TOLERANCE:g}), so nothing was written."
        )
    return difference
