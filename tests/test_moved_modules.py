"""The old import paths of modules that moved into `dcgan_tf/model/` (#29)
still import, with their public names, and give the module at its new home."""

import importlib
import subprocess
import sys

import pytest

import dcgan_tf

PUBLIC_NAMES = {
    "dcgan_tf.gan": ["DCGAN", "build_dcgan", "class_frequencies", "METRIC_NAMES"],
    "dcgan_tf.networks": ["build_generator", "build_discriminator", "LabelEmbedding"],
    "dcgan_tf.layers": ["SpectralConv2D", "MinibatchStddev", "ClassStddev"],
    "dcgan_tf.losses": ["discriminator_loss", "generator_loss", "adversarial_losses"],
    "dcgan_tf.augment": ["draw", "apply", "ada_probability", "Augmenter"],
    "dcgan_tf.ema": ["AveragedGenerator"],
    "dcgan_tf.steps": ["train_step"],
    "dcgan_tf.distribute": ["make_strategy", "replicas", "is_chief"],
}


def test_every_moved_module_is_in_the_table():
    assert set(PUBLIC_NAMES) == set(dcgan_tf.MOVED_MODULES)


@pytest.mark.parametrize("old", sorted(PUBLIC_NAMES))
def test_an_old_path_imports_its_public_names(old):
    module = importlib.import_module(old)
    assert module is importlib.import_module(dcgan_tf.MOVED_MODULES[old])
    assert module.__spec__.name == dcgan_tf.MOVED_MODULES[old]
    for name in PUBLIC_NAMES[old]:
        assert hasattr(module, name), f"{old}.{name}"


def test_old_from_imports_work_in_a_fresh_process():
    code = (
        "from dcgan_tf.gan import DCGAN, build_dcgan\n"
        "from dcgan_tf.networks import build_generator\n"
        "from dcgan_tf.steps.jax_state import JAXStateMixin\n"
        "from dcgan_tf import augment\n"
        "import dcgan_tf.model.networks as new\n"
        "assert build_generator is new.build_generator\n"
        "assert augment.Augmenter\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_file_is_left_at_an_old_path():
    from pathlib import Path

    root = Path(dcgan_tf.__file__).parent
    for old in dcgan_tf.MOVED_MODULES:
        relative = old.split(".", 1)[1]
        assert not (root / f"{relative}.py").exists()
        assert not (root / relative).exists()
