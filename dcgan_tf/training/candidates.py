"""What `--jit-compile auto` chooses between: the ways one run's step can
execute, each the same arithmetic to float32 rounding (issue #32).

A lever is a field of `TrainConfig` that records the choice in `config.json`,
with the values `auto` may give it, its default (what runs unprobed) first.
The candidates are every combination of the values a run allows; a later
lever (thread counts, oneDNN settings) is one more entry in `LEVERS` and one
more rule in `allowed`.
"""

import itertools

LEVERS = {
    # XLA under TensorFlow and JAX (`jit_compile=True` of `Model.compile`).
    "jit_compiled": (False, True),
    # G's 4x4 stride-2 transposed convolutions as Keras computes them, or in
    # the sub-pixel form (`dcgan_tf.model.subpixel`, same weights):
    # 2.3-3.2x the JAX step, 0.94-0.98x TensorFlow's with XLA (docs/speed.md).
    "g_upsample_formulation": ("transposed", "subpixel"),
}
# Where the sub-pixel form is written for: `keras.ops` on these backends.
SUBPIXEL_BACKENDS = ("tensorflow", "jax", "torch")


def allowed(config, backend: str, strategy=None) -> dict[str, tuple]:
    """The values of each lever that this run may take, the default first.

    A flag other than `auto` pins its lever (`--jit-compile on|off`,
    `--g-formulation transposed|subpixel`). Unpinned, the step compiles
    under JAX (op by op otherwise) and not under PyTorch or a
    `tf.distribute` strategy (Keras' choices); both ways are candidates under
    TensorFlow. The sub-pixel form is one where G has transposed
    convolutions (`--upsample transposed`, the paper recipe).
    """
    if config.jit_compile != "auto":
        jit = (config.jit_compile == "on",)
    elif backend == "jax":
        jit = (True,)
    elif backend == "tensorflow" and strategy is None:
        jit = LEVERS["jit_compiled"]
    else:
        jit = (False,)
    if config.g_formulation != "auto":
        formulation = (config.g_formulation,)
    elif config.upsample == "transposed" and backend in SUBPIXEL_BACKENDS:
        formulation = LEVERS["g_upsample_formulation"]
    else:
        formulation = ("transposed",)
    return {"jit_compiled": jit, "g_upsample_formulation": formulation}


def candidates(config, backend: str, strategy=None) -> list[dict]:
    """Every combination of `allowed` values, as {field: value} settings of
    the configuration; the first is the default."""
    values = allowed(config, backend, strategy)
    return [
        dict(zip(values, combination))
        for combination in itertools.product(*values.values())
    ]


def label(settings: dict) -> str:
    """A candidate as the probe's line names it: 'compiled, sub-pixel'
    (compiled: XLA under TensorFlow and JAX, torch.compile under PyTorch)."""
    compiled = "compiled" if settings["jit_compiled"] else "not compiled"
    formulation = {"transposed": "transposed", "subpixel": "sub-pixel"}
    return f"{compiled}, {formulation[settings['g_upsample_formulation']]}"
