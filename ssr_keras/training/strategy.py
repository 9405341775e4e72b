"""The `tf.distribute` strategy a training run uses, from its name and `TF_CONFIG`: the one place that builds one.

    default           the current (no-op) strategy: one process, one device
    mirrored          `MirroredStrategy`: one process, every local GPU (one CPU replica without GPUs)
    multi-worker      `MultiWorkerMirroredStrategy`: every worker in `TF_CONFIG` runs the same program and
                      holds a full copy of the model; gradients are all-reduced each step
    parameter-server  `ParameterServerStrategy`: the `chief` task runs the program (the coordinator),
                      `worker` tasks run the steps, `ps` tasks hold the variables; every variable of at
                      least `MIN_SHARD_BYTES` (the embedding tables) is split row-wise over the ps tasks

`TF_CONFIG` is TensorFlow's own JSON (`{"cluster": {"worker": ["host:port", ...], "ps": [...],
"chief": [...]}, "task": {"type": "worker", "index": 0}}`). With "parameter-server" the `worker` and
`ps` tasks only serve (`serve_forever`): every process is started with the same command and
`is_server_task` tells them apart, the way TensorFlow's own examples run.

Example:

>>> strategy = build_strategy("default")
>>> strategy.num_replicas_in_sync, is_chief("default")
(1, True)
>>> build_strategy("ring")
Traceback (most recent call last):
...
ValueError: strategy must be one of ['default', 'mirrored', 'multi-worker', 'parameter-server']. Received: 'ring'
"""

from __future__ import annotations

import collections
import json
import os
import re
from typing import Any, Callable, Dict, Mapping

import tensorflow as tf
import tf_keras as keras

STRATEGIES = ("default", "mirrored", "multi-worker", "parameter-server")
# Strategies whose process runs alongside other processes named in TF_CONFIG.
CLUSTER_STRATEGIES = ("multi-worker", "parameter-server")
# Parameter-server sharding: a variable is split into shards of at least this many bytes (at most one
# per ps task), so embedding tables are sharded and small dense kernels stay whole.
MIN_SHARD_BYTES = 64 << 10
# The TF_CONFIG task types that only serve under "parameter-server".
SERVER_TASK_TYPES = ("worker", "ps")
TF_CONFIG = "TF_CONFIG"
# How ParameterServerStrategy names the shards of a partitioned variable: ".../embeddings/part_1:0".
_SHARD_NAME = re.compile(r"/part_\d+(?=:\d+$)")


def read_tf_config(environ: Mapping[str, str] | None = None) -> Dict[str, Any]:
    """`TF_CONFIG` as a dict ({} when unset); a ValueError names a malformed value."""
    text = (os.environ if environ is None else environ).get(TF_CONFIG, "")
    if not text.strip():
        return {}
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{TF_CONFIG} must be JSON ({error}). Received: {text!r}") from None
    if not isinstance(config, dict) or not isinstance(config.get("cluster", {}), dict):
        raise ValueError(f'{TF_CONFIG} must be a JSON object {{"cluster": {{...}}, "task": {{...}}}}. '
                         f"Received: {text!r}")
    return config


def _check_name(name: str) -> None:
    if name not in STRATEGIES:
        raise ValueError(f"strategy must be one of {list(STRATEGIES)}. Received: {name!r}")


def _check_cluster(name: str, config: Mapping[str, Any]) -> None:
    """The task types `name` needs are in TF_CONFIG's cluster, and the task is one of them."""
    cluster = config.get("cluster", {})
    needed = ("worker",) if name == "multi-worker" else ("chief", "worker", "ps")
    missing = [task_type for task_type in needed if not cluster.get(task_type)]
    if missing:
        raise ValueError(f"strategy {name!r} needs {TF_CONFIG} with cluster task type(s) {missing} "
                         f"(e.g. {{\"cluster\": {{\"worker\": [\"host:port\", ...]}}, \"task\": "
                         f"{{\"type\": \"worker\", \"index\": 0}}}}). Received: {json.dumps(dict(config)) or 'unset'}")
    task = config.get("task", {})
    task_type, index = task.get("type"), task.get("index", 0)
    if task_type not in cluster or not isinstance(index, int) or not 0 <= index < len(cluster[task_type]):
        raise ValueError(f"{TF_CONFIG} task must name a task of its cluster ({sorted(cluster)}). Received: {task!r}")


def build_strategy(name: str, environ: Mapping[str, str] | None = None,
                   min_shard_bytes: int = MIN_SHARD_BYTES) -> tf.distribute.Strategy:
    """The strategy called `name` (`STRATEGIES`), for the cluster in `TF_CONFIG`.

    Build the model (and compile it) under `strategy.scope()`. Call this once per process, before any
    other TensorFlow op runs (multi-worker and parameter-server configure the process's runtime).

    Args:
        name: "default", "mirrored", "multi-worker" or "parameter-server".
        environ: where to read `TF_CONFIG` (default `os.environ`).
        min_shard_bytes: parameter-server only: smallest shard of a variable split over the ps tasks.
    """
    _check_name(name)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    config = read_tf_config(environ)
    _check_cluster(name, config)
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    if name == "multi-worker":
        return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
    num_ps = len(config["cluster"]["ps"])
    partitioner = tf.distribute.experimental.partitioners.MinSizePartitioner(
        min_shard_bytes=min_shard_bytes, max_shards=num_ps)
    # Workers that fail are retried by the coordinator instead of failing the whole call.
    os.environ.setdefault("GRPC_FAIL_FAST", "use_caller")
    return tf.distribute.ParameterServerStrategy(resolver, variable_partitioner=partitioner)


def is_server_task(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process is a parameter-server `worker`/`ps` task (it serves, it does not train)."""
    _check_name(name)
    if name != "parameter-server":
        return False
    config = read_tf_config(environ)
    _check_cluster(name, config)
    return config["task"]["type"] in SERVER_TASK_TYPES


def serve_forever(environ: Mapping[str, str] | None = None) -> None:
    """Runs this process's `worker` or `ps` task of a parameter-server cluster until it is killed."""
    config = read_tf_config(environ)
    _check_cluster("parameter-server", config)
    os.environ.setdefault("GRPC_FAIL_FAST", "use_caller")
    task = config["task"]
    server = tf.distribute.Server(tf.train.ClusterSpec(config["cluster"]), job_name=task["type"],
                                  task_index=task.get("index", 0), protocol="grpc", start=True)
    server.join()


def is_chief(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process writes the run's outputs: the one process, the `chief`, or worker 0 without one."""
    _check_name(name)
    if name not in CLUSTER_STRATEGIES:
        return True
    config = read_tf_config(environ)
    _check_cluster(name, config)
    task_type, index = config["task"]["type"], config["task"].get("index", 0)
    if task_type == "chief":
        return True
    return task_type == "worker" and index == 0 and not config["cluster"].get("chief")


def task_name(name: str, environ: Mapping[str, str] | None = None) -> str:
    """This process's task as "type-index" ("chief-0", "worker-1"), or "local" outside a cluster."""
    if name not in CLUSTER_STRATEGIES:
        return "local"
    task = read_tf_config(environ).get("task", {})
    return f"{task.get('type', 'local')}-{task.get('index', 0)}"


def training_input(strategy: tf.distribute.Strategy,
                   dataset_fn: Callable[[tf.distribute.InputContext], tf.data.Dataset]) -> Any:
    """What `model.fit(x=...)` takes under `strategy`: the dataset, or a `DatasetCreator` for parameter servers.

    Under "parameter-server" each worker builds its own copy with `dataset_fn` (which must repeat, with
    `steps_per_epoch` given to `fit`); elsewhere Keras distributes the dataset itself, split by batch
    across workers (DATA auto-sharding: the CSV sources are single files).

    Args:
        strategy: from `build_strategy`.
        dataset_fn: input context -> batches of the global batch size.
    """
    if isinstance(strategy, tf.distribute.ParameterServerStrategy):
        return keras.utils.experimental.DatasetCreator(dataset_fn)
    return data_sharded(dataset_fn(tf.distribute.InputContext()))


def data_sharded(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """`dataset` split across multi-worker workers by batch (DATA auto-sharding), not by file.

    Keras's default (FILE) fails on our single-file CSV splits with 2+ workers ("Could not apply FILE
    based sharding: the dataset only has 1 file(s)"); outside a multi-worker strategy this changes nothing.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def variable_shards(model: keras.Model) -> Dict[str, int]:
    """Variable name -> number of shards, for the model's variables split over parameter servers (else {})."""
    shards: Dict[str, int] = collections.Counter()
    for variable in model.variables:
        for part in getattr(variable, "variables", None) or [variable]:  # a ShardedVariable, or its parts
            if _SHARD_NAME.search(part.name):
                shards[_SHARD_NAME.sub("", part.name)] += 1
    return dict(shards)


def report_replica_metrics(model: keras.Model) -> keras.Model:
    """Makes `fit`/`evaluate` report the first replica's metrics instead of their sum across replicas.

    The ranking task's metrics (AUC, log loss) are synchronised across replicas, so each replica
    already holds the global value; Keras's default ("auto": "sum" outside TPUs) would report N times
    it under multi-worker (an AUC of 1.7 with 2 workers). The logged `loss` is then the first replica's
    share of the global-batch mean (1/N of it with N replicas). No effect in one process.
    """
    model.distribute_reduction_method = "first"
    return model
