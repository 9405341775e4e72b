"""`ssr-pipeline`: run the ssr-keras TFX pipeline locally (LocalDagRunner + SQLite ML Metadata).

    ssr-pipeline run --data ../shared/data/frappe-ctr --layout frappe --model ssr-d --output runs/frappe

writes every artifact under `--output`, ML Metadata in `<output>/metadata.sqlite`, each component's log
in `<output>/logs/<component>.log`, and pushes a blessed model to `<output>/serving/<model-name>/<version>/`
(TF Serving's layout). Running the same command again reuses every component whose inputs did not change.
`--beam-arg` options go to Beam unchanged, so the same command can hand the data-parallel components to
Flink, Spark or Dataflow (see BUILD.md, "Pipeline on Beam runners").

This module holds the flags only (it starts at once); the run is `pipeline.run_command`.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from pipeline.history_cli import add_history_command
from ssr_keras.cli.launch import (
    BACKBONE_NAMES,
    EMBEDDING_NAMES,
    STRATEGY_NAMES,
    add_verbose_flag,
    json_object_argument,
    layout_argument,
    layout_help,
    positive_int_argument,
    run_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ssr-pipeline", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run the pipeline: CSV -> ExampleGen ... Evaluator -> Pusher",
        description="Run ExampleGen -> StatisticsGen -> SchemaGen -> Transform -> Trainer -> Evaluator "
                    "-> Pusher on LocalDagRunner, caching unchanged components. Prints one line per "
                    "component and a summary; each component's log goes to <output>/logs/<component>.log.",
        epilog="example: ssr-pipeline run --data data/frappe-ctr --layout frappe --model ssr-d "
               "--output runs/frappe --epochs 2 --beam-arg=--direct_num_workers=2")
    run.add_argument("--data", required=True, help="folder with the layout's CSV files (with header); "
                     "train.csv/valid.csv become the train/eval splits, else all files are hash-split 4:1")
    run.add_argument("--layout", required=True, type=layout_argument, metavar="NAME_OR_FILE",
                     help=layout_help("dataset layout"))
    run.add_argument("--model", required=True, metavar="BACKBONE",
                     help=f"backbone of the ranking model: {BACKBONE_NAMES}")
    run.add_argument("--output", required=True,
                     help="pipeline root: artifacts, metadata.sqlite, logs/ and serving/<model-name>/<version>/")
    run.add_argument("--metadata", help="ML Metadata SQLite file (default: <output>/metadata.sqlite; "
                     "required when --output is a gs://, s3:// or hdfs:// URI)")
    run.add_argument("--model-name", default="ssr", help="TF Serving model name (default: ssr)")
    run.add_argument("--epochs", type=positive_int_argument,
                     help="maximum training epochs, early-stopped on eval AUC "
                          "(default: --config's, else TrainConfig's)")
    run.add_argument("--train-steps", type=positive_int_argument,
                     help="total training steps (default: --epochs full passes over the train split)")
    run.add_argument("--eval-steps", type=positive_int_argument, help="validation steps while training (default: all)")
    run.add_argument("--batch-size", type=positive_int_argument,
                     help="training batch size (default: --config's, else TrainConfig's)")
    run.add_argument("--learning-rate", type=float, help="Adam learning rate (default: --config's, else TrainConfig's)")
    run.add_argument("--embedding-dim", type=positive_int_argument,
                     help="per-field embedding width (default: --config's, else TrainConfig's)")
    run.add_argument("--embedding", metavar="METHOD",
                     help=f"user and item fields: one row per id (table), or shared codebook rows clustered on "
                          f"the train split ({EMBEDDING_NAMES}; default: table)")
    run.add_argument("--embedding-budget", type=float,
                     help="with --embedding baco: codebook rows as a fraction of the user plus item ids "
                          "(default: TrainConfig's)")
    run.add_argument("--embedding-options", type=json_object_argument, metavar="JSON",
                     help='with a codebook --embedding: its fitting arguments, e.g. \'{"gamma": 4.0, "levels": 5}\' '
                          'for baco (default: the paper\'s form)')
    run.add_argument("--min-auc", type=float,
                     help="Evaluator: bless only if eval AUC >= this (default: pipeline.configs.MIN_AUC, 0.5)")
    run.add_argument("--max-auc-drop", type=float,
                     help="Evaluator: bless only if AUC is at most this below the last blessed model's "
                          "(default: pipeline.configs.MAX_AUC_DROP, 0.01)")
    run.add_argument("--max-rows", type=positive_int_argument,
                     help="quick runs: use only the first N rows of each input file (copied to "
                          "<output>/data_slice)")
    run.add_argument("--beam-arg", action="append", default=[], metavar="ARG",
                     help="Beam pipeline option passed through unchanged, repeatable, e.g. "
                          "--beam-arg=--runner=FlinkRunner (defaults: DirectRunner in memory, 1 worker)")
    run.add_argument("--beam-runner", choices=("direct", "dask"), default="direct",
                     help="where the Beam components run: in-process DirectRunner, or a dask.distributed "
                          "cluster at --dask-address (refused with the reason while Beam's Dask runner cannot "
                          "run them: see BUILD.md, 'Beam on a Dask cluster')")
    run.add_argument("--dask-address", metavar="HOST:PORT",
                     help="with --beam-runner dask: the scheduler (ssr-pipeline cluster prints it)")
    run.add_argument("--strategy", default="default", metavar="STRATEGY",
                     help=f"the Trainer's tf.distribute strategy: {STRATEGY_NAMES} except multi-worker (default: "
                          "default); parameter-server reads TF_CONFIG (this process is the chief) and needs "
                          "--train-steps and --eval-steps")
    run.add_argument("--config", metavar="JSON",
                     help="training config (ssr_keras.training.TrainConfig keys, as for ssr-train) as inline "
                          "JSON or a .json file, e.g. '{\"backbone_config\": {\"num_views\": 4}, \"seed\": 1}'; "
                          "explicit flags win")
    run.add_argument("--no-cache", action="store_true", help="re-run every component")
    add_verbose_flag(run, "also print TFX's full log (always in <output>/logs/), and the traceback of an error")
    cluster = commands.add_parser(
        "cluster", help="start a local dask.distributed cluster for --beam-runner dask and print its address",
        description="Start a dask scheduler and worker processes on this machine; serve until Ctrl-C.")
    cluster.add_argument("--workers", type=positive_int_argument, default=2, help="worker processes (default: 2)")
    cluster.add_argument("--port", type=int, default=0, help="scheduler port (default: any free port)")
    cluster.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    add_verbose_flag(cluster)
    add_history_command(commands)
    return parser


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


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    return run_command("ssr-pipeline", f"pipeline.{args.command}_command", args)


if __name__ == "__main__":
    sys.exit(main())
