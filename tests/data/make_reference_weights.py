"""Records every variable of a few tiny DCGANs after 3 training steps, so that a
change to the model's code can be checked to train bit-identically.

For each case (`CASES`) a DCGAN is built from a resolved tiny `TrainConfig`
by `build_dcgan`, trained 3 steps by `model.fit` on a fixed synthetic data
set, and every variable's value is saved to
`tests/data/reference_weights/<backend>/<case>.npz`, keyed by the variable's
group, position and shape (`variable_values`), never by Keras' variable
paths, which a refactoring may rename. `tests/test_reference_weights.py`
trains the same way and compares bit for bit.

Run it once per backend before changing the model (it overwrites):

    KERAS_BACKEND=jax python tests/data/make_reference_weights.py
"""

import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
STEPS = 3
BATCH = 4
# Each case: the data set (its channels) and the options over the tiny base.
CASES = {
    "paper": ("fashion_mnist", {"recipe": "paper"}),
    "modern": ("fashion_mnist", {"recipe": "modern"}),
    "conditional": ("fashion_mnist", {"recipe": "paper", "conditional": True}),
    "diffaugment": (
        "cifar10",
        {"recipe": "paper", "augment": "diffaugment", "augment_flips": True},
    ),
    "ada": ("cifar10", {"recipe": "modern", "augment": "ada", "ada_kimg": 0.01}),
    "ema": ("fashion_mnist", {"recipe": "paper", "ema": 0.9}),
}


def tiny_config(case: str):
    """The resolved `TrainConfig` of `case`."""
    from dcgan_tf.config import TrainConfig

    dataset, options = CASES[case]
    config = TrainConfig(
        dataset=dataset,
        image_size=16,
        generator_filters=4,
        discriminator_filters=4,
        latent_dim=4,
        batch_size=BATCH,
        epochs=1,
        steps_per_epoch=STEPS,
        steps_per_execution=1,
        seed=5,
        **{"augment": "none", "ema": 0.0, **options},
    )
    if config.conditional:
        config = TrainConfig(**{**config.to_dict(), "class_names": ["a", "b", "c"]})
    return config.resolve()


def dataset(config):
    """A fixed `tf.data` stream of `STEPS` batches (images, and labels when
    conditional), the same on every backend."""
    import tensorflow as tf

    rng = np.random.default_rng(11)
    images = rng.uniform(-1, 1, (STEPS * BATCH, *config.image_shape))
    images = images.astype("float32")
    if config.conditional:
        labels = rng.integers(0, len(config.class_names), STEPS * BATCH)
        data = (images, labels.astype("int32"))
    else:
        data = images
    return tf.data.Dataset.from_tensor_slices(data).batch(BATCH)


def trained_model(case: str):
    """The DCGAN of `case` after `STEPS` steps of `fit`."""
    import keras

    try:
        from dcgan_tf.model import build_dcgan
    except ImportError:  # the code before dcgan_tf.model (#29) recorded them
        from dcgan_tf.gan import build_dcgan

    config = tiny_config(case)
    keras.utils.set_random_seed(config.seed)
    frequencies = np.array([0.5, 0.3, 0.2]) if config.conditional else None
    model = build_dcgan(config, class_frequencies=frequencies)
    model.fit(dataset(config), epochs=1, verbose=0, shuffle=False)
    return model


def variable_groups(model) -> dict:
    """The model's variables by what they belong to, each group in its
    owner's order (layer order for networks, Keras' order for optimisers)."""
    groups = {
        "generator": model.generator.variables,
        "discriminator": model.discriminator.variables,
        "d_optimizer": model.d_optimizer.variables,
        "g_optimizer": model.g_optimizer.variables,
        "seed": [model.seed_generator.state],
    }
    averaged = getattr(model, "ema_generator", None)
    if averaged is not None:
        groups["ema_generator"] = averaged.variables
    probability = getattr(model, "augment_probability", None)
    if probability is not None:
        groups["augment_p"] = [probability]
    return groups


def variable_values(model) -> dict:
    """`{"<group>/<index>/<shape>": value}` for every variable of `model`."""
    from keras import ops

    values = {}
    for group, variables in variable_groups(model).items():
        for index, variable in enumerate(variables):
            value = ops.convert_to_numpy(variable.value)
            shape = "x".join(map(str, value.shape)) or "scalar"
            values[f"{group}/{index:03d}/{shape}"] = value
    return values


def reference_path(backend: str, case: str) -> Path:
    return HERE / "reference_weights" / backend / f"{case}.npz"


def main():
    import keras

    backend = keras.backend.backend()
    for case in sys.argv[1:] or CASES:
        path = reference_path(backend, case)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **variable_values(trained_model(case)))
        print(f"{path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
