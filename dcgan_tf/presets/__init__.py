"""Shipped generators, by name, like keras-hub's presets:
`load_generator("fashion_mnist")` and `python -m dcgan_tf.generate
fashion_mnist` need no training.

Each preset is a folder `NAME/` of this package: `generator.keras` (the run's
own file, no optimiser in it), the run's `config.json`, its model card
(`card.json`, and `card.md` rendered from the same dict), `samples.png` (a
grid by a fixed seed), and optionally `discriminator.keras` (for
`represent`). They are package data (setup.cfg's `package_data`), not files
of `checkpoints/`: a `pip install` copies package data, so an installed
package has them as a clone does, and `checkpoints/` is where a user's own
runs go (git ignores it), so a shipped generator there could be mistaken for,
or replaced by, a run.

Presets are read-only: commands never write into a preset's folder
(`dcgan_tf.cli.outputs` refuses it). A run directory or file of the same
name as a preset, where the command runs, wins, with a one-line note.

Its part: `registry` (which presets exist, and `locate`: an argument to a
path; it imports nothing of the project, so that `rundir` can stand on it).
Shipping a trained run as a preset is `dcgan_tf.shipping`'s.

Not to be confused with `dcgan_tf.config.PRESETS`: the data sets' training
settings (image size, epochs, ...), which share the data sets' names.
"""

from dcgan_tf.presets.registry import (
    CARD_JSON,
    CARD_MD,
    DISCRIMINATOR,
    GENERATOR,
    PRESET_FILES,
    ROOT,
    SAMPLES,
    PresetError,
    PresetShadowedWarning,
    available,
    is_complete,
    is_name,
    is_preset_folder,
    listing,
    locate,
    preset_folder,
)

__all__ = [
    "CARD_JSON",
    "CARD_MD",
    "DISCRIMINATOR",
    "GENERATOR",
    "PRESET_FILES",
    "ROOT",
    "SAMPLES",
    "PresetError",
    "PresetShadowedWarning",
    "available",
    "is_complete",
    "is_name",
    "is_preset_folder",
    "listing",
    "locate",
    "preset_folder",
]
