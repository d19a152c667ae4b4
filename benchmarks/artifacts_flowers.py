"""The artifact measure of the photographs against each other, and of the
64x64 flowers runs of issue #10 (whose generators were not kept: the 64
samples of their saved grids, `benchmarks/results/flowers/*_trained.png`).

The folder is read at 64x64 as `--dataset folder` reads it; a seeded half
(numpy's default_rng(0)) is compared with the other half, and 64-photo
subsets (as many as a grid holds) with the whole folder, to show the spread
of a 64-image figure.

    python benchmarks/artifacts_flowers.py --data-dir /tmp/flowers/flowers128 \\
        --json benchmarks/results/recipes/artifacts_photos_and_issue10.json
"""

import argparse
from pathlib import Path

import records

GRIDS = Path(__file__).parent / "results" / "flowers"


def grid_cells(path, size=64, columns=8, padding=2):
    """The images of a `dcgan_tf.sampling.images.save_grid` PNG (cells `size` wide,
    `padding` grey pixels around each)."""
    import imageio.v3 as iio
    import numpy as np

    grid = iio.imread(path)[..., :3]
    step = size + padding
    return np.stack(
        [
            grid[padding + r * step :][:size, padding + c * step :][:, :size]
            for r in range(columns)
            for c in range(columns)
        ]
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()

    import numpy as np

    from dcgan_tf.data import load_images
    from dcgan_tf.quality.artifacts import checkerboard_score

    photos = load_images("folder", args.data_dir, 64)
    order = np.random.default_rng(0).permutation(len(photos))
    half = len(photos) // 2
    reference = checkerboard_score(photos)
    subsets = [
        checkerboard_score(photos[order[i : i + 64]]) / reference
        for i in range(0, 640, 64)
    ]
    record = {
        "command": records.command(),
        "photos": len(photos),
        "photos_score": reference,
        "half_against_other_half": checkerboard_score(photos[order[:half]])
        / checkerboard_score(photos[order[half:]]),
        "64_photo_subsets_against_all": {
            "min": min(subsets),
            "max": max(subsets),
            "values": subsets,
        },
        "issue10_grids_against_all_photos": {
            path.name: checkerboard_score(grid_cells(path)) / reference
            for path in sorted(GRIDS.glob("flowers_64_*.png"))
        },
        "date": records.today(),
    }
    records.save(args.json, record, shown=record, indent=1)


if __name__ == "__main__":
    main()
