"""The work of `ssr-pipeline run` (its flags: `pipeline.cli`): build the pipeline, run it, print the summary.

Output: one line per component as it starts and ends (`pipeline.progress`), then a table of the
components with their state, time and log file, the Evaluator's metrics and where the model was pushed.
Each component's full log (TFX, Beam, TensorFlow, Python warnings) is in `<output>/logs/<component>.log`.
"""

from __future__ import annotations

import argparse
import os

from tfx.dsl.io import fileio

from pipeline import beam_runner
from pipeline import pipeline as ssr_pipeline
from pipeline.cli import slice_data
from pipeline.configs import MAX_AUC_DROP, MIN_AUC
from pipeline.local_run import run_locally
from pipeline.progress import ComponentProgress
from pipeline.run_summary import RunSummary, summarize_last_run
from ssr_keras.training import TrainConfig, read_config_mapping

LOG_FOLDER = "logs"


def training_config(args: argparse.Namespace) -> TrainConfig:
    """The Trainer's `TrainConfig`: `--config` overridden by the explicit flags."""
    config = read_config_mapping(args.config)
    config["backbone"] = args.model
    config["layout"] = args.layout
    for key in ("epochs", "batch_size", "learning_rate", "embedding_dim", "embedding", "embedding_budget",
                "embedding_options"):
        value = getattr(args, key)
        if value is not None:
            config[key] = value
    return TrainConfig.from_dict(config)


def run(args: argparse.Namespace) -> int:
    output, data_root = _local_or_uri(args.output), _local_or_uri(args.data)
    if not fileio.isdir(data_root):
        raise ValueError(f"--data {args.data!r} is not a folder.")
    if _is_uri(output) and not args.metadata:
        raise ValueError("--output on a remote filesystem needs --metadata (a local SQLite file path).")
    metadata_path = os.path.abspath(args.metadata or os.path.join(output, "metadata.sqlite"))
    os.makedirs(os.path.dirname(metadata_path), exist_ok=True)
    fileio.makedirs(output)
    if args.max_rows:
        if _is_uri(data_root) or _is_uri(output):
            raise ValueError("--max-rows slices local files only.")
        data_root = slice_data(data_root, os.path.join(output, "data_slice"), args.max_rows)
    serving_model_dir = os.path.join(output, "serving", args.model_name)
    min_auc = MIN_AUC if args.min_auc is None else args.min_auc
    max_auc_drop = MAX_AUC_DROP if args.max_auc_drop is None else args.max_auc_drop
    beam_args = beam_runner.beam_args(args.beam_runner, args.dask_address) + list(args.beam_arg)
    if args.beam_runner == "dask":
        beam_runner.check_dask_pipeline()

    log_dir = os.path.join(os.path.dirname(metadata_path) if _is_uri(output) else output, LOG_FOLDER)
    progress = ComponentProgress(show_all=args.verbose, log_dir=log_dir).install()
    try:
        pipeline = ssr_pipeline.create_pipeline(
            pipeline_name=args.model_name, pipeline_root=output, data_root=data_root, layout=args.layout,
            serving_model_dir=serving_model_dir, metadata_path=metadata_path,
            train_config=training_config(args), train_steps=args.train_steps, eval_steps=args.eval_steps,
            min_auc=min_auc, max_auc_drop=max_auc_drop, beam_pipeline_args=beam_args,
            enable_cache=not args.no_cache)
        run_locally(pipeline)
    finally:
        progress.uninstall()

    summary = summarize_last_run(metadata_path, args.model_name)
    print(format_summary(summary, progress, min_auc, max_auc_drop))
    return 0


def format_summary(summary: RunSummary, progress: ComponentProgress, min_auc: float, max_auc_drop: float) -> str:
    """The run's components (state, time, log file), the Evaluator's metrics and the Pusher's verdict."""
    lines = [f"\nComponents (logs in {progress.log_dir}):"]
    width = max((len(c.component) for c in summary.components), default=10)
    for component in summary.components:
        log = progress.log_files.get(component.component)
        lines.append(f"  {component.component:<{width}}  {component.state:<7} {component.seconds:8.1f} s"
                     + (f"  {os.path.relpath(log, progress.log_dir)}" if log else ""))
    lines.append("Evaluation (eval split, overall):")
    for name, value in sorted(summary.metrics.items()):
        lines.append(f"  {name:<22} {value:.6g}")
    if summary.pushed_path:
        lines.append(f"Blessed; pushed to {summary.pushed_path}")
    else:
        lines.append(f"Model not blessed, not pushed (thresholds: AUC >= {min_auc}, AUC drop <= {max_auc_drop} "
                     "against the last blessed model).")
    return "\n".join(lines)


def _is_uri(path: str) -> bool:
    return "://" in path


def _local_or_uri(path: str) -> str:
    """Local paths made absolute (TFX records them in ML Metadata); gs://, s3://, hdfs:// kept as is."""
    return path if _is_uri(path) else os.path.abspath(path)
