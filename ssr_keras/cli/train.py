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
import csv
import itertools
import json
import os
import sys
from typing import Any, Dict, List, Sequence

import tf_keras as keras

from ssr_keras.data.layouts import LAYOUTS
from ssr_keras.data.raw_examples import RawExampleParser, VocabularyIds
from ssr_keras.export import export_ranker
from ssr_keras.models.ranking import BACKBONES
from ssr_keras.training.config import EMBEDDINGS, TrainConfig, read_config_mapping
from ssr_keras.training.experiment import run_experiment

# The flags that map onto TrainConfig fields (flag dest -> field); a flag given wins over --config.
_CONFIG_FLAGS = ("layout", "epochs", "batch_size", "learning_rate", "embedding_dim", "embedding_l2", "patience",
                 "seed", "min_count", "max_train_rows", "max_valid_rows", "embedding", "embedding_budget")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ssr-train", description=__doc__.split("\n\n")[0],
        epilog=f"Unset options take --config's value, else TrainConfig's default: {TrainConfig().to_dict()}",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data", required=True, help="folder with the layout's train/valid/test CSVs")
    parser.add_argument("--layout", required=True, choices=sorted(LAYOUTS), help="data layout")
    parser.add_argument("--model", default=None, choices=list(BACKBONES),
                        help=f"backbone (default: --config's backbone, else {TrainConfig.backbone})")
    parser.add_argument("--output", required=True, help="run folder (metrics, logs, SavedModel)")
    parser.add_argument("--config", default=None,
                        help='training config (TrainConfig keys) as JSON or a JSON file, e.g. '
                             '\'{"backbone_config": {"num_views": 8}, "seed": 1}\'')
    parser.add_argument("--epochs", type=_positive_int, help="maximum epochs")
    parser.add_argument("--batch-size", type=_positive_int, help="training and evaluation batch size")
    parser.add_argument("--learning-rate", type=float, help="Adam learning rate")
    parser.add_argument("--embedding-dim", type=_positive_int, help="per-field embedding width")
    parser.add_argument("--embedding-norm", choices=("none", "batch", "layer"),
                        help="normalisation of the concatenated field embeddings")
    parser.add_argument("--embedding-l2", type=float, help="L2 penalty on the embedding tables (0 disables it)")
    parser.add_argument("--embedding", choices=EMBEDDINGS,
                        help="user and item fields: one row per id, or BACO's shared codebook rows")
    parser.add_argument("--embedding-budget", type=float,
                        help="with --embedding baco: codebook rows as a fraction of the user plus item ids")
    parser.add_argument("--patience", type=_positive_int, help="early stopping: epochs without val_auc gain")
    parser.add_argument("--seed", type=int, help="seed of weights, shuffling and dropout")
    parser.add_argument("--min-count", type=_positive_int, help="rarer values map to the OOV id")
    parser.add_argument("--max-train-rows", type=_positive_int, help="train on the first N rows only (quick runs)")
    parser.add_argument("--max-valid-rows", type=_positive_int, help="early-stop on the first N validation rows only")
    parser.add_argument("--model-name", default=None, help="serving model name [<layout>-<model>]")
    parser.add_argument("--version", type=_positive_int, default=1, help="serving model version")
    parser.add_argument("--quiet", action="store_true", help="one line per epoch instead of a progress bar")
    return parser


def _warmup_rows(layout, path: str, count: int = 4) -> List[Dict[str, str]]:
    """The first rows of a CSV file as raw serving requests (feature columns only)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = itertools.islice(csv.DictReader(f), count)
        return [{c: row[c] for c in layout.feature_columns} for row in rows]


def train_config(args: argparse.Namespace) -> TrainConfig:
    """`--config` overridden by the explicit flags.

    `--config` used to hold backbone arguments only; such a config (no TrainConfig key at all) is
    still read as `backbone_config`, with a deprecation message.
    """
    values: Dict[str, Any] = read_config_mapping(args.config)
    if values and not any(key in TrainConfig.keys() or TrainConfig.close_keys(key) for key in values):
        print(f"ssr-train: deprecated: --config now holds the training config; read {sorted(values)} as "
              '{"backbone_config": ...}. Write --config \'{"backbone_config": {...}}\' instead.', file=sys.stderr)
        values = {"backbone_config": values}
    for name in _CONFIG_FLAGS:
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    if args.model is not None:
        values["backbone"] = args.model
    if args.embedding_norm is not None:
        values["embedding_normalization"] = None if args.embedding_norm == "none" else args.embedding_norm
    return TrainConfig.from_dict(values)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = train_config(args)
    except ValueError as error:
        print(f"ssr-train: error: {error}", file=sys.stderr)
        return 2
    os.makedirs(args.output, exist_ok=True)
    tensorboard = keras.callbacks.TensorBoard(log_dir=os.path.join(args.output, "tensorboard"))
    result = run_experiment(config, args.data, callbacks=[tensorboard], verbose=2 if args.quiet else 1)

    result.vocabularies.save(os.path.join(args.output, "vocabularies.json"))
    model_name = args.model_name or f"{config.layout}-{config.backbone}"
    export_dir = os.path.join(args.output, "serving", model_name, str(args.version))
    test_path = result.layout.split_paths(args.data)[2]
    parser = RawExampleParser(result.layout, VocabularyIds(result.layout, result.vocabularies))
    export_ranker(result.model, export_dir, parser, result.layout.feature_columns,
                  warmup_examples=_warmup_rows(result.layout, test_path))
    metrics = dict(result.metrics, saved_model=export_dir)
    with open(os.path.join(args.output, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=2)
    print(f"test AUC {metrics['test_auc']:.4f}  test logloss {metrics['test_logloss']:.4f}  "
          f"non-embedding params {metrics['params_non_embedding']:,}  "
          f"FLOPs/example {metrics['flops_per_example']:,}  -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
