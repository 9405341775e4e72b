"""Benchmark records and tables shared by the scripts under `benchmarks/`."""

from __future__ import annotations

import json
import os
import statistics
from typing import Any, Dict, Iterable, List, Mapping, Sequence

RECORD_FIELDS = ("model", "seed", "test_auc", "test_logloss", "params_non_embedding",
                 "flops_per_example", "train_examples_per_sec")


def benchmark_record(metrics: Mapping[str, Any], **extra: Any) -> Dict[str, Any]:
    """The published record of one run: `RECORD_FIELDS` first, then run details and `extra`.

    Args:
        metrics: `ExperimentResult.metrics`.
        **extra: more keys, e.g. `family="dnn-wider"` or a display `model` name.

    Example:

    >>> benchmark_record(result.metrics, model="ssr-d")["test_auc"]  # doctest: +SKIP
    """
    record = {key: metrics[key] for key in RECORD_FIELDS}
    record.update({
        "params_embedding": metrics["params_embedding"],
        "epochs_trained": metrics["epochs_trained"],
        "best_epoch": metrics["best_epoch"],
        "best_val_auc": metrics["best_val_auc"],
        "config": metrics["config"],
    })
    record.update(extra)
    return record


def write_records(records: Sequence[Mapping[str, Any]], path: str) -> None:
    """Writes the records as a JSON list (rewritten after every run, so partial results survive)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(list(records), f, indent=2)


def read_records(path: str) -> List[Dict[str, Any]]:
    """The records a resumable benchmark has written to `path` so far (`[]` if the file does not exist)."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        records = json.load(f)
    if not isinstance(records, list):
        raise ValueError(f"{path} must hold a JSON list of records; found {type(records).__name__}.")
    return records


def append_record(path: str, record: Mapping[str, Any]) -> None:
    """Appends one finished run to `path` (rewritten atomically, so a killed benchmark loses no record).

    Resumable benchmarks call this after every run and skip the runs `read_records` already lists.

    Example:

    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "runs.json")
    >>> append_record(path, {"model": "dnn", "seed": 0}); append_record(path, {"model": "dnn", "seed": 1})
    >>> [r["seed"] for r in read_records(path)]
    [0, 1]
    """
    records = read_records(path) + [dict(record)]
    partial = f"{path}.partial"
    write_records(records, partial)
    os.replace(partial, path)


def _mean_std(values: Sequence[float], digits: int) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.{digits}f} ± {std:.{digits}f}"


def summary_table(records: Iterable[Mapping[str, Any]], group_by: str = "model") -> str:
    """A markdown table: one row per `group_by` value, metrics as mean ± std over seeds.

    Example:

    >>> print(summary_table(records))  # doctest: +SKIP
    | model | seeds | non-emb. params | FLOPs/example | test AUC | test logloss | train ex/s |
    """
    groups: Dict[Any, List[Mapping[str, Any]]] = {}
    for record in records:
        groups.setdefault(record[group_by], []).append(record)
    lines = [f"| {group_by} | seeds | non-emb. params | FLOPs/example | test AUC | test logloss | train ex/s |",
             "|---|---|---|---|---|---|---|"]
    for name, rows in groups.items():
        lines.append(
            f"| {name} | {len(rows)} | {rows[0]['params_non_embedding']:,} | "
            f"{rows[0]['flops_per_example']:,} | {_mean_std([r['test_auc'] for r in rows], 4)} | "
            f"{_mean_std([r['test_logloss'] for r in rows], 4)} | "
            f"{statistics.mean(r['train_examples_per_sec'] for r in rows):,.0f} |")
    return "\n".join(lines)


def paired_table(records: Iterable[Mapping[str, Any]], subject: str, metrics: Sequence[str] = ("test_auc",),
                 group_by: str = "model") -> str:
    """A markdown table of `subject` minus each other model on the same seed: mean [min, max] per metric.

    Runs on the same seed share the data order and initial draws, so much of the seed-to-seed spread is
    common to all models; the paired differences are the sharper comparison than two means ± std.

    Example:

    >>> records = [{"model": m, "seed": s, "test_auc": a} for m, s, a in
    ...            [("a", 0, 0.90), ("a", 1, 0.92), ("b", 0, 0.89), ("b", 1, 0.92)]]
    >>> print(paired_table(records, "a"))
    | a minus | seeds | test_auc: mean [min, max] |
    |---|---|---|
    | b | 2 | +0.0050 [+0.0000, +0.0100] |
    """
    by_key = {(r[group_by], r["seed"]): r for r in records}
    lines = [f"| {subject} minus | seeds | " + " | ".join(f"{m}: mean [min, max]" for m in metrics) + " |",
             "|---|---|" + "---|" * len(metrics)]
    for other in dict.fromkeys(name for name, _ in by_key):
        seeds = sorted(seed for name, seed in by_key if name == other and (subject, seed) in by_key)
        if other == subject or not seeds:
            continue
        cells = []
        for metric in metrics:
            diffs = [by_key[(subject, seed)][metric] - by_key[(other, seed)][metric] for seed in seeds]
            cells.append(f"{statistics.mean(diffs):+.4f} [{min(diffs):+.4f}, {max(diffs):+.4f}]")
        lines.append(f"| {other} | {len(seeds)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
