#!/usr/bin/env bash
# The speed table of docs/speed.md: every backend at every preset, one bench run each.
# Usage: benchmarks/speed.sh [OUTDIR]   (default benchmarks/results/speed)
set -euo pipefail
out=${1:-benchmarks/results/speed}
mkdir -p "$out"
export OMP_WAIT_POLICY=PASSIVE
for preset in "fashion_mnist" "cifar10" "folder --image-size 64"; do
  name=${preset%% *}
  steps=30; block=10
  if [[ $name == folder ]]; then steps=20; block=5; fi
  for backend in tensorflow torch jax; do
    echo "== $backend $preset  load: $(cut -d' ' -f1-3 /proc/loadavg)"
    # shellcheck disable=SC2086
    python -m dcgan_tf.bench --backend "$backend" --synthetic --dataset $preset \
      --steps $steps --block $block --json "$out/${backend}_${name}.json"
  done
done
