"""What the last run of a pipeline did, read back from its ML Metadata store.

After `LocalDagRunner().run(...)`, `summarize_last_run` reports each component's execution (ran or
cached, and how long it took), the Evaluator's metrics and verdict, and where the Pusher put the model.
The CLI prints it; the benchmark records the per-component times.

Example:

>>> summary = summarize_last_run("runs/frappe/metadata.sqlite", "ssr")  # doctest: +SKIP
>>> summary.blessed, summary.pushed_path, summary.metrics["auc"]  # doctest: +SKIP
(True, 'runs/frappe/serving/ssr/1795412825', 0.97)
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List

import tensorflow_model_analysis as tfma
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

_STATES = {
    metadata_store_pb2.Execution.COMPLETE: "ran",
    metadata_store_pb2.Execution.CACHED: "cached",
    metadata_store_pb2.Execution.FAILED: "failed",
    metadata_store_pb2.Execution.RUNNING: "running",
    metadata_store_pb2.Execution.CANCELED: "canceled",
}


@dataclasses.dataclass(frozen=True)
class ComponentRun:
    """One component's execution in a pipeline run.

    Args:
        component: the node id, e.g. "Trainer".
        state: "ran", "cached", "failed", ...
        seconds: execution time recorded in ML Metadata (publication minus registration).
    """

    component: str
    state: str
    seconds: float


@dataclasses.dataclass(frozen=True)
class RunSummary:
    """The outcome of a pipeline run.

    Args:
        run_id: the `pipeline_run` context name (the run's start time).
        components: executions in the order they were registered.
        metrics: the candidate model's overall TFMA metrics (metric name -> value).
        blessed: whether the Evaluator blessed the model (None if it did not run).
        pushed_path: where the Pusher copied the model, None when it did not push.
    """

    run_id: str
    components: List[ComponentRun]
    metrics: Dict[str, float]
    blessed: bool | None
    pushed_path: str | None


def _store(metadata_path: str) -> metadata_store.MetadataStore:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = metadata_path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return metadata_store.MetadataStore(config)


def summarize_last_run(metadata_path: str, pipeline_name: str) -> RunSummary:
    """Summarizes the most recent run of `pipeline_name` recorded in the SQLite store `metadata_path`.

    Args:
        metadata_path: the pipeline's ML Metadata SQLite file.
        pipeline_name: the pipeline's name.

    Raises:
        ValueError: if the store has no run of `pipeline_name`.
    """
    store = _store(metadata_path)
    pipeline_context = store.get_context_by_type_and_name("pipeline", pipeline_name)
    if pipeline_context is None:
        raise ValueError(f"{metadata_path} has no run of pipeline {pipeline_name!r}.")
    executions = store.get_executions_by_context(pipeline_context.id)
    if not executions:
        raise ValueError(f"{metadata_path} has no run of pipeline {pipeline_name!r}.")
    latest = max(executions, key=lambda e: e.id)
    run = next(c for c in store.get_contexts_by_execution(latest.id) if c.type == "pipeline_run")

    components, outputs = [], {}
    for execution in sorted(store.get_executions_by_context(run.id), key=lambda e: e.id):
        node = next((c.name.split(".", 1)[1] for c in store.get_contexts_by_execution(execution.id)
                     if c.type == "node"), execution.type)
        seconds = (execution.last_update_time_since_epoch - execution.create_time_since_epoch) / 1000.0
        components.append(ComponentRun(node, _STATES.get(execution.last_known_state, "unknown"), seconds))
        events = [e for e in store.get_events_by_execution_ids([execution.id])
                  if e.type in (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)]
        outputs[node] = store.get_artifacts_by_id([e.artifact_id for e in events])

    metrics: Dict[str, float] = {}
    blessed = pushed_path = None
    for artifact in outputs.get("Evaluator", []):
        if artifact.type == "ModelEvaluation":
            metrics = _overall_metrics(artifact.uri)
        elif artifact.type == "ModelBlessing":
            blessed = bool(artifact.custom_properties["blessed"].int_value)
    for artifact in outputs.get("Pusher", []):
        if artifact.type == "PushedModel" and artifact.custom_properties["pushed"].int_value:
            pushed_path = artifact.custom_properties["pushed_destination"].string_value
    return RunSummary(run.name, components, metrics, blessed, pushed_path)


def _overall_metrics(evaluation_uri: str) -> Dict[str, float]:
    """The candidate model's scalar metrics on the overall slice of a TFMA evaluation."""
    metrics = {}
    for slice_metrics in tfma.load_metrics(evaluation_uri):
        if slice_metrics.slice_key.single_slice_keys:
            continue
        for entry in slice_metrics.metric_keys_and_values:
            key = entry.key
            # With a baseline, TFMA names the models "candidate" and "baseline" and adds diffs.
            if key.is_diff or key.model_name not in ("", "candidate"):
                continue
            if entry.value.WhichOneof("type") == "double_value":
                metrics[key.name] = entry.value.double_value.value
    return metrics
