"""`ssr-train`: train a ranking model on a layout's train/valid/test CSV files and export it.

Writes into `--output`:

* `metrics.json`: test AUC / log-loss, embedding and non-embedding parameters, FLOPs per example,
  training examples/s, per-epoch history and the full config;
* `tensorboard/`: Keras TensorBoard logs (losses, AUC, and the ICS sparsity of SSR-D layers);
* `vocabularies.json`: the vocabularies the ids were built with;
* `serving/<model-name>/<version>/`: a TF Serving SavedModel taking raw `tf.Example`s (see
  `ssr_keras.export`), servable by `ssr-serve` or TF Serving with `--model_base_path
  <output>/serving/<model-name>`.

`--config` is the training config (`ssr_keras.training.TrainConfig` keys), as for `ssr-pipeline`;
explicit flags win over it.

Example:

    ssr-train --data ../shared/data/frappe-ctr --layout frappe --model ssr-d --output runs/ssr-d \\
        --epochs 10 --config '{"backbone_config": {"num_views": 8, "view_dim": 48}}'
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

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
        prog="ssr-train", description=__doc__.split("\n\n")[0],
        epilog="Unset training options take --config's value, else ssr_keras.training.TrainConfig's default "
               "(the recipe that won on Frappe: batch 1024, embedding dim 16, Adam 1e-3, seed 0, ...).")
    parser.add_argument("--data", required=True, help="folder with the layout's train/valid/test CSVs")
    parser.add_argument("--layout", required=True, type=layout_argument, metavar="NAME_OR_FILE",
                        help=layout_help())
    parser.add_argument("--model", default=None, metavar="BACKBONE",
                        help=f"backbone: {BACKBONE_NAMES} (default: --config's backbone, else ssr-d)")
    parser.add_argument("--output", required=True, help="run folder (metrics, logs, SavedModel)")
    parser.add_argument("--config", default=None,
                        help='training config (TrainConfig keys) as JSON or a JSON file, e.g. '
                             '\'{"backbone_config": {"num_views": 8}, "seed": 1}\'')
    parser.add_argument("--epochs", type=positive_int_argument, help="maximum epochs (early stopping may end sooner)")
    parser.add_argument("--batch-size", type=positive_int_argument, help="training and evaluation batch size")
    parser.add_argument("--learning-rate", type=float, help="Adam learning rate")
    parser.add_argument("--embedding-dim", type=positive_int_argument, help="per-field embedding width")
    parser.add_argument("--embedding-norm", choices=("none", "batch", "layer"),
                        help="normalisation of the concatenated field embeddings")
    parser.add_argument("--embedding-l2", type=float, help="L2 penalty on the embedding tables (0 disables it)")
    parser.add_argument("--embedding", metavar="METHOD",
                        help=f"user and item fields: one row per id (table), or shared codebook rows "
                             f"({EMBEDDING_NAMES})")
    parser.add_argument("--embedding-budget", type=float,
                        help="with --embedding baco: codebook rows as a fraction of the user plus item ids")
    parser.add_argument("--embedding-options", type=json_object_argument, metavar="JSON",
                        help='with a codebook --embedding: its fitting arguments, e.g. \'{"gamma": 4.0, "levels": 5}\' '
                             'for baco (default: the paper\'s form)')
    parser.add_argument("--patience", type=positive_int_argument, help="early stopping: epochs without val_auc gain")
    parser.add_argument("--seed", type=int, help="seed of the weights, the shuffling and dropout")
    parser.add_argument("--min-count", type=positive_int_argument, help="rarer values map to the OOV id")
    parser.add_argument("--max-train-rows", type=positive_int_argument,
                        help="train on the first N rows only (quick runs)")
    parser.add_argument("--max-valid-rows", type=positive_int_argument,
                        help="early-stop on the first N validation rows only")
    parser.add_argument("--model-name", default=None, help="serving model name (default: <layout name>-<model>)")
    parser.add_argument("--version", type=positive_int_argument, default=1, help="serving model version (default: 1)")
    parser.add_argument("--quiet", action="store_true",
                        help="one line per epoch even on a terminal (always so under a pipe or in a log file)")
    parser.add_argument("--strategy", default="default", metavar="STRATEGY",
                        help=f"tf.distribute strategy: {STRATEGY_NAMES} (default: default); multi-worker and "
                             "parameter-server read the cluster from TF_CONFIG, every task runs this same command "
                             "(parameter-server worker/ps tasks only serve; non-chief workers write to "
                             "<output>/_<task>); see ssr_keras.training.strategy")
    add_verbose_flag(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_command("ssr-train", "ssr_keras.cli.train_command", build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
