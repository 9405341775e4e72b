"""`ssr-pipeline`: run the ssr-keras TFX pipeline locally (LocalDagRunner + SQLite ML Metadata).

    ssr-pipeline run --data ../shared/data/frappe-ctr --layout frappe --model ssr-d --output runs/frappe

writes every artifact under `--output`, ML Metadata in `<output>/metadata.sqlite`, and pushes a blessed
model to `<output>/serving/<model-name>/<version>/` (TF Serving's layout). Running the same command
again reuses every component whose inputs did not change. `--beam-arg` options go to Beam unchanged,
so the same command can hand the data-parallel components to Flink, Spark or Dataflow (see
BUILD.md, "Pipeline on Beam runners").
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Sequence

# TFRS and TFMA need Keras 2; must be set before TensorFlow is imported (by the imports below).
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pipeline.configs import MAX_AUC_DROP, MIN_AUC  # noqa: E402
from ssr_keras.data import layouts  # noqa: E402
from ssr_keras.models.ranking import BACKBONES  # noqa: E402
from ssr_keras.training import TrainConfig, read_config_mapping  # noqa: E402
from ssr_keras.training.config import EMBEDDINGS  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ssr-pipeline", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run the pipeline: CSV -> ExampleGen ... Evaluator -> Pusher",
        description="Run ExampleGen -> StatisticsGen -> SchemaGen -> Transform -> Trainer -> Evaluator "
                    "-> Pusher on LocalDagRunner, caching unchanged components.",
        epilog="example: ssr-pipeline run --data data/frappe-ctr --layout frappe --model ssr-d "
               "--output runs/frappe --epochs 2 --beam-arg=--direct_num_workers=2")
    run.add_argument("--data", required=True, help="folder with the layout's CSV files (with header); "
                     "train.csv/valid.csv become the train/eval splits, else all files are hash-split 4:1")
    run.add_argument("--layout", required=True, choices=sorted(layouts.LAYOUTS), help="dataset layout")
    run.add_argument("--model", required=True, choices=BACKBONES, help="backbone of the ranking model")
    run.add_argument("--output", required=True,
                     help="pipeline root: artifacts, metadata.sqlite and serving/<model-name>/<version>/")
    run.add_argument("--metadata", help="ML Metadata SQLite file (default: <output>/metadata.sqlite; "
                     "required when --output is a gs://, s3:// or hdfs:// URI)")
    run.add_argument("--model-name", default="ssr", help="TF Serving model name (default: ssr)")
    run.add_argument("--epochs", type=int, help=f"maximum training epochs, early-stopped on eval AUC "
                     f"(default {TrainConfig.epochs})")
    run.add_argument("--train-steps", type=int,
                     help="total training steps (default: --epochs full passes over the train split)")
    run.add_argument("--eval-steps", type=int, help="validation steps while training (default: all)")
    run.add_argument("--batch-size", type=int, help=f"training batch size (default {TrainConfig.batch_size})")
    run.add_argument("--learning-rate", type=float,
                     help=f"Adam learning rate (default {TrainConfig.learning_rate:g})")
    run.add_argument("--embedding-dim", type=int,
                     help=f"per-field embedding width (default {TrainConfig.embedding_dim})")
    run.add_argument("--embedding", choices=EMBEDDINGS,
                     help="user and item fields: one row per id (table), or BACO's shared codebook rows clustered "
                          f"on the train split (default {TrainConfig.embedding})")
    run.add_argument("--embedding-budget", type=float,
                     help=f"with --embedding baco: codebook rows as a fraction of the user plus item ids "
                          f"(default {TrainConfig.embedding_budget})")
    run.add_argument("--min-auc", type=float, default=MIN_AUC,
                     help=f"Evaluator: bless only if eval AUC >= this (default {MIN_AUC})")
    run.add_argument("--max-auc-drop", type=float, default=MAX_AUC_DROP,
                     help="Evaluator: bless only if AUC is at most this below the last blessed model's "
                          f"(default {MAX_AUC_DROP})")
    run.add_argument("--max-rows", type=int,
                     help="quick runs: use only the first N rows of each input file (copied to "
                          "<output>/data_slice)")
    run.add_argument("--beam-arg", action="append", default=[], metavar="ARG",
                     help="Beam pipeline option passed through unchanged, repeatable, e.g. "
                          "--beam-arg=--runner=FlinkRunner (defaults: DirectRunner in memory, 1 worker)")
    run.add_argument("--config", metavar="JSON",
                     help="training config (ssr_keras.training.TrainConfig keys, as for ssr-train) as inline "
                          "JSON or a .json file, e.g. '{\"backbone_config\": {\"num_views\": 4}, \"seed\": 1}'; "
                          "explicit flags win")
    run.add_argument("--no-cache", action="store_true", help="re-run every component")
    run.add_argument("--verbose", action="store_true", help="show TFX's full INFO log")
    return parser


def training_config(args: argparse.Namespace) -> TrainConfig:
    """The Trainer's `TrainConfig`: `--config` overridden by the explicit flags."""
    config = read_config_mapping(args.config)
    config["backbone"] = args.model
    config["layout"] = args.layout
    for key in ("epochs", "batch_size", "learning_rate", "embedding_dim", "embedding", "embedding_budget"):
        value = getattr(args, key)
        if value is not None:
            config[key] = value
    return TrainConfig.from_dict(config)


def slice_data(data_dir: str, destination: str, max_rows: int) -> str:
    """Copies the header and first `max_rows` rows of every file in `data_dir` to `destination`.

    A file is rewritten only when its slice changed: ExampleGen's input fingerprint includes file
    modification times, so an unchanged slice keeps the cache valid.
    """
    if max_rows <= 0:
        raise ValueError(f"--max-rows must be positive, got {max_rows}.")
    os.makedirs(destination, exist_ok=True)
    for name in sorted(os.listdir(data_dir)):
        source = os.path.join(data_dir, name)
        if not os.path.isfile(source):
            continue
        with open(source, encoding="utf-8") as f:
            lines = [line for _, line in zip(range(max_rows + 1), f)]
        text = "".join(lines)
        target = os.path.join(destination, name)
        if os.path.exists(target):
            with open(target, encoding="utf-8") as f:
                if f.read() == text:
                    continue
        with open(target, "w", encoding="utf-8") as f:
            f.write(text)
    return destination


def run(args: argparse.Namespace) -> int:
    # Imported here so that `--help` and argument errors come back instantly.
    from tfx import v1 as tfx
    from tfx.dsl.io import fileio

    from pipeline import pipeline as ssr_pipeline
    from pipeline.progress import ComponentProgress
    from pipeline.run_summary import summarize_last_run

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

    pipeline = ssr_pipeline.create_pipeline(
        pipeline_name=args.model_name, pipeline_root=output, data_root=data_root, layout=args.layout,
        serving_model_dir=serving_model_dir, metadata_path=metadata_path,
        train_config=training_config(args), train_steps=args.train_steps, eval_steps=args.eval_steps,
        min_auc=args.min_auc, max_auc_drop=args.max_auc_drop, beam_pipeline_args=args.beam_arg,
        enable_cache=not args.no_cache)

    progress = ComponentProgress(show_all=args.verbose).install()
    try:
        tfx.orchestration.LocalDagRunner().run(pipeline)
    finally:
        progress.uninstall()

    summary = summarize_last_run(metadata_path, args.model_name)
    print("\nEvaluation (eval split, overall):")
    for name, value in sorted(summary.metrics.items()):
        print(f"  {name:<22} {value:.6g}")
    if summary.pushed_path:
        print(f"Blessed; pushed to {summary.pushed_path}")
    else:
        print(f"Model not blessed, not pushed (thresholds: AUC >= {args.min_auc}, AUC drop <= "
              f"{args.max_auc_drop} against the last blessed model).")
    return 0


def _is_uri(path: str) -> bool:
    return "://" in path


def _local_or_uri(path: str) -> str:
    """Local paths made absolute (TFX records them in ML Metadata); gs://, s3://, hdfs:// kept as is."""
    return path if _is_uri(path) else os.path.abspath(path)


def _error_message(error: BaseException) -> str:
    """The most specific message in an exception chain (Beam wraps worker errors in its own)."""
    messages: List[str] = []
    while error is not None:
        messages.append(f"{type(error).__name__}: {error}")
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return messages[-1].strip().splitlines()[0] if len(messages) > 1 else messages[0].strip()


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except Exception as error:  # noqa: BLE001 (a CLI reports any failure as one clear line)
        print(f"ssr-pipeline: error: {_error_message(error)}", file=sys.stderr)
        if getattr(args, "verbose", False):
            raise
        return 1


if __name__ == "__main__":
    sys.exit(main())
