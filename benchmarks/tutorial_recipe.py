"""The TensorFlow DCGAN tutorial's recipe, as the quality baseline for dcgan_tf.

Trains the tutorial's networks with its loop (5x5 kernels, a stride-1 first
block, dropout in D, Adam 1e-4, batch 256, G and D updated simultaneously from
one tape pair) on Fashion-MNIST for a number of epochs, then saves the
generator so that `python -m dcgan_tf.evaluate` can measure it beside a
dcgan_tf run trained for the same number of epochs:

    python benchmarks/tutorial_recipe.py --epochs 5 --out checkpoints/tutorial-5
    python -m dcgan_tf.evaluate checkpoints/tutorial-5/generator.keras \
        --dataset fashion_mnist --features classifier --num-samples 10000

The networks and loop restate the tutorial's published code in Keras 3.
"""

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from dcgan_tf.data import load_images
from dcgan_tf.sampling.images import save_grid, to_uint8

NOISE_DIM = 100
BATCH_SIZE = 256


def tutorial_generator():
    return keras.Sequential(
        [
            keras.Input((NOISE_DIM,)),
            layers.Dense(7 * 7 * 256, use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Reshape((7, 7, 256)),
            layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(
                1, 5, strides=2, padding="same", use_bias=False, activation="tanh"
            ),
        ],
        name="tutorial_generator",
    )


def tutorial_discriminator():
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(64, 5, strides=2, padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Conv2D(128, 5, strides=2, padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Flatten(),
            layers.Dense(1),
        ],
        name="tutorial_discriminator",
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5, help="Epochs to train.")
    parser.add_argument("--data-dir", help="Where Fashion-MNIST's IDX files are.")
    parser.add_argument("--out", required=True, help="Directory to write into.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the run.")
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    images = load_images("fashion_mnist", data_dir=args.data_dir)
    data = (
        tf.data.Dataset.from_tensor_slices(images)
        .shuffle(60000, seed=args.seed)
        .batch(BATCH_SIZE)
        .map(lambda x: (tf.cast(x, tf.float32) - 127.5) / 127.5)
        .prefetch(tf.data.AUTOTUNE)
    )
    generator, discriminator = tutorial_generator(), tutorial_discriminator()
    g_optimizer, d_optimizer = keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4)
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def train_step(real):
        noise = tf.random.normal([tf.shape(real)[0], NOISE_DIM])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(noise, training=True)
            real_out = discriminator(real, training=True)
            fake_out = discriminator(fake, training=True)
            g_loss = cross_entropy(tf.ones_like(fake_out), fake_out)
            d_loss = cross_entropy(tf.ones_like(real_out), real_out) + cross_entropy(
                tf.zeros_like(fake_out), fake_out
            )
        g_vars, d_vars = (
            generator.trainable_variables,
            discriminator.trainable_variables,
        )
        g_optimizer.apply(g_tape.gradient(g_loss, g_vars), g_vars)
        d_optimizer.apply(d_tape.gradient(d_loss, d_vars), d_vars)
        return d_loss, g_loss

    log = []
    fixed = np.random.default_rng(args.seed).standard_normal((64, NOISE_DIM))
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        for batch in data:
            d_loss, g_loss = train_step(batch)
        seconds = time.perf_counter() - start
        log.append(
            {
                "epoch": epoch,
                "seconds": seconds,
                "d_loss": float(d_loss),
                "g_loss": float(g_loss),
            }
        )
        print(json.dumps(log[-1]), flush=True)
        grid = to_uint8(generator(fixed.astype("float32"), training=False))
        save_grid(grid, out / f"epoch_{epoch:04d}.png")
    generator.save(out / "generator.keras")
    (out / "log.json").write_text(json.dumps(log, indent=2))


if __name__ == "__main__":
    main()
