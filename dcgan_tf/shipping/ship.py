"""Shipping a trained run as a preset: its generator copied into a preset
folder, measured, with its model card and sample grid.

`ship` is the library behind the maintainer's tool `benchmarks/ship_preset.py`
(a maintainer's, not a command of the package: it writes into the package's
own data folder, which an installed package's users never change). It:

- copies the run's `generator.keras` byte for byte (it is the sampling
  generator alone, never compiled, so it holds no optimiser state: the
  weights and the architecture, nothing more), and checks that the copy
  draws exactly the run's images on fixed latents; with `discriminator`, the
  run's newest checkpoint's D is saved beside it (for `represent`);
- copies the run's `config.json` without what only the shipping machine
  knows (`run_dir`, `data_dir`), so that sampling reads its latent
  distribution, data set and seed as in a run;
- measures FID, KID and IS with `dcgan_tf.quality.evaluation.evaluate` (what
  `python -m dcgan_tf.evaluate` runs) on the data set's shipped classifier;
- measures the card's quick check (`dcgan_tf.shipping.check`): the same
  figures at small sample counts on the repository's real samples, with
  their spread over seeds, which a test measures again;
- measures FID along the run's kept generators (`generator_epoch_NNNN.keras`,
  `CURVE_SAMPLES` samples each): the curve that says whether the run trained
  long enough;
- draws `samples.png` (64 samples, latents of seed `SAMPLES_SEED`: what
  `python -m dcgan_tf.generate NAME --num 64 --seed 0` draws), and writes
  `card.json` and `card.md` (`dcgan_tf.shipping.cards`).

Everything is written into a hidden staging folder beside the preset and
renamed into place at the end, so the registry never lists a half-shipped
preset.
"""

import dataclasses
import datetime
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np

from dcgan_tf.presets import registry
from dcgan_tf.shipping import cards, check

SAMPLES_SEED = 0
SAMPLES_COUNT = 64
# What `python -m dcgan_tf.evaluate` measures by default: 10,000 samples.
NUM_SAMPLES = 10_000
EVALUATION_SEED = 0
METRICS = ("fid", "kid", "is")
# Latents on which the copy must draw the run's images exactly.
CHECK_LATENTS = 16
# Samples of each point of the FID curve along the kept generators (at most
# the evaluation's).
CURVE_SAMPLES = 2000


def optimizer_in_archive(file) -> bool:
    """Whether a `.keras` file holds optimiser state (variables of an
    `optimizer` group in its weights), which a shipped generator needs not."""
    import h5py

    with zipfile.ZipFile(file) as archive, archive.open("model.weights.h5") as raw:
        with h5py.File(raw, "r") as weights:
            return "optimizer" in weights


def _same_images(first, second, seed: int = SAMPLES_SEED) -> bool:
    from dcgan_tf.sampling import drawing
    from dcgan_tf.sampling.latents import sample_latents

    latents = sample_latents(
        CHECK_LATENTS, first.latent_dim, seed, first.latent_distribution
    )
    return np.array_equal(
        drawing.generate(first, latents), drawing.generate(second, latents)
    )


def ship(
    run_dir,
    name: str,
    *,
    root=None,
    discriminator: bool = False,
    num_samples: int = NUM_SAMPLES,
    num_real: int | None = None,
    seed: int = EVALUATION_SEED,
    data_dir=None,
    command: str | None = None,
    machine_text: str | None = None,
    licence: str | None = None,
    replace: bool = False,
) -> Path:
    """Ships the generator of `run_dir` as the preset `name`.

    Args:
        run_dir: a run directory of `dcgan_tf.train`.
        name: the preset's name (a bare word, such as `fashion_mnist`).
        root: the folder of presets (default: the package's, `registry.ROOT`).
        discriminator: also ship the run's D (its newest checkpoint's).
        num_samples, num_real, seed: of the evaluation (`evaluate`'s).
        data_dir: where the data set is (default: the run's `data_dir`).
        command: the exact command that trained it, as run (default: one
            rebuilt from `config.json`, `cards.training_command`).
        machine_text: the machine that trained it (default: this machine's
            CPU, `dcgan_tf.system.machine`, marked as the shipping machine).
        licence: the data's licence, for a data set `cards.LICENCES` lacks.
        replace: replace a preset of that name.

    Returns:
        The preset's folder.

    Raises:
        ValueError: for a bad name, an existing preset without `replace`, a
            data set of unknown licence, or a copy that draws differently.
        dcgan_tf.rundir.RunDirError: for a folder that is not a run, or a
            run whose `generator.keras` is behind its last epoch.
    """
    import keras

    import dcgan_tf
    from dcgan_tf import rundir
    from dcgan_tf.quality.evaluation import evaluate
    from dcgan_tf.rundir import state as run_state
    from dcgan_tf.sampling import drawing
    from dcgan_tf.sampling.images import save_grid, to_uint8
    from dcgan_tf.system import files, machine

    if not registry.is_name(name):
        raise ValueError(
            f"A preset's name is a bare word (letters, digits, _ and -), got {name!r}."
        )
    run_dir = Path(run_dir)
    run = rundir.RunDir(run_dir)
    config = run.read_config()
    file = rundir.generator_file(run_dir)
    rundir.check_generator_current(file)
    data = cards.data_licence(config.dataset, licence)
    root = registry.ROOT if root is None else Path(root)
    target = root / name
    if os.path.lexists(target) and not replace:
        raise ValueError(
            f"The preset {name} exists ({target}); pass --replace to replace it."
        )
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        shutil.copyfile(file, staging / registry.GENERATOR)
        if optimizer_in_archive(staging / registry.GENERATOR):
            raise ValueError(
                f"{file} holds optimiser state, which a run's generator.keras "
                "never does; ship the run's own generator.keras."
            )
        shipped = dataclasses.replace(config, run_dir=None, data_dir=None)
        files.write_json(staging / registry.CONFIG, shipped.to_dict())
        if discriminator:
            from dcgan_tf import probe

            loaded = probe.load_discriminator(run_dir)
            files.save_model(loaded.model, staging / registry.DISCRIMINATOR)
        generator = drawing.load_generator(staging)
        if not _same_images(drawing.load_generator(run_dir), generator):
            raise ValueError(f"The copy of {file} draws other images than it.")
        record = evaluate(
            generator,
            dataset=config.dataset,
            data_dir=data_dir or config.data_dir,
            metrics=METRICS,
            num_samples=num_samples,
            num_real=num_real,
            seed=seed,
        )
        quick = None
        if config.dataset in check.DATA:
            quick = check.quick_check(generator, config.dataset)
        curve = fid_curve(
            run_dir,
            generator,
            config,
            data_dir or config.data_dir,
            min(CURVE_SAMPLES, num_samples),
        )
        samples = drawing.sample(generator, SAMPLES_COUNT, seed=SAMPLES_SEED)
        save_grid(to_uint8(samples.images), staging / registry.SAMPLES)
        epoch = run_state.generator_epoch(run_dir) or run.completed_epochs()
        evaluation = {
            "measured_by": "dcgan_tf.quality.evaluation.evaluate",
            "command": _evaluate_command(name, num_samples, num_real, seed),
            "features": record["features"],
            "real_split": record["real_split"],
            "num_samples": record["num_samples"],
            "num_real": record["num_real"],
            "seed": record["seed"],
            **{k: float(v) for k, v in record["metrics"].items()},
        }
        card = {
            "name": name,
            "generator": {
                "file": registry.GENERATOR,
                "bytes": (staging / registry.GENERATOR).stat().st_size,
                "sha256": files.sha256(staging / registry.GENERATOR),
                "parameters": int(generator.model.count_params()),
                "latent_dim": generator.latent_dim,
                "latent_distribution": generator.latent_distribution,
                "image_shape": list(generator.image_shape),
                "class_names": list(generator.class_names or []) or None,
                "optimizer_state": False,
            },
            "discriminator": (
                {
                    "file": registry.DISCRIMINATOR,
                    "bytes": (staging / registry.DISCRIMINATOR).stat().st_size,
                }
                if discriminator
                else None
            ),
            "training": {
                "command": command or cards.training_command(config),
                "command_source": (
                    "as run" if command else "rebuilt from the run's config.json"
                ),
                "dataset": config.dataset,
                "epochs": config.epochs,
                "generator_epoch": epoch,
                "seed": config.seed,
                "recipe": config.recipe,
                "batch_size": config.batch_size,
                "steps_per_epoch": config.steps_per_epoch,
                "machine": machine_text or machine.describe(machine.cpu_info()),
                "machine_source": (
                    "as given" if machine_text else "the machine that shipped it"
                ),
            },
            "data": {"dataset": config.dataset, **data},
            "evaluation": evaluation,
            "quick_check": quick,
            "curve": curve,
            "samples": {
                "file": registry.SAMPLES,
                "count": SAMPLES_COUNT,
                "seed": SAMPLES_SEED,
            },
            "shipped": {
                "date": datetime.date.today().isoformat(),
                "dcgan_tf": dcgan_tf.__version__,
                "keras": keras.__version__,
            },
        }
        files.write_json(staging / registry.CARD_JSON, card)
        files.write_text(staging / registry.CARD_MD, cards.render_markdown(card))
        old = root / f".{name}.old-{os.getpid()}"
        if os.path.lexists(target):
            os.rename(target, old)
        os.rename(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def fid_curve(run_dir, generator, config, data_dir, num_samples) -> dict:
    """FID of each kept generator of the run (`generator_epoch_NNNN.keras`)
    and of the shipped one, `num_samples` samples against the test split."""
    from dcgan_tf.quality.evaluation import evaluate
    from dcgan_tf.rundir import state as run_state
    from dcgan_tf.sampling import drawing

    files = sorted(Path(run_dir).glob("generator_epoch_[0-9][0-9][0-9][0-9].keras"))
    points = [(int(file.stem.rsplit("_", 1)[1]), file) for file in files]
    last = run_state.generator_epoch(run_dir)
    points = [(epoch, file) for epoch, file in points if epoch != last]
    fids = []
    for epoch, file in [*points, (last, None)]:
        loaded = generator if file is None else drawing.load_generator(file)
        record = evaluate(
            loaded,
            dataset=config.dataset,
            data_dir=data_dir,
            metrics=("fid",),
            num_samples=num_samples,
            seed=EVALUATION_SEED,
        )
        fids.append({"epoch": epoch, "fid": float(record["metrics"]["fid"])})
    return {"num_samples": num_samples, "seed": EVALUATION_SEED, "points": fids}


def _evaluate_command(name, num_samples, num_real, seed) -> str:
    words = [
        f"python -m dcgan_tf.evaluate {name} --metrics {' '.join(METRICS)}",
        f"--num-samples {num_samples} --seed {seed}",
    ]
    if num_real is not None:
        words.append(f"--num-real {num_real}")
    return " ".join(words)
