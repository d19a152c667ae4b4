"""The periodic-texture measure (`dcgan_tf.quality.periodic`) beside the
checkerboard one (`dcgan_tf.quality.artifacts`) on the flower photos at
128x128 against each other, and on the 64 samples of each saved 128-px grid
of `benchmarks/results/recipes/` against all the photos; the figures that
set the measure's constants (see its docstring).

The folder (../shared/data/flowers128.tar.gz, untarred) is read at 128x128
as `--dataset folder` reads it; a seeded half
(numpy's default_rng(0)) is compared with the other half, and 16- and
64-photo subsets with the whole folder.

    python benchmarks/periodic_flowers.py --data-dir /tmp/flowers/flowers128 \\
        --json benchmarks/results/recipes/periodic_photos_and_grids.json
"""

import argparse
from pathlib import Path

import records

GRIDS = Path(__file__).parent / "results" / "recipes"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()

    import numpy as np
    from artifacts_flowers import grid_cells

    from dcgan_tf.data import load_images
    from dcgan_tf.quality.artifacts import checkerboard_score
    from dcgan_tf.quality.periodic import (
        FLOOR,
        PeriodicSpectrum,
        peak_share,
        periodic_share,
    )

    photos = load_images("folder", args.data_dir, 128)
    order = np.random.default_rng(0).permutation(len(photos))
    half = len(photos) // 2

    def spectrum(images):
        meter = PeriodicSpectrum()
        for start in range(0, len(images), 256):
            meter.add(images[start : start + 256])
        return meter.spectrum()

    everything = spectrum(photos)
    share = peak_share(everything)
    checkerboard = checkerboard_score(photos)

    def ratio(x):
        return (x + FLOOR) / (share + FLOOR)

    def subsets(size, factor=3.0):
        return [
            peak_share(spectrum(photos[np.sort(order[i : i + size])]), factor)
            for i in range(0, 10 * size, size)
        ]

    record = {
        "command": records.command(),
        "photos": len(photos),
        "photos_share": share,
        "photos_share_at_factor_2": peak_share(everything, 2.0),
        "photos_rms_levels": float(
            np.sqrt(
                np.mean(
                    [
                        np.var(photos[i].astype(np.float64), axis=(0, 1)).mean()
                        for i in order[:500]
                    ]
                )
            )
        ),
        "half_against_other_half": ratio(periodic_share(photos[np.sort(order[:half])]))
        / ratio(periodic_share(photos[np.sort(order[half:])])),
        "64_photo_subsets_shares": subsets(64),
        "16_photo_subsets_shares": subsets(16),
        "64_photo_subsets_shares_at_factor_2": subsets(64, 2.0),
        "grids_against_all_photos": {},
        "date": records.today(),
    }
    for path in sorted(GRIDS.glob("flowers_128*_trained.png")):
        cells = grid_cells(path, size=128)
        record["grids_against_all_photos"][path.name] = {
            "periodic_share": periodic_share(cells),
            "periodic_ratio": ratio(periodic_share(cells)),
            "artifact_ratio": checkerboard_score(cells) / checkerboard,
        }
    records.save(args.json, record, shown=record, indent=1)


if __name__ == "__main__":
    main()
