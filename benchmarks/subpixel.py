"""Conv2DTranspose against its sub-pixel form on the 64-px generator's layers.

python benchmarks/subpixel.py [--batch 64] [--repeats 7] [--max-isa avx2] --json OUT

For each of the 64-px G's transposed convolutions (4x4, stride 2, 'same',
no bias: 512->256 4->8, 256->128 8->16, 128->64 16->32, 64->3 32->64; G's
first layer is a Dense projection, not a transposed convolution), times on
TensorFlow, under `tf.function` without and with XLA (`jit_compile`), the
forward pass and forward + backward (input and kernel gradients of
sum(y^2)) of the Keras layer and of `dcgan_tf.model.subpixel`'s forms
("fused", "phases") from the same kernel variable. Each repeat runs every
cell once, the variants of a cell next to each other in a rotating order;
the record keeps each cell's median ms and the median over repeats of the
paired ratio transposed / variant (> 1: the variant is faster). `--max-isa`
caps the libraries' ISA before TensorFlow loads (`dcgan_tf.system.machine`).
`--backend jax`: the same cells under `jax.jit` (XLA, named "jax");
`--image-size 28`: the 28-px Fashion-MNIST G's layers instead (batch 128
is that preset's).

`--step`: instead, the whole training step (`DCGAN.train_step`, one G
forward and backward, D on real and fake) of the 64-px folder preset
with the paper recipe (28: the Fashion-MNIST preset)
(`--image-size`), without and with XLA, as built and with
`subpixel.use_subpixel(generator, mode)` for each mode, each model from the
same initial weights; median img/s and paired speedups as above.
"""

import argparse
import os
import statistics
import sys
import time

import records

# (name, in channels, out channels, input side): pytorch/examples' 64-px G.
LAYERS = {
    64: [
        ("G2 512->256 4->8", 512, 256, 4),
        ("G3 256->128 8->16", 256, 128, 8),
        ("G4 128->64 16->32", 128, 64, 16),
        ("G5 64->3 32->64", 64, 3, 32),
    ],
    # The 28-px Fashion-MNIST G (its first layer is also a projection).
    28: [("G2 128->64 7->14", 128, 64, 7), ("G3 64->1 14->28", 64, 1, 14)],
}
VARIANTS = ("transposed", "fused", "phases")


def _jax_functions(keras, subpixel, cin, cout, side, batch):
    """The same cells under JAX: `jax.jit` of the forward and of the
    gradients (always XLA)."""
    import jax
    import jax.numpy as jnp

    inputs = jax.random.normal(jax.random.PRNGKey(0), (batch, side, side, cin))
    kernel = 0.02 * jax.random.normal(jax.random.PRNGKey(1), (4, 4, cout, cin))
    functions = {}
    for variant in VARIANTS:

        def call(x, k, variant=variant):
            if variant == "transposed":
                return keras.ops.conv_transpose(x, k, strides=2, padding="same")
            return subpixel.subpixel_conv2d_transpose(x, k, variant)

        forward = jax.jit(call)
        backward = jax.jit(
            jax.grad(lambda x, k, call=call: jnp.sum(call(x, k) ** 2), (0, 1))
        )
        functions[("fwd", variant)] = lambda f=forward: jax.block_until_ready(
            f(inputs, kernel)
        )
        functions[("fwd+bwd", variant)] = lambda f=backward: jax.block_until_ready(
            f(inputs, kernel)
        )
    for function in functions.values():
        function()
    return functions


def _functions(tf, keras, subpixel, cin, cout, side, batch, jit):
    layer = keras.layers.Conv2DTranspose(
        cout, 4, strides=2, padding="same", use_bias=False
    )
    inputs = tf.random.normal((batch, side, side, cin))
    layer.build(inputs.shape)
    functions = {}
    for variant in VARIANTS:

        def call(x, variant=variant):
            if variant == "transposed":
                return layer(x)
            return subpixel.transposed_output(layer, x, variant)

        @tf.function(jit_compile=jit)
        def forward(x, call=call):
            return call(x)

        @tf.function(jit_compile=jit)
        def backward(x, call=call):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = call(x)
                loss = tf.reduce_sum(y * y)
            return tape.gradient(loss, [x, layer.kernel])

        functions[("fwd", variant)] = lambda f=forward: f(inputs).numpy()
        functions[("fwd+bwd", variant)] = lambda f=backward: [
            g.numpy() for g in f(inputs)
        ]
    for function in functions.values():  # trace and compile
        function()
    return functions


def _layer_rows(tf, keras, subpixel, args, machine):
    layers = [
        spec
        for spec in LAYERS[args.image_size]
        if not args.layers or any(spec[0].startswith(p) for p in args.layers)
    ]
    cells = {}
    for name, cin, cout, side in layers:
        if args.backend == "jax":
            functions = _jax_functions(keras, subpixel, cin, cout, side, args.batch)
            for (kind, variant), function in functions.items():
                cells[(name, "jax", kind, variant)] = function
            continue
        for jit in (False, True):
            functions = _functions(
                tf, keras, subpixel, cin, cout, side, args.batch, jit
            )
            for (kind, variant), function in functions.items():
                cells[(name, "xla" if jit else "tf", kind, variant)] = function
    groups = list(dict.fromkeys(key[:3] for key in cells))
    loads = [machine.load_average()]
    times = _interleaved(cells, groups, VARIANTS, args.repeats)
    loads.append(machine.load_average())
    rows = []
    for name, compiler, kind in groups:
        base = times[(name, compiler, kind, "transposed")]
        row = {"layer": name, "compiler": compiler, "pass": kind}
        for variant in VARIANTS:
            own = times[(name, compiler, kind, variant)]
            row[f"{variant}_ms"] = round(statistics.median(own), 3)
            if variant != "transposed":
                ratios = [b / t for b, t in zip(base, own, strict=True)]
                row[f"{variant}_speedup"] = round(statistics.median(ratios), 3)
        rows.append(row)
        print(row, flush=True)
    return rows, loads


def _interleaved(cells, groups, variants, repeats):
    times = {key: [] for key in cells}
    for repeat in range(repeats):
        for group in groups:
            shift = repeat % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                start = time.perf_counter()
                cells[(*group, variant)]()
                times[(*group, variant)].append(1000 * (time.perf_counter() - start))
    return times


def _wait(keras, outputs):
    """The step's losses as numpy: waits for the step to finish."""
    if isinstance(outputs, dict):
        outputs = outputs.values()
    return [keras.ops.convert_to_numpy(value) for value in outputs]


def _step_rows(tf, keras, subpixel, args):
    from dcgan_tf.config import TrainConfig
    from dcgan_tf.model import build_dcgan
    from dcgan_tf.speed.loops import MinimalLoop
    from dcgan_tf.system import machine

    config = TrainConfig(
        dataset="fashion_mnist" if args.image_size == 28 else "folder",
        recipe="paper",
        image_size=args.image_size,
        augment="none",
        ema=0.0,
        steps_per_epoch=10,
    ).resolve()
    images = keras.random.uniform(
        (config.batch_size, *config.image_shape), -1, 1, seed=1
    )
    cells, switched = {}, {}
    compilers = ("jax",) if tf is None else ("tf", "xla")
    for compiler in compilers:
        for variant in VARIANTS:
            keras.utils.set_random_seed(0)
            model = build_dcgan(config)
            if variant != "transposed":
                switched[variant] = subpixel.use_subpixel(model.generator, variant)
            if tf is None:  # JAX: the backend's minimal loop, one jitted step
                step = MinimalLoop(model).step
            else:
                step = tf.function(model.train_step, jit_compile=compiler == "xla")
            step(images)
            cells[("step", compiler, "step", variant)] = lambda step=step: _wait(
                keras, step(images)
            )
    groups = list(dict.fromkeys(key[:3] for key in cells))
    loads = [machine.load_average()]
    times = _interleaved(cells, groups, VARIANTS, args.repeats)
    loads.append(machine.load_average())
    rows = []
    for _, compiler, _ in groups:
        base = times[("step", compiler, "step", "transposed")]
        row = {"compiler": compiler, "batch": config.batch_size, "switched": switched}
        for variant in VARIANTS:
            own = times[("step", compiler, "step", variant)]
            row[f"{variant}_img_s"] = round(
                1000 * config.batch_size / statistics.median(own), 2
            )
            if variant != "transposed":
                ratios = [b / t for b, t in zip(base, own, strict=True)]
                row[f"{variant}_speedup"] = round(statistics.median(ratios), 3)
        rows.append(row)
        print(row, flush=True)
    return rows, loads


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--max-isa", choices=("avx2", "avx512"))
    parser.add_argument(
        "--layers", nargs="+", help="name prefixes (G2 ...), default all"
    )
    parser.add_argument("--step", action="store_true", help="time the whole step")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument(
        "--backend", default="tensorflow", choices=("tensorflow", "jax")
    )
    parser.add_argument("--json", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["KERAS_BACKEND"] = args.backend
    from dcgan_tf.system import machine

    if args.max_isa:
        try:
            machine.cap_isa(args.max_isa)
        except ValueError as error:
            print(f"subpixel.py: {error}", file=sys.stderr)
            return 2
    import keras

    if args.backend == "tensorflow":
        import tensorflow as tf
    else:
        tf = None

    from dcgan_tf.model import subpixel

    if not args.step and args.image_size not in LAYERS:
        print(
            f"subpixel.py: no layer table for --image-size {args.image_size}; "
            f"use one of {', '.join(map(str, LAYERS))} (or --step)",
            file=sys.stderr,
        )
        return 2
    if args.step:
        rows, loads = _step_rows(tf, keras, subpixel, args)
    else:
        rows, loads = _layer_rows(tf, keras, subpixel, args, machine)
    info = machine.cpu_info()
    record = {
        "command": records.command(),
        "date": records.today(),
        "cpu": {**info, "described": machine.describe(info)},
        "load_average": loads,
        "backend": args.backend,
        "framework": (tf or __import__("jax")).__version__,
        "keras": keras.__version__,
        "batch": args.batch,
        "repeats": args.repeats,
        "rows": rows,
    }
    records.save(args.json, record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
