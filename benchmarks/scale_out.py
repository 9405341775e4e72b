"""Scale-out on one machine: Transform on DirectRunner vs a Dask cluster, training under each tf.distribute strategy.

1. Transform: the pipeline's ExampleGen -> StatisticsGen -> SchemaGen -> Transform on a MovieLens-1M slice
   (`--rows` training rows, a tenth of that for eval) with the DirectRunner (in memory, 1 worker: the
   pipeline's default), then Transform alone (upstream cached) on a `dask.distributed` cluster of 1 and of 2
   worker processes through `pipeline.beam_runner.DaskRunner`. Wall seconds of the Transform component
   (TFX's own start/finish events); a run that fails records its error and the seconds until it failed.
2. Training: the same slice's CSV rows, a DNN ranking model, `--epochs` epochs, under "default" (one
   process), "multi-worker" (2 worker processes) and "parameter-server" (a chief, 2 workers, 2 ps, the
   embedding tables sharded over the ps tasks), each task a process on 127.0.0.1
   (`ssr_keras.training.local_cluster`). Examples/s = training rows per epoch / epoch wall seconds
   (validation included, the same for every strategy), epochs after the first (which traces).

Prints a table and writes `benchmarks/results/scale_out.json`.

    nice -n 10 .venv/bin/python benchmarks/scale_out.py --rows 50000
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import sys
import tempfile
import time
from typing import Any, Dict, List

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Run as a script, this file's folder comes first on sys.path and its name would shadow the `pipeline`
# package being measured.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import tf_keras as keras  # noqa: E402
from dask.distributed import LocalCluster  # noqa: E402
from tfx import v1 as tfx  # noqa: E402

from pipeline.beam_runner import beam_args  # noqa: E402
from pipeline.local_run import run_locally  # noqa: E402
from pipeline.pipeline import create_pipeline  # noqa: E402
from pipeline.progress import ComponentProgress  # noqa: E402
from ssr_keras.training import TrainConfig  # noqa: E402
from ssr_keras.training.experiment import run_experiment  # noqa: E402
from ssr_keras.training.local_cluster import ClusterTaskFailed, LocalTfCluster  # noqa: E402
from ssr_keras.training.strategy import (  # noqa: E402
    build_strategy,
    is_chief,
    is_server_task,
    serve_forever,
    variable_shards,
)

REPO = pathlib.Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "scale_out.json"
TRANSFORM_UPSTREAM = ("LayoutCsvExampleGen", "StatisticsGen", "SchemaGen")
TRAIN_CLUSTERS = {"default": None, "multi-worker": {"worker": 2},
                  "parameter-server": {"chief": 1, "worker": 2, "ps": 2}}
MODEL_CONFIG = {"backbone": "dnn", "backbone_config": {"hidden_units": [64, 32]}, "embedding_dim": 16,
                "embedding_normalization": None, "embedding_l2": 0.0, "batch_size": 1024, "patience": 10}


def slice_movielens(source: pathlib.Path, target: pathlib.Path, rows: int) -> pathlib.Path:
    """train/valid/test.csv of MovieLens-1M cut to `rows` / `rows // 10` / `rows // 10` data rows."""
    target.mkdir(parents=True, exist_ok=True)
    for name, count in (("train.csv", rows), ("valid.csv", rows // 10), ("test.csv", rows // 10)):
        with open(source / name, encoding="utf-8") as f, open(target / name, "w", encoding="utf-8") as out:
            out.writelines(line for _, line in zip(range(count + 1), f))
    return target


def _transform_pipeline(root: pathlib.Path, data: pathlib.Path, upto: str, dask_address: str | None):
    full = create_pipeline(pipeline_name="scale-out", pipeline_root=str(root), data_root=str(data),
                           layout="movielens-1m", serving_model_dir=str(root / "serving"),
                           metadata_path=str(root / "metadata.sqlite"), train_config=MODEL_CONFIG)
    wanted = (*TRANSFORM_UPSTREAM, "Transform")[:(*TRANSFORM_UPSTREAM, "Transform").index(upto) + 1]
    components = [c for c in full.components if c.id in wanted]
    for component in components:  # a sub-pipeline: forget the components left out
        for downstream in [d for d in component.downstream_nodes if d not in components]:
            component.remove_downstream_node(downstream)
    if dask_address:
        next(c for c in components if c.id == "Transform").with_beam_pipeline_args(beam_args("dask", dask_address))
    return tfx.dsl.Pipeline(pipeline_name="scale-out", pipeline_root=str(root), components=components,
                            enable_cache=True, metadata_connection_config=full.metadata_connection_config,
                            beam_pipeline_args=list(full.beam_pipeline_args))


def _last_error(error: BaseException) -> str:
    while error.__cause__ or error.__context__:
        error = error.__cause__ or error.__context__
    return f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"


def measure_transform(data: pathlib.Path, work: pathlib.Path) -> List[Dict[str, Any]]:
    """Transform wall seconds: DirectRunner, then Dask with 1 and 2 worker processes."""
    records = []
    root = work / "transform"
    upstream = _run_timed(_transform_pipeline(root, data, "SchemaGen", None))
    print(f"upstream (ExampleGen, StatisticsGen, SchemaGen on DirectRunner): {upstream['seconds']:.1f} s", flush=True)
    for runner, workers in (("direct", 0), ("dask", 1), ("dask", 2)):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None) if workers else None
        try:
            # A fresh root per runner: Transform must run, not come from the cache.
            run_root = work / f"transform-{runner}-{workers}"
            _run_timed(_transform_pipeline(run_root, data, "SchemaGen", None))
            result = _run_timed(_transform_pipeline(run_root, data, "Transform",
                                                    cluster.scheduler_address if cluster else None),
                                component="Transform")
        finally:
            if cluster:
                cluster.close()
        records.append({"runner": runner, "workers": workers or None, **result})
        print(f"Transform on {runner} ({workers or 'in-process'} workers): {result}", flush=True)
    return records


def _run_timed(pipeline, component: str | None = None) -> Dict[str, Any]:
    progress = ComponentProgress(stream=open(os.devnull, "w")).install()
    start = time.monotonic()
    try:
        run_locally(pipeline)
        state, error = "ok", None
    except Exception as e:  # noqa: BLE001 (a failing runner is a result here)
        state, error = "failed", _last_error(e)
    finally:
        progress.uninstall()
    total = time.monotonic() - start
    seconds = progress.timings.get(component, (total, ""))[0] if component and state == "ok" else total
    return {"state": state, "seconds": round(seconds, 2), "error": error}


class EpochClock(keras.callbacks.Callback):
    """Wall seconds of each epoch (epoch-level hooks only: allowed under parameter servers)."""

    def __init__(self):
        super().__init__()
        self.seconds: List[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def train_task(args: argparse.Namespace) -> int:
    """One task of a training cluster (or the single process): trains and writes `<output>/result.json`."""
    if is_server_task(args.strategy):
        serve_forever()
        return 0
    strategy = build_strategy(args.strategy)
    config = TrainConfig.from_dict({**MODEL_CONFIG, "layout": "movielens-1m", "epochs": args.epochs})
    clock = EpochClock()
    result = run_experiment(config, args.data, callbacks=[clock], verbose=0, strategy=strategy)
    if is_chief(args.strategy):
        train_rows = sum(1 for _ in open(os.path.join(args.data, "train.csv"), encoding="utf-8")) - 1
        steady = clock.seconds[1:] or clock.seconds
        record = {"epoch_seconds": [round(s, 2) for s in clock.seconds], "train_rows": train_rows,
                  "examples_per_sec": round(train_rows / (sum(steady) / len(steady)), 1),
                  "test_auc": round(result.metrics["test_auc"], 4), "best_val_auc": result.metrics["best_val_auc"],
                  "variable_shards": variable_shards(result.model)}
        with open(os.path.join(args.output, "result.json"), "w", encoding="utf-8") as f:
            json.dump(record, f)
    return 0


def measure_training(data: pathlib.Path, work: pathlib.Path, epochs: int, timeout: float) -> List[Dict[str, Any]]:
    records = []
    for strategy, tasks in TRAIN_CLUSTERS.items():
        output = work / f"train-{strategy}"
        output.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, os.path.abspath(__file__), "train-task", "--strategy", strategy, "--data",
                   str(data), "--output", str(output), "--epochs", str(epochs)]
        # "default": one process (its one-task TF_CONFIG is not read by that strategy).
        cluster = LocalTfCluster(tasks or {"worker": 1}, command, log_dir=str(output))
        start = time.monotonic()
        try:
            cluster.start().wait(timeout)
            record = {"strategy": strategy, "tasks": tasks or {"process": 1}, "state": "ok",
                      **json.loads((output / "result.json").read_text())}
        except ClusterTaskFailed as error:
            record = {"strategy": strategy, "tasks": tasks or {"process": 1}, "state": "failed",
                      "error": str(error)[:2000]}
        record["wall_seconds_with_startup"] = round(time.monotonic() - start, 1)
        records.append(record)
        print(f"training under {strategy}: {record}", flush=True)
    return records


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command")
    task = commands.add_parser("train-task", help="internal: one task of a training cluster")
    task.add_argument("--strategy", required=True)
    task.add_argument("--data", required=True)
    task.add_argument("--output", required=True)
    task.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "movielens-1m"))
    parser.add_argument("--rows", type=int, default=50_000, help="training rows of the slice (eval: a tenth)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=900, help="per training cluster, seconds")
    parser.add_argument("--skip-transform", action="store_true")
    parser.add_argument("--results", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.command == "train-task":
        return train_task(args)

    work = pathlib.Path(tempfile.mkdtemp(prefix="ssr-scale-out-"))
    data = slice_movielens(pathlib.Path(args.data), work / "data", args.rows)
    report = {"data": f"MovieLens-1M first {args.rows} train rows, {args.rows // 10} valid/test rows",
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "transform": [], "training": [],
              "notes": "2 shared cores: every extra process competes for the same CPUs; see BUILD.md."}
    results = pathlib.Path(args.results)
    transform = report["transform"] = [] if args.skip_transform else measure_transform(data, work)
    results.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")  # a partial record, if training fails
    training = report["training"] = measure_training(data, work, args.epochs, args.timeout)
    results.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    print(f"\n{'Transform':<28}{'state':<8}{'seconds':>9}  error")
    for r in transform:
        label = f"{r['runner']} ({r['workers'] or 'in-process'} workers)"
        print(f"{label:<28}{r['state']:<8}{r['seconds']:>9.1f}  {r['error'] or ''}")
    print(f"\n{'Training':<20}{'state':<8}{'examples/s':>11}{'test AUC':>10}{'wall s':>8}")
    for r in training:
        print(f"{r['strategy']:<20}{r['state']:<8}{r.get('examples_per_sec', float('nan')):>11.0f}"
              f"{r.get('test_auc', float('nan')):>10.4f}{r['wall_seconds_with_startup']:>8.1f}")
    print(f"-> {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
