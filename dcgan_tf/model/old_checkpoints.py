"""Checkpoints of the DCGAN written before the model held its parts (#29):
their weights files mapped to today's variable paths, so that runs made
before then resume and load. `DCGAN.load_weights` reads through here.
"""

from pathlib import Path

import h5py

# Checkpoints written before the model held its parts (#29) kept ADA's p
# among the model's own variables and the averaged generator as
# `ema_generator`: each old place in the weights file and its place now.
OLD_CHECKPOINT_PATHS = {
    "vars": "augmenter/vars",
    "ema_generator": "averaged_generator/generator",
}


def is_old_checkpoint(path: Path) -> bool:
    """Whether the weights file at `path` was written before the model held
    its parts (ADA's p among the model's own variables, or an `ema_generator`)."""
    with h5py.File(path, "r") as stored:
        return "ema_generator" in stored or len(stored.get("vars", ())) > 0


def map_old_checkpoint(source: Path, target: Path) -> None:
    """Copies the weights file `source` to `target` with each group of
    `OLD_CHECKPOINT_PATHS` moved to its new place."""
    with h5py.File(source, "r") as old, h5py.File(target, "w") as new:
        for key, value in old.attrs.items():
            new.attrs[key] = value
        for name in old:
            new_name = OLD_CHECKPOINT_PATHS.get(name, name)
            if name == "vars" and not len(old[name]):
                new_name = name
            old.copy(old[name], new, name=new_name)
        new.require_group("vars")
