"""Using a trained generator: loading it, drawing latents and images from it.

`python -m dcgan_tf.generate`, `interpolate`, `neighbours` and `explore` are
its commands. `loading`: `load_generator`, the one loader of a saved
generator, checked, with its run's settings (`model_files`: its `.keras`
file read and checked); `latents`: latents in numpy (drawing, slerp, walks;
`latent_files`: the `.npz` latent files); `drawing`: `sample`,
`generate`, `interpolate`, `walk`; `images`: uint8 conversion, grids, GIFs.

The names of `drawing` are imported on first use, so that a command's
`--help` loads no Keras.
"""

import importlib

_PUBLIC = {
    "Generator",
    "Samples",
    "as_generator",
    "check_generator",
    "class_index",
    "generate",
    "interpolate",
    "interpolate_classes",
    "load_generator",
    "resolve_labels",
    "sample",
    "walk",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'dcgan_tf.sampling' has no attribute {name!r}")
    return getattr(importlib.import_module("dcgan_tf.sampling.drawing"), name)
