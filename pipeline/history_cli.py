"""`ssr-pipeline history`: the flags of the GateSID history pipeline (the run: `pipeline.history_command`).

    ssr-pipeline history --data ../shared/data/movielens-latest-small --output runs/gatesid --epochs 3

Flags only, so `--help` answers at once (no TensorFlow import); `--mode` is checked by the pipeline.
"""

from __future__ import annotations

import argparse

from ssr_keras.cli.launch import add_verbose_flag

HISTORY_MODEL_NAME = "gatesid"


def add_history_command(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Adds the `history` subcommand to `ssr-pipeline`'s subcommands."""
    history = commands.add_parser(
        "history", help="run the GateSID history pipeline on a MovieLens ml-latest-small folder",
        description="HistoryExampleGen (time split) -> HistoryTablesGen (semantic IDs and maturity statistics from "
                    "the train split only) -> HistoryTrainer (GateSIDRankingModel, SSR-D) -> Evaluator -> Pusher.",
        epilog="example: ssr-pipeline history --data ../shared/data/movielens-latest-small --output runs/gatesid")
    history.add_argument("--data", required=True, help="ml-latest-small folder (ratings.csv, movies.csv, tags.csv)")
    history.add_argument("--output", required=True,
                         help="pipeline root: artifacts, metadata.sqlite and serving/<model-name>/<version>/")
    history.add_argument("--model-name", default=HISTORY_MODEL_NAME,
                         help=f"TF Serving model name (default: {HISTORY_MODEL_NAME})")
    history.add_argument("--mode", default="gatesid",
                         help="id-only, sid-only, id+sid, fixed-gate or gatesid (default: gatesid)")
    history.add_argument("--epochs", type=int, default=3, help="training epochs; the best eval-AUC one is kept")
    history.add_argument("--batch-size", type=int, default=512, help="training batch size (default: 512)")
    history.add_argument("--learning-rate", type=float, default=3e-4, help="Adam learning rate (default: 3e-4)")
    history.add_argument("--history-length", type=int, default=20, help="liked items kept per history")
    history.add_argument("--rq-epochs", type=int, default=50, help="RQ-VAE training epochs (default: 50)")
    history.add_argument("--seed", type=int, default=0,
                         help="random seed of the RQ-VAE, the weights and the shuffling (default 0)")
    history.add_argument("--min-auc", type=float, help="Evaluator: bless only if eval AUC >= this (default 0.5)")
    history.add_argument("--max-auc-drop", type=float,
                         help="Evaluator: largest AUC drop against the last blessed model (default 0.01)")
    history.add_argument("--beam-arg", action="append", default=[], metavar="ARG",
                         help="Beam pipeline option passed through unchanged (the Evaluator runs on Beam)")
    history.add_argument("--no-cache", action="store_true", help="re-run every component")
    add_verbose_flag(history, "also print TFX's full log (always in <output>/logs/), and the traceback of an error")
    return history
