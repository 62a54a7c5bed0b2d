"""Where the training runs: the tf.distribute strategy and the numeric precision per device.

- `TF_CONFIG` set (several machines, as on Vertex AI) -> MultiWorkerMirroredStrategy
- several GPUs -> MirroredStrategy
- otherwise the default strategy (one device)

`is_chief` tells the one process of a cluster that writes the shared outputs.

Precision `auto`: GPUs train in mixed float16 (bfloat16 on Ampere and newer), CPUs with native
bfloat16 instructions (AVX512_BF16 / AMX) in mixed bfloat16, other CPUs in float32.
"""

from __future__ import annotations

import json
import os

import keras
import tensorflow as tf


def choose_strategy() -> tf.distribute.Strategy:
    tf_config = os.environ.get("TF_CONFIG", "")
    if tf_config:
        cluster = json.loads(tf_config).get("cluster", {})
        if sum(len(v) for v in cluster.values()) > 1:
            return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief(env: dict | None = None) -> bool:
    """Whether this process writes the shared outputs (checkpoints, summaries) of a run.

    True without TF_CONFIG; with it, for the `chief` (or `master`) task, or for worker 0 when
    the cluster has no chief (as with local multi-worker runs). Vertex AI names its first
    worker pool `chief`. The other workers should write to a folder of their own.
    """
    env = os.environ if env is None else env
    text = env.get("TF_CONFIG", "")
    if not text:
        return True
    config = json.loads(text)
    task = config.get("task", {})
    task_type, index = task.get("type", ""), int(task.get("index", 0))
    if task_type in ("chief", "master"):
        return True
    cluster = config.get("cluster", {})
    has_chief = bool(cluster.get("chief") or cluster.get("master"))
    return task_type == "worker" and index == 0 and not has_chief


def cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_has_bfloat16() -> bool:
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def gpu_has_bfloat16(gpu) -> bool:
    details = tf.config.experimental.get_device_details(gpu)
    return tuple(details.get("compute_capability", (0, 0))) >= (8, 0)


def choose_precision(setting: str = "auto") -> str:
    """The Keras dtype policy name for a precision setting."""
    if setting != "auto":
        return setting
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return "mixed_bfloat16" if gpu_has_bfloat16(gpus[0]) else "mixed_float16"
    return "mixed_bfloat16" if cpu_has_bfloat16() else "float32"


def apply_precision(policy: str) -> str:
    keras.mixed_precision.set_dtype_policy(policy)
    return policy


def per_replica_batch_size(global_batch_size: int, strategy: tf.distribute.Strategy) -> int:
    """The global batch split across replicas; it must divide evenly."""
    replicas = strategy.num_replicas_in_sync
    if global_batch_size % replicas:
        raise ValueError(
            f"batch_size {global_batch_size} does not split evenly across {replicas} replicas; "
            f"use a multiple of {replicas}"
        )
    return global_batch_size // replicas
