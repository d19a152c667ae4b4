"""Trains the five-species flowers classifier whose features measure FID on
the 64x64 folder benchmark (issue #10); kept with the benchmarks, not shipped.

The network and recipe are the shipped classifiers' (`build_classifier`,
`fit_classifier`: Adam with cosine decay, shifts, flips). The photos are
centre-cropped to 64x64 squares as `--dataset folder` reads them; a fixed
random share of them (numpy's default_rng(0)) is held out to measure the
accuracy, the rest trains.

    python benchmarks/flowers_classifier.py --data-dir /tmp/flowers/flowers128 \\
        --out benchmarks/results/flowers/classifier.weights.h5
"""

import argparse
import datetime
import json
import shlex
import sys
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True, help="flowers128/ folder.")
    parser.add_argument("--out", required=True, help="A .weights.h5 file.")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--held-out", type=int, default=550)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import numpy as np

    from dcgan_tf import files
    from dcgan_tf.data import load_labeled
    from dcgan_tf.quality.classifiers import fit_classifier, save_classifier

    images, labels, classes = load_labeled(
        "folder", args.data_dir, image_size=args.image_size
    )
    order = np.random.default_rng(0).permutation(len(images))
    test, train = order[: args.held_out], np.sort(order[args.held_out :])
    model, accuracy = fit_classifier(
        (images[train], labels[train]),
        (images[test], labels[test]),
        len(classes),
        epochs=args.epochs,
        flip=True,
        seed=args.seed,
        name="flowers_classifier",
        verbose=2,
    )
    out = save_classifier(model, args.out)
    record = {
        "command": shlex.join(["python", *sys.argv]),
        "classes": list(classes),
        "train_images": int(len(train)),
        "held_out_images": int(len(test)),
        "held_out_accuracy": accuracy,
        "epochs": args.epochs,
        "date": datetime.date.today().isoformat(),
    }
    files.write_json(Path(out).with_name("classifier.json"), record)
    print(json.dumps(record))


if __name__ == "__main__":
    main()
