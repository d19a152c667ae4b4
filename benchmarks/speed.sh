#!/usr/bin/env bash
# The speed table of docs/speed.md: each preset at each ISA level this CPU has (avx2, and
# avx512 where it has it, through `bench --max-isa`), every backend, each run timing the
# eager and the torch.compile'd PyTorch peer beside it. TensorFlow runs twice: with
# --jit-compile auto (train's default: it probes both ways, `dcgan_tf.training.execution`) and then
# with the way auto did not choose, so the table shows whether auto chose the faster.
# 32 runs on a CPU with AVX-512 (16 with AVX2 only). Not 30 minutes: each run's fixed costs
# (imports, graph, XLA and torch.compile compilation, warm-up) dominate, so fewer steps do not
# shorten it. Estimated from short runs on the 2-core development machine while loaded
# (load average 6): a TensorFlow run at 28x28 with 10 steps 2 minutes, JAX 1.7 minutes, at
# 128x128 with 2 steps 6 minutes; so about 1.5-2 hours there, expect about half quiet.
# Usage: benchmarks/speed.sh [OUTDIR]   (default benchmarks/results/speed)
# Scaled down for a check, through the environment:
#   SPEED_PRESETS="fashion_mnist" SPEED_LEVELS="avx2" SPEED_BACKENDS="tensorflow"
#   SPEED_STEPS="2 1" (timed steps and block of every run) benchmarks/speed.sh /tmp/speed
set -euo pipefail
out=${1:-benchmarks/results/speed}
mkdir -p "$out"
export OMP_WAIT_POLICY=PASSIVE
levels=${SPEED_LEVELS:-$(python -c \
  'from dcgan_tf import machine; print(*machine.supported_levels())')}
presets=${SPEED_PRESETS:-"fashion_mnist cifar10 folder64 biked"}
backends=${SPEED_BACKENDS:-"tensorflow torch jax"}
declare -A flags=(
  [fashion_mnist]="--dataset fashion_mnist"           # 28x28 b128
  [cifar10]="--dataset cifar10"                       # 32x32 b128
  [folder64]="--dataset folder --image-size 64"       # 64x64 b64
  [biked]="--dataset biked"                           # 128x128 b64
)
# Timed steps and block per preset: 2 rounds, so each ratio has a spread.
declare -A steps=([fashion_mnist]="10 5" [cifar10]="10 5" [folder64]="4 2" [biked]="2 1")
for level in $levels; do
  for preset in $presets; do
    read -r count block <<<"${SPEED_STEPS:-${steps[$preset]}}"
    for backend in $backends; do
      runs=("$backend:")
      if [[ $backend == tensorflow ]]; then runs=("tensorflow:auto" "tensorflow:other"); fi
      for run in "${runs[@]}"; do
        jit=${run#*:}; name=${level}_${preset}_${backend}
        if [[ $jit == other ]]; then  # the way --jit-compile auto did not choose
          jit=$(python -c 'import json,sys; print("off" if json.load(open(sys.argv[1]))["jit_compiled"] else "on")' "$out/${name}.json")
          name=${name}_jit_${jit}
        fi
        echo "== $level $preset $backend ${jit:+--jit-compile $jit}  load: $(cut -d' ' -f1-3 /proc/loadavg)"
        # shellcheck disable=SC2086
        python -m dcgan_tf.bench --backend "$backend" ${jit:+--jit-compile $jit} \
          --max-isa "$level" --synthetic ${flags[$preset]} --steps "$count" \
          --block "$block" --json "$out/${name}.json"
      done
    done
  done
done
