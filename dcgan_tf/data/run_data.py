"""A training run's images (and labels) as its configuration names them: the
data set, or synthetic images for a dry run."""

import numpy as np

from dcgan_tf.config import TrainConfig
from dcgan_tf.data import CLASS_NAMES, load_images, load_labeled, synthetic_images


def load_run_data(config: TrainConfig, dry_run=False):
    """`(images, labels, class_names)`: the labels and the data's class names
    (for a run that is not conditional, None and the recorded `class_names`).

    Raises:
        ValueError: when a resumed run's recorded classes differ from the data's.
    """
    if not config.conditional:
        return load_run_images(config, dry_run), None, config.class_names
    if dry_run:
        images = load_run_images(config, dry_run)
        # Synthetic blobs: ten "classes", named as the data set's are.
        names = CLASS_NAMES.get(config.dataset) or [f"class{i}" for i in range(10)]
        labels = np.arange(len(images)) % len(names)
    else:
        images, labels, names = load_labeled(
            config.dataset,
            data_dir=config.data_dir,
            image_size=config.image_size,
            fit=config.fit,
        )
    names = [str(name) for name in names]
    if config.class_names is not None and list(config.class_names) != names:
        raise ValueError(
            f"The run was trained on the classes {', '.join(config.class_names)} "
            f"but the data now has {', '.join(names)}; point --data-dir at its data."
        )
    return images, labels, names


def load_run_images(config: TrainConfig, dry_run=False) -> np.ndarray:
    """The run's images as uint8 NHWC at the configured size."""
    if dry_run:
        count = config.batch_size * config.steps_per_epoch
        return synthetic_images(count, config.image_shape, seed=config.seed)
    return load_images(
        config.dataset,
        data_dir=config.data_dir,
        image_size=config.image_size,
        fit=config.fit,
    )
