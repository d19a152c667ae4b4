"""Where one training step spends its time under Keras' torch and JAX backends.

python benchmarks/profile_backends.py --backend torch --json OUT.json
python benchmarks/profile_backends.py --backend jax --json OUT.json

Builds the preset's networks (default Fashion-MNIST: 28x28, batch 128),
warms up the backend's minimal loop (`dcgan_tf.speed.loops`, the step `fit`
runs) and profiles a few steps. torch: `torch.profiler`, the ops by self CPU
time, the share in layout ops (permute, transpose, contiguous, copy_) and in
copies of 4-D batch-first tensors (activations: Keras' NHWC convolutions
transposed to PyTorch's NCHW and back) against the convolutions themselves.
JAX: a `jax.profiler` trace (Perfetto JSON), XLA's CPU thunks by HLO op
category. On a loaded machine the shares within one
profile mean something; absolute times do not.
"""

import argparse
import collections
import gzip
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import records

# Layout work around convolutions (torch op names).
LAYOUT_OPS = ("aten::permute", "aten::transpose", "aten::contiguous", "aten::copy_")
LAYOUT_OPS += ("aten::clone", "aten::_to_copy", "aten::t", "aten::as_strided")
CONVOLUTION = re.compile(r"conv|mkldnn", re.IGNORECASE)


def build(backend, dataset, dump):
    os.environ["KERAS_BACKEND"] = backend
    if backend == "jax":  # XLA's optimised HLO, to name each profiled op
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = f"{flags} --xla_dump_to={dump}".strip()
    import keras

    from dcgan_tf.config import TrainConfig
    from dcgan_tf.model import build_dcgan
    from dcgan_tf.speed.loops import MinimalLoop

    config = TrainConfig(dataset=dataset, augment="none", ema=0.0).resolve()
    config.validate()
    keras.utils.set_random_seed(0)
    model = build_dcgan(config)
    shape = (config.batch_size, *config.image_shape)
    images = keras.random.uniform(shape, -1, 1, seed=1)
    return config, MinimalLoop(model), images


def shares(times: dict) -> list[dict]:
    total = sum(times.values()) or 1.0
    ordered = sorted(times.items(), key=lambda item: -item[1])
    return [
        {"name": name, "seconds": seconds, "share": seconds / total}
        for name, seconds in ordered
    ]


def profile_torch(loop, images, steps, dump):
    import torch

    activities = [torch.profiler.ProfilerActivity.CPU]
    with torch.profiler.profile(activities=activities, record_shapes=True) as p:
        for _ in range(steps):
            losses = loop.step(images)
        float(losses[0])
    events = p.key_averages()
    # Copies of activations (4-D, batch first), as layout changes around the
    # convolutions make them; the optimiser's assigns copy weights instead.
    batch = images.shape[0]
    activation_copies = sum(
        e.self_cpu_time_total / 1e6
        for e in p.key_averages(group_by_input_shape=True)
        if e.key == "aten::copy_"
        and e.input_shapes
        and len(e.input_shapes[0]) == 4
        and e.input_shapes[0][0] == batch
    )
    self_times = {e.key: e.self_cpu_time_total / 1e6 for e in events}
    counts = {e.key: e.count for e in events}
    total = sum(self_times.values())
    layout = sum(t for name, t in self_times.items() if name in LAYOUT_OPS)
    convolution = sum(
        t
        for name, t in self_times.items()
        if CONVOLUTION.search(name) and name not in LAYOUT_OPS
    )
    top = shares(self_times)[:20]
    for row in top:
        row["calls_per_step"] = counts[row["name"]] / steps
    return {
        "top_ops_by_self_cpu": top,
        "layout_copy_share": layout / total,
        "activation_copy_share": activation_copies / total,
        "layout_ops": {n: self_times[n] / total for n in LAYOUT_OPS if n in self_times},
        "convolution_share": convolution / total,
        "profiled_seconds_per_step": total / steps,
    }


def _category(name: str) -> str:
    """An HLO instruction's category from its name ("convolution.12" -> ...)."""
    base = re.sub(r"[._]\d+$", "", name.split("/")[-1])
    base = re.sub(r"(\.\d+)+$", "", base)
    if "fusion" in base:
        return "fusion (elementwise, reductions)"
    return base or name


def _hlo_lines(dump) -> dict:
    """Each instruction's line in XLA's optimised HLO, by name."""
    lines = {}
    for path in Path(dump).glob("*cpu_after_optimizations.txt"):
        for line in path.read_text().splitlines():
            match = re.match(r"\s*(?:ROOT )?%?([\w.\-]+) = (.*)", line)
            if match:
                lines.setdefault(match.group(1), match.group(2)[:400])
    return lines


def profile_jax(loop, images, steps, dump):
    import jax

    with tempfile.TemporaryDirectory() as folder:
        with jax.profiler.trace(folder, create_perfetto_trace=True):
            for _ in range(steps):
                losses = loop.step(images)
            float(losses[0])
        trace = next(Path(folder).rglob("perfetto_trace.json.gz"))
        events = json.loads(gzip.decompress(trace.read_bytes()))
    events = events["traceEvents"] if isinstance(events, dict) else events
    threads = {}
    for event in events:
        if event.get("ph") == "M" and event.get("name") == "thread_name":
            threads[(event["pid"], event["tid"])] = event["args"]["name"]
    by_name, by_category = collections.Counter(), collections.Counter()
    for event in events:
        if event.get("ph") != "X":
            continue
        name = event["name"]
        # XLA's CPU thunks carry the HLO instruction's name.
        if not re.match(r"^[a-z][a-z_\-]*[.\d]*$", name) or name.startswith("thunk"):
            continue
        seconds = event.get("dur", 0) / 1e6
        by_name[name] += seconds
        by_category[_category(name)] += seconds
    total = sum(by_category.values())
    top = shares(dict(by_name))[:20]
    hlo = _hlo_lines(dump)
    for row in top:
        row["hlo"] = hlo.get(row["name"], "")
        # Its operands' lines: XLA keeps the source op's name on them when the
        # instruction itself lost it.
        operands = re.findall(r"%([\w.\-]+)", row["hlo"].split("),")[0])
        row["operands"] = {name: hlo.get(name, "") for name in operands}
    return {
        "hlo_categories": shares(dict(by_category)),
        "top_hlo_ops": top,
        "profiled_seconds_per_step": total / steps,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("torch", "jax"), required=True)
    parser.add_argument("--dataset", default="fashion_mnist", help="The preset.")
    parser.add_argument("--steps", type=int, default=3, help="Profiled steps.")
    parser.add_argument("--json", required=True, help="Where to write the profile.")
    args = parser.parse_args(argv)
    dump = tempfile.mkdtemp(prefix="profile_hlo_")
    config, loop, images = build(args.backend, args.dataset, dump)
    for _ in range(2):  # compile and warm up outside the profile
        float(loop.step(images)[0])
    start = time.perf_counter()
    for _ in range(args.steps):
        losses = loop.step(images)
    float(losses[0])
    seconds = (time.perf_counter() - start) / args.steps
    profile = {"torch": profile_torch, "jax": profile_jax}[args.backend]
    result = {
        "command": records.command(),
        "backend": args.backend,
        "dataset": config.dataset,
        "image_shape": list(config.image_shape),
        "batch_size": config.batch_size,
        "seconds_per_step_unprofiled": seconds,
        "load_average": os.getloadavg(),
        **profile(loop, images, args.steps, dump),
    }
    from dcgan_tf.system.machine import cpu_info

    result["cpu"] = cpu_info()
    shutil.rmtree(dump, ignore_errors=True)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    shown = {k: v for k, v in result.items() if not isinstance(v, list)}
    records.save(args.json, result, shown=shown)


if __name__ == "__main__":
    main()
