"""The paper's supervised baseline (Radford et al. 2015, §5.2, table 2): the
same discriminator architecture, freshly initialised, trained on the labelled
draw alone to classify, early-stopped on the same validation split that
chooses the linear classifier's C.
"""

import dataclasses

import keras
import numpy as np

from dcgan_tf.probe.block_features import to_float
from dcgan_tf.probe.discriminator import image_input
from dcgan_tf.probe.linear import VALIDATION_FRACTION, split_validation


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A small recipe for a small labelled set: Adam, a dropout before the
    softmax layer, early stopping on validation accuracy (best weights kept)."""

    learning_rate: float = 1e-3
    batch_size: int = 64
    max_epochs: int = 100
    patience: int = 10
    dropout: float = 0.5


def build_classifier(
    discriminator: keras.Model, num_classes: int, seed: int, dropout: float = 0.5
):
    """D's convolutional blocks (fresh weights) and a softmax layer on its
    flattened last feature map, in place of the real/fake logit."""
    keras.utils.set_random_seed(seed)
    fresh = keras.models.clone_model(discriminator)
    images = image_input(fresh)
    flat = fresh.get_layer("flatten").output  # (batch, start * start * width)
    dropped = keras.layers.Dropout(dropout, name="dropout")(flat)
    logits = keras.layers.Dense(num_classes, name="classes")(dropped)
    return keras.Model(images, logits, name="supervised_discriminator")


def train_supervised(
    discriminator: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    seed: int,
    recipe: Recipe | None = None,
    fraction: float = VALIDATION_FRACTION,
):
    """Trains D's architecture on the labelled draw only.

    Args:
        discriminator: the D whose architecture to copy (its weights unused).
        images: uint8 labelled training images (the draw).
        labels: their int classes.
        num_classes: classes of the data set.
        seed: seed of the weights, the order and the validation split (the
            linear probe's split for the same seed).
        recipe: the training recipe (default: `Recipe()`).
        fraction: share of each class held out for early stopping.

    Returns:
        The trained Keras classifier (images to class logits) at its best
        validation epoch.
    """
    recipe = recipe or Recipe()
    fit, held = split_validation(labels, seed, fraction)
    model = build_classifier(discriminator, num_classes, seed, recipe.dropout)
    model.compile(
        optimizer=keras.optimizers.Adam(recipe.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    stop = keras.callbacks.EarlyStopping(
        monitor="val_accuracy",
        patience=recipe.patience,
        restore_best_weights=True,
    )
    _fit(
        model,
        to_float(images[fit]),
        labels[fit],
        (to_float(images[held]), labels[held]),
        batch_size=recipe.batch_size,
        epochs=recipe.max_epochs,
        callbacks=[stop],
    )
    return model


def _fit(model, x, y, validation, **options):
    """Keras' fit on the fitting images, validated on the held-out ones: the
    only place the network sees images (the leak test records it)."""
    model.fit(x, y, validation_data=validation, verbose=0, **options)


def predict_classes(model, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The class the model gives each uint8 image."""
    logits = model.predict(to_float(images), batch_size=batch_size, verbose=0)
    return np.argmax(logits, axis=1)
