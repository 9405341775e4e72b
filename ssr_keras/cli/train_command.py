"""The work of `ssr-train` (its flags: `ssr_keras.cli.train`): train, evaluate, export, write metrics."""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import sys
from typing import Any, Dict, List

import tensorflow as tf
import tf_keras as keras

from ssr_keras.cli.launch import keras_verbosity
from ssr_keras.data.raw_examples import RawExampleParser, VocabularyIds
from ssr_keras.data.reader import make_dataset
from ssr_keras.export import export_ranker
from ssr_keras.training.config import TrainConfig, build_ranking_model, read_config_mapping
from ssr_keras.training.experiment import run_experiment
from ssr_keras.training.strategy import (
    build_strategy,
    is_chief,
    is_server_task,
    serve_forever,
    task_name,
    variable_shards,
)

# The flags that map onto TrainConfig fields (flag dest -> field); a flag given wins over --config.
_CONFIG_FLAGS = ("layout", "epochs", "batch_size", "learning_rate", "embedding_dim", "embedding_l2", "patience",
                 "seed", "min_count", "max_train_rows", "max_valid_rows", "embedding", "embedding_budget",
                 "embedding_options")


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


def run(args: argparse.Namespace) -> int:
    """Runs `ssr-train` with parsed flags; a bad config or data raises ValueError (one line, exit 2)."""
    config = train_config(args)
    if is_server_task(args.strategy):
        serve_forever()  # until the coordinator's cluster is stopped
        return 0
    strategy = build_strategy(args.strategy)
    if not is_chief(args.strategy):  # a multi-worker replica: same run, its own folder
        args.output = os.path.join(args.output, f"_{task_name(args.strategy)}")
    os.makedirs(args.output, exist_ok=True)
    tensorboard = keras.callbacks.TensorBoard(log_dir=os.path.join(args.output, "tensorboard"))
    result = run_experiment(config, args.data, callbacks=[tensorboard], verbose=keras_verbosity(args.quiet),
                            strategy=strategy)

    result.vocabularies.save(os.path.join(args.output, "vocabularies.json"))
    model_name = args.model_name or f"{result.layout.name}-{config.backbone}"
    export_dir = os.path.join(args.output, "serving", model_name, str(args.version))
    test_path = result.layout.split_paths(args.data)[2]
    # The trained weights as a TF checkpoint: under parameter servers too it restores into a one-process
    # model built from the same config and vocabularies (a sharded table is saved whole).
    checkpoint = tf.train.Checkpoint(model=result.model).write(os.path.join(args.output, "checkpoint", "model"))
    servable = result.model
    if args.strategy == "parameter-server":
        # Exported straight from the coordinator, the second shard of a split table scored differently
        # from the checkpoint (served test AUC 0.866 against 0.882 on frappe): serve a one-process copy.
        servable = build_ranking_model(config, result.vocabularies.field_specs(result.layout))
        servable(next(iter(make_dataset(result.layout, test_path, result.vocabularies, 8)))[0])
        tf.train.Checkpoint(model=servable).read(checkpoint).assert_existing_objects_matched().expect_partial()
    parser = RawExampleParser(result.layout, VocabularyIds(result.layout, result.vocabularies))
    export_ranker(servable, export_dir, parser, result.layout.feature_columns,
                  warmup_examples=_warmup_rows(result.layout, test_path))
    metrics = dict(result.metrics, saved_model=export_dir, checkpoint=checkpoint, strategy=args.strategy,
                   variable_shards=variable_shards(result.model))
    with open(os.path.join(args.output, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=2)
    print(f"test AUC {metrics['test_auc']:.4f}  test logloss {metrics['test_logloss']:.4f}  "
          f"non-embedding params {metrics['params_non_embedding']:,}  "
          f"FLOPs/example {metrics['flops_per_example']:,}  -> {args.output}")
    return 0
