"""The speed table of docs/speed.md from `benchmarks/speed.sh`'s records.

python benchmarks/speed_table.py benchmarks/results/speed/*.json
"""

import json
import sys
from pathlib import Path

PATHS = {"fit": "dcgan_tf fit", "loop": "minimal loop", "peer": "plain PyTorch (peer)"}
ORDER = {"fashion_mnist": 0, "cifar10": 1, "folder": 2}


def rows(record: dict):
    shape = "x".join(map(str, record["image_shape"]))
    preset = f"{record['dataset']} {shape} b{record['batch_size']}"
    load = record["load_average_before"][0]
    for key, label in PATHS.items():
        path = record["paths"].get(key)
        if path is None:
            continue
        if key != "peer":
            label += f", {record['backend']}"
        rounds = path["over_peer_per_round"]
        spread = f"{min(rounds):.2f}-{max(rounds):.2f}" if key != "peer" else "-"
        yield (
            f"| {preset} | {label} | {path['images_per_second']:.1f} "
            f"| {path['over_peer']:.2f} | {spread} "
            f"| {record['flops_per_image'] / 1e9:.3f} "
            f"| {path['fraction_of_ceiling']:.2f} | {load:.1f} |"
        )


def main(paths):
    records = [json.loads(Path(p).read_text()) for p in paths]
    records.sort(key=lambda r: (ORDER.get(r["dataset"], 9), r["backend"]))
    print(
        "| preset | path | img/s | / peer | / peer, each round | GFLOP/img "
        "| fraction of matmul ceiling | load before |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for record in records:
        for line in rows(record):
            if "(peer)" in line and record["backend"] != "tensorflow":
                continue  # the peer once per preset, from the TensorFlow run
            print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
