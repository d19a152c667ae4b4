"""Trains the five-species flowers classifier whose features measure FID on
the folder benchmarks (issues #10 and #19); kept with the benchmarks, not
shipped.

The network and recipe are the shipped classifiers' (`build_classifier`,
`fit_classifier`: Adam with cosine decay, shifts, flips). A fixed random
share of the photos (numpy's default_rng(0)) is held out to measure the
accuracy, centre-cropped to 64x64 squares as `--dataset folder` reads them;
the rest trains.

With `--copies N` (issue #19) the training set is N augmented views of each
training photo, drawn once before training: a random crop of the photo's
centre square (`--min-area` to all of it, aspect 3:4 to 4:3) resized to the
image size with antialiasing, a random horizontal flip and a random colour
change (brightness, contrast and saturation; no hue shift, since colour tells
roses from sunflowers). `fit_classifier` then adds its own shifts and flips.
Without it (`--copies 0`) the photos are the centre crops, as in issue #10.

    python benchmarks/flowers_classifier.py --data-dir /tmp/flowers/flowers128 \\
        --copies 10 --epochs 3 \\
        --out benchmarks/results/flowers/classifier_augmented.weights.h5
"""

import argparse
from pathlib import Path

import records


def augmented_views(images, copies, size, min_area, seed):
    """`copies` random views of each image (uint8, `(copies * n, size, size, c)`).

    Args:
        images: uint8 `(n, h, w, c)` squares, larger than `size` or equal.
        copies: views per image.
        size: side of the views.
        min_area: smallest share of the square a crop covers.
        seed: seed of numpy's generator that draws the crops and colours.
    """
    import numpy as np
    import tensorflow as tf  # crop_and_resize: one batched call per chunk.

    rng = np.random.default_rng(seed)
    n, side = len(images), images.shape[1]
    out = np.empty((copies * n, size, size, images.shape[3]), np.uint8)
    chunk = 256
    for copy in range(copies):
        for start in range(0, n, chunk):
            batch = images[start : start + chunk].astype(np.float32) / 255.0
            m = len(batch)
            area = rng.uniform(min_area, 1.0, m)
            aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3), m))
            h = np.minimum(np.sqrt(area / aspect), 1.0)
            w = np.minimum(np.sqrt(area * aspect), 1.0)
            y0, x0 = rng.uniform(0, 1 - h), rng.uniform(0, 1 - w)
            boxes = np.stack([y0, x0, y0 + h, x0 + w], 1).astype(np.float32)
            # Crop at full resolution, then downscale with antialiasing, as the
            # folder reader's resize does.
            x = tf.image.crop_and_resize(batch, boxes, np.arange(m), (side, side))
            x = tf.image.resize(x, (size, size), antialias=True).numpy()
            flip = rng.uniform(size=m) < 0.5
            x[flip] = x[flip, :, ::-1]
            # (m, 1, 1, 1) factors: brightness +-0.15, contrast and saturation
            # 0.75 to 1.25.
            shape = (m, 1, 1, 1)
            grey = x.mean(axis=3, keepdims=True)
            x = grey + rng.uniform(0.75, 1.25, shape) * (x - grey)
            mean = x.mean(axis=(1, 2, 3), keepdims=True)
            x = mean + rng.uniform(0.75, 1.25, shape) * (x - mean)
            x = x + rng.uniform(-0.15, 0.15, shape)
            row = copy * n + start
            out[row : row + m] = np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True, help="flowers128/ folder.")
    parser.add_argument("--out", required=True, help="A .weights.h5 file.")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--held-out", type=int, default=550)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--copies", type=int, default=0, help="Augmented views.")
    parser.add_argument("--min-area", type=float, default=0.35)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import numpy as np

    from dcgan_tf.data import load_labeled
    from dcgan_tf.quality.classifiers import fit_classifier, save_classifier

    images, labels, classes = load_labeled(
        "folder", args.data_dir, image_size=args.image_size
    )
    order = np.random.default_rng(0).permutation(len(images))
    test, train = order[: args.held_out], np.sort(order[args.held_out :])
    train_images, train_labels = images[train], labels[train]
    if args.copies:
        # The full centre squares (128 px for flowers128), cropped from.
        large = load_labeled("folder", args.data_dir, image_size=2 * args.image_size)
        train_images = augmented_views(
            large[0][train], args.copies, args.image_size, args.min_area, args.seed
        )
        train_labels = np.tile(train_labels, args.copies)
        print(f"{len(train_images)} augmented views of {len(train)} photos")
    model, accuracy = fit_classifier(
        (train_images, train_labels),
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
        "command": records.command(),
        "classes": list(classes),
        "train_images": int(len(train)),
        "augmented_views_per_image": args.copies,
        "min_crop_area": args.min_area if args.copies else None,
        "held_out_images": int(len(test)),
        "held_out_accuracy": accuracy,
        "epochs": args.epochs,
        "date": records.today(),
    }
    json_path = Path(out).with_name(Path(out).name.replace(".weights.h5", ".json"))
    records.save(json_path, record, shown=record)


if __name__ == "__main__":
    main()
