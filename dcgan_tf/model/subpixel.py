"""The paper's 4x4 stride-2 transposed convolution in its sub-pixel form.

`keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same")` maps
an n x n map to 2n x 2n. Its 'same' padding (as TensorFlow's
`conv2d_transpose` and PyTorch's `ConvTranspose2d(..., 4, 2, padding=1)`)
is the gradient of a stride-2 convolution padded by 1 on each side, so, per
dimension, with W the kernel along that dimension:

    out[2m]     = x[m - 1] W[3] + x[m] W[1]
    out[2m + 1] = x[m] W[2]     + x[m + 1] W[0]

Each output phase r in {0, 1} is a 2-tap correlation with the taps
`W[3 - r], W[1 - r]`, phase 0 over (x[m - 1], x[m]) and phase 1 over
(x[m], x[m + 1]). With the input padded by 1 on each side, one stride-1
2x2 convolution producing 4 * filters channels (one group per phase
(ry, rx)) computes all four phases on an (n + 1) x (n + 1) grid; phase
(ry, rx) is that group's window starting at (ry, rx), and interleaving the
four (depth-to-space) gives the 2n x 2n output: the same sums as the
transposed convolution, no multiplication by an inserted zero, from the
same kernel variable of shape (4, 4, filters, in) as Keras stores it.

`"phases"` computes the four phases as four 2x2 convolutions instead, each
over exactly the rows and columns it needs. Written in `keras.ops` only, so
it runs on every backend and under jit.
"""

import functools

import keras
from keras import ops

KERNEL_SIZE = 4
STRIDE = 2
MODES = ("fused", "phases")


def _phase_kernels(kernel):
    """(4, 4, out, in) -> (2 ty, 2 ry, 2 tx, 2 rx, in, out): per phase
    (ry, rx), the 2x2 correlation kernel over taps (ty, tx).

    Along each dimension the flipped kernel is (W[3], W[2], W[1], W[0]),
    whose element 2 t + r is W[3 - 2t - r]: phase 0's taps (W[3], W[1]),
    phase 1's (W[2], W[0]). A flip and a reshape, not a gather, so the
    kernel's gradient is a dense tensor like Conv2DTranspose's.
    """
    kernel = ops.flip(ops.flip(kernel, axis=0), axis=1)
    out_channels, in_channels = kernel.shape[2], kernel.shape[3]
    kernel = ops.reshape(kernel, (2, 2, 2, 2, out_channels, in_channels))
    return ops.transpose(kernel, (0, 1, 2, 3, 5, 4))


def subpixel_conv2d_transpose(inputs, kernel, mode="fused"):
    """What `Conv2DTranspose(out, 4, strides=2, padding="same",
    use_bias=False)` computes with `kernel`, channels last.

    Args:
        inputs: (batch, n, n, in) (square or not).
        kernel: (4, 4, out, in), as `Conv2DTranspose.kernel`.
        mode: "fused" (one 2x2 convolution to 4 * out channels over the
            input padded by 1, then depth-to-space) or "phases" (four 2x2
            convolutions, one per output phase).

    Returns:
        (batch, 2n, 2n, out).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}.")
    shape = ops.shape(inputs)
    batch, height, width = shape[0], shape[1], shape[2]
    out_channels = kernel.shape[2]
    sub = _phase_kernels(kernel)  # (ty, ry, tx, rx, in, out)
    padded = ops.pad(inputs, ((0, 0), (1, 1), (1, 1), (0, 0)))
    if mode == "fused":
        # (ty, tx, in, ry, rx, out) -> (2, 2, in, 4 out)
        fused = ops.transpose(sub, (0, 2, 4, 1, 3, 5))
        fused = ops.reshape(fused, (2, 2, kernel.shape[3], 4 * out_channels))
        grid = ops.conv(padded, fused, strides=1, padding="valid")
        # (batch, n + 1, n + 1, 4 out) -> one window per phase
        grid = ops.reshape(grid, (batch, height + 1, width + 1, 2, 2, out_channels))
        rows = [
            ops.stack(
                [
                    grid[:, ry : ry + height, rx : rx + width, ry, rx, :]
                    for rx in range(2)
                ],
                axis=3,
            )
            for ry in range(2)
        ]
    else:
        rows = [
            ops.stack(
                [
                    ops.conv(
                        padded[:, ry : ry + height + 1, rx : rx + width + 1, :],
                        sub[:, ry, :, rx],
                        strides=1,
                        padding="valid",
                    )
                    for rx in range(2)
                ],
                axis=3,
            )
            for ry in range(2)
        ]
    # (batch, n, 2 rx, n, out) per ry -> (batch, n, 2 ry, n, 2 rx, out)
    # depth-to-space: out[2m + ry, 2k + rx] = phase (ry, rx) at (m, k)
    phases = ops.stack(rows, axis=2)
    return ops.reshape(phases, (batch, 2 * height, 2 * width, out_channels))


def applies_to(layer) -> bool:
    """Whether `layer` is a transposed convolution the sub-pixel form
    computes: 4x4, stride 2, 'same', channels last, no dilation, no groups."""
    return (
        isinstance(layer, keras.layers.Conv2DTranspose)
        and tuple(layer.kernel_size) == (KERNEL_SIZE, KERNEL_SIZE)
        and tuple(layer.strides) == (STRIDE, STRIDE)
        and layer.padding == "same"
        and layer.data_format == "channels_last"
        and tuple(layer.dilation_rate) == (1, 1)
        and layer.output_padding is None
    )


def transposed_output(layer, inputs, mode="fused"):
    """`layer(inputs)` for a `Conv2DTranspose` that `applies_to`, in the
    sub-pixel form, from the layer's own kernel and bias."""
    outputs = subpixel_conv2d_transpose(inputs, layer.kernel, mode)
    if layer.use_bias:
        outputs = outputs + layer.bias
    if layer.activation is not None:
        outputs = layer.activation(outputs)
    return outputs


# Layers with fewer output channels keep the transposed op: G's `to_image`
# (3 channels) measured 0.1-0.8x in the sub-pixel forms (docs/speed.md).
MIN_FILTERS = 4


def use_subpixel(model, mode="phases", min_filters=MIN_FILTERS) -> list[str]:
    """Makes `model`'s paper transposed convolutions compute in the
    sub-pixel form, from their own variables; returns the layers' names.

    Only the layers' `call` changes (an attribute of each instance): the
    variables, their values, the layers' configs and what a saved model
    holds stay those of `Conv2DTranspose`, so checkpoints are unchanged and
    a model saved after this loads as the plain one. The outputs equal the
    transposed convolution's to float32 rounding (`tests/test_subpixel.py`).
    Call it before the model's step is traced.

    Args:
        model: a Keras model (e.g. the generator), searched layer by layer,
            nested models included.
        mode: "phases" or "fused" (`subpixel_conv2d_transpose`).
        min_filters: layers with fewer output channels are left alone.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}.")
    names = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if applies_to(layer) and layer.filters >= min_filters:
            layer.call = functools.partial(transposed_output, layer, mode=mode)
            names.append(layer.name)
    return names
