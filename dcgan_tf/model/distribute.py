"""Data-parallel training with `tf.distribute` (`--strategy`), TensorFlow only.

The model is built and compiled inside `strategy.scope()`; Keras' `fit` then
splits each global batch between the replicas and sums their gradients. The
train step (`dcgan_tf.model.steps.tensorflow_step`) keeps that equal to one device
training on the whole global batch.

A multi-worker run is launched by starting the same command on every machine
with `TF_CONFIG` naming the cluster and this machine's place in it. Every
worker runs every callback (prediction for the sample grid is distributed
too), but only the chief writes the run directory; the others write to a
scratch directory that is deleted at the end.
"""

import json
import os

import keras

from dcgan_tf.config import STRATEGIES


def make_strategy(name: str):
    """Returns the `tf.distribute` strategy called `name`, or None for "none".

    A multi-worker strategy must be made before TensorFlow runs any op, so
    call this first.

    Args:
        name: "none", "mirrored" (every local GPU, else every logical CPU
            device; one CPU unless the process split it) or "multiworker"
            (the cluster in the `TF_CONFIG` environment variable).

    Returns:
        A `tf.distribute.Strategy`, or None.

    Raises:
        ValueError: for an unknown name, a backend other than TensorFlow, or
            "multiworker" without `TF_CONFIG`.
    """
    if name not in STRATEGIES:
        raise ValueError(f"--strategy must be one of {', '.join(STRATEGIES)}.")
    if name == "none":
        return None
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"--strategy {name} needs the TensorFlow backend, not "
            f"{keras.backend.backend()!r}; unset KERAS_BACKEND."
        )
    import tensorflow as tf

    if name == "mirrored":
        devices = tf.config.list_logical_devices(
            "GPU"
        ) or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if "TF_CONFIG" not in os.environ:
        raise ValueError(
            "--strategy multiworker reads the cluster from TF_CONFIG, which is not "
            "set; see docs/backends.md."
        )
    try:
        json.loads(os.environ["TF_CONFIG"])
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON: {error}.") from None
    return tf.distribute.MultiWorkerMirroredStrategy()


def replicas(strategy) -> int:
    """How many replicas share each global batch (1 without a strategy)."""
    return 1 if strategy is None else int(strategy.num_replicas_in_sync)


def is_chief(strategy) -> bool:
    """Whether this process writes the run directory: always, except on the
    workers of a multi-worker cluster other than its chief (TF_CONFIG's
    "chief" task, or worker 0 when there is none)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    cluster = resolver.cluster_spec().as_dict()
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker"
        and resolver.task_id == 0
        and "chief" not in cluster
    )


def shard_by_batch(dataset, strategy):
    """Lets every worker of a multi-worker run take its share of each global
    batch from the same stream.

    `make_dataset` is a pure function of the seed, so every worker builds the
    same stream; sharding by data (not by files, of which there are none)
    splits each global batch between the workers' replicas.
    """
    if not is_multiworker(strategy):
        return dataset
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA
    )
    return dataset.with_options(options)


def is_multiworker(strategy) -> bool:
    """Whether `strategy` spans several processes."""
    resolver = getattr(strategy, "cluster_resolver", None)
    return resolver is not None and bool(resolver.task_type)
