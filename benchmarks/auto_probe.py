"""What `--jit-compile auto` measures, with more rounds: every candidate of
one preset timed as the probe times it (`dcgan_tf.training.probing.probe`,
blocks of about a second, interleaved round after round), on synthetic
images, with each round's paired ratio to the default candidate.

python benchmarks/auto_probe.py [--backend B] [--dataset D] [--image-size N]
    [--batch-size N] [--rounds 7] --json OUT

The configuration is the bench's (the paper recipe, no augmentation, no
averaged generator) unless flags say otherwise.
"""

import argparse
import os
import statistics
import time

import records


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="tensorflow")
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--image-size", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--generator-filters", type=int, default=64)
    parser.add_argument("--discriminator-filters", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", required=True)
    args = parser.parse_args(argv)
    os.environ["KERAS_BACKEND"] = args.backend

    import keras

    from dcgan_tf.cli import quiet_tensorflow
    from dcgan_tf.config import TrainConfig
    from dcgan_tf.data import synthetic_images
    from dcgan_tf.system.machine import cpu_info, describe
    from dcgan_tf.training import candidates
    from dcgan_tf.training.probing import probe

    quiet_tensorflow()
    config = TrainConfig(
        dataset=args.dataset,
        image_size=args.image_size,
        batch_size=args.batch_size,
        generator_filters=args.generator_filters,
        discriminator_filters=args.discriminator_filters,
        recipe="paper",
        augment="none",
        ema=0.0,
        steps_per_epoch=10,
    ).resolve()
    images = synthetic_images(config.batch_size * 8, config.image_shape, seed=0)
    options = candidates.candidates(config, keras.backend.backend())
    load_before = os.getloadavg()
    start = time.perf_counter()
    result = probe(config, images, options=options, rounds=args.rounds)
    default = candidates.label(options[0])
    ratios = {
        name: [d / s for d, s in zip(result["block_seconds"][default], seconds)]
        for name, seconds in result["block_seconds"].items()
    }
    record = {
        "command": records.command(),
        "date": records.today(),
        "backend": keras.backend.backend(),
        "preset": f"{config.dataset} {config.image_size} px b{config.batch_size}",
        "rates": result["rates"],
        "skipped": result["skipped"],
        "ratios_to_default_per_round": ratios,
        "steps_each": result["steps_each"],
        "seconds": time.perf_counter() - start,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "cpu": describe(cpu_info()),
        "versions": {"keras": keras.__version__},
    }
    print(f"{record['preset']}, {record['backend']}, {args.rounds} rounds")
    for name, rate in result["rates"].items():
        low, high = min(ratios[name]), max(ratios[name])
        median = statistics.median(ratios[name])
        print(
            f"  {name}: {rate:.1f} img/s, x {default} per round: median "
            f"{median:.2f}, {low:.2f}-{high:.2f}"
        )
    for name, why in result["skipped"].items():
        print(f"  {name}: failed ({why})")
    print(f"  load {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after")
    records.save(args.json, record)


if __name__ == "__main__":
    main()
