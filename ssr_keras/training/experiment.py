"""One ranking training run end to end: vocabularies, datasets, model, early stopping, test metrics.

`run_experiment` is what `ssr-train` and the quality/scaling benchmarks run, and `fit_ranking_model`
is the fitting step the TFX Trainer shares with it, so a benchmark row, a CLI run and a pipeline run
with the same `TrainConfig` train the same way.

Example:

>>> result = run_experiment(TrainConfig(backbone="dnn", epochs=1, max_train_rows=5000),
...                         "../shared/data/frappe-ctr")  # doctest: +SKIP
>>> result.metrics["test_auc"]  # doctest: +SKIP
0.93...
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import tensorflow as tf
import tf_keras as keras

from ssr_keras.analysis.flops import flops_per_example
from ssr_keras.analysis.params import count_params
from ssr_keras.data import csv_files
from ssr_keras.data.in_memory import estimated_rows, in_memory_batches
from ssr_keras.data.layouts import Layout, get_layout
from ssr_keras.data.quantile_edges import with_training_quantiles
from ssr_keras.data.reader import make_dataset
from ssr_keras.data.vocabulary import Vocabularies, build_vocabularies
from ssr_keras.models.ranking import RankingModel
from ssr_keras.training.callbacks import TrainingThroughput
from ssr_keras.training.codebooks import codebook_embedders, training_pairs
from ssr_keras.training.config import TrainConfig, build_ranking_model
from ssr_keras.training.strategy import data_sharded, report_replica_metrics, training_input

# What early stopping watches: the validation AUC of `RankingModel`'s task.
EARLY_STOPPING_METRIC = "val_auc"
# Rows per batch while a split is read into memory once (larger batches parse faster).
_LOAD_BATCH_ROWS = 8192


@dataclasses.dataclass
class ExperimentResult:
    """A finished run: the trained model, its vocabularies and layout, and the metrics record."""

    model: RankingModel
    vocabularies: Vocabularies
    layout: Layout
    metrics: Dict[str, Any]


def fit_ranking_model(model: RankingModel, train: Any, valid: tf.data.Dataset,
                      config: TrainConfig, callbacks: Sequence[keras.callbacks.Callback] = (),
                      verbose: int | str = 1, steps_per_epoch: int | None = None,
                      validation_steps: int | None = None) -> Tuple[keras.callbacks.History, TrainingThroughput]:
    """Fits with early stopping on validation AUC (best weights restored) and measures throughput.

    Args:
        model: a compiled `RankingModel`.
        train, valid: `(features, labels)` batches (train: or what `strategy.training_input` gives).
        config: epochs, patience and batch size come from here.
        callbacks: extra callbacks (TensorBoard, progress lines, ...).
        verbose: Keras `fit` verbosity.
        steps_per_epoch, validation_steps: for repeated datasets (the TFX Trainer's `train_steps`).

    Returns:
        The Keras `History` and the `TrainingThroughput` callback.
    """
    throughput = TrainingThroughput(config.batch_size)
    early_stopping = keras.callbacks.EarlyStopping(
        monitor=EARLY_STOPPING_METRIC, mode="max", patience=config.patience, restore_best_weights=True)
    history = model.fit(train, validation_data=valid, epochs=config.epochs, verbose=verbose,
                        steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
                        callbacks=[throughput, early_stopping, *callbacks])
    return history, throughput


def run_experiment(config: TrainConfig, data_dir: str, callbacks: Sequence[keras.callbacks.Callback] = (),
                   verbose: int | str = 1, vocabularies: Vocabularies | None = None,
                   embedders: Mapping[str, keras.layers.Layer] | None = None,
                   strategy: tf.distribute.Strategy | None = None) -> ExperimentResult:
    """Trains `config.backbone` on `data_dir`'s train split, early-stops on valid, scores test.

    Args:
        config: the run's settings.
        data_dir: folder holding the layout's train/valid/test CSV files.
        callbacks: extra Keras callbacks (e.g. TensorBoard).
        verbose: Keras `fit` verbosity (1 = progress bar, 2 = one line per epoch).
        vocabularies: reuse prebuilt vocabularies (benchmarks build them once); default builds them
            from the training rows used.
        embedders: per-field embedder overrides (see `ssr_keras.embeddings`).
        strategy: the `tf.distribute` strategy (`ssr_keras.training.strategy.build_strategy`) the model
            is built and trained under; default: the current one. Under parameter servers the datasets
            repeat and every epoch, validation and the test evaluation take the steps of one pass
            (Keras's inexact evaluation: the workers share the steps, not the rows).

    Returns:
        An `ExperimentResult` whose `metrics` holds test AUC/log-loss, parameter counts, FLOPs per
        example, training examples/s, epochs, validation history and the config.
    """
    layout = get_layout(config.layout)
    train_path, valid_path, test_path = layout.split_paths(data_dir)
    layout = with_training_quantiles(layout, train_path, config.max_train_rows)  # `bucketing: {quantiles: N}`
    keras.utils.set_random_seed(config.seed)
    if vocabularies is None:
        vocabularies = build_vocabularies(layout, train_path, min_count=config.min_count,
                                          max_rows=config.max_train_rows)
    strategy = strategy or tf.distribute.get_strategy()
    # Parameter-server workers pull from endless copies of the data; Keras then needs the step counts.
    steps = isinstance(strategy, tf.distribute.ParameterServerStrategy)
    train = training_input(strategy, lambda _: _split_batches(
        layout, train_path, vocabularies, config, shuffle=True, max_rows=config.max_train_rows, repeat=steps))
    valid = data_sharded(_split_batches(layout, valid_path, vocabularies, config, shuffle=False,
                                        max_rows=config.max_valid_rows, repeat=steps))
    test = data_sharded(make_dataset(layout, test_path, vocabularies, config.batch_size, repeat=steps))
    train_steps, valid_steps, test_steps = (
        (_batches(layout, path, config.batch_size, rows) for path, rows in
         ((train_path, config.max_train_rows), (valid_path, config.max_valid_rows), (test_path, None)))
        if steps else (None, None, None))

    fields = vocabularies.field_specs(layout)
    if config.embedding != "table":
        pairs = training_pairs(make_dataset(layout, train_path, vocabularies, config.batch_size,
                                            max_rows=config.max_train_rows), layout)
        embedders = {**codebook_embedders(config, layout, fields, *pairs), **(embedders or {})}
    with strategy.scope():
        model = report_replica_metrics(build_ranking_model(config, fields, embedders))
        model(next(iter(valid))[0])  # builds the weights so they can be counted before training
    history, throughput = fit_ranking_model(model, train, valid, config, callbacks, verbose,
                                            steps_per_epoch=train_steps, validation_steps=valid_steps)
    test_metrics = model.evaluate(test, return_dict=True, verbose=0, steps=test_steps)
    metrics = _metrics_record(model, config, history, throughput, test_metrics)
    return ExperimentResult(model=model, vocabularies=vocabularies, layout=layout, metrics=metrics)


def _split_batches(layout: Layout, paths: csv_files.Paths, vocabularies: Vocabularies, config: TrainConfig,
                   shuffle: bool, max_rows: int | None, repeat: bool) -> tf.data.Dataset:
    """A split's batches: held in memory when it has at most `config.in_memory_rows` rows, else streamed."""
    def stream() -> tf.data.Dataset:
        return make_dataset(layout, paths, vocabularies, config.batch_size, shuffle=shuffle, seed=config.seed,
                            max_rows=max_rows, repeat=repeat)

    limit = config.in_memory_rows
    # Parameter-server workers each build their own endless copy: they stream. A split clearly larger than
    # the limit is not read at all; one near it is read until it passes the limit.
    if repeat or limit == 0 or (max_rows is None and estimated_rows(paths) > 2 * limit):
        return stream()
    parsed = make_dataset(layout, paths, vocabularies, _LOAD_BATCH_ROWS, max_rows=max_rows)
    _, batches = in_memory_batches(parsed, config.batch_size, shuffle=shuffle, seed=config.seed, max_rows=limit)
    return batches if batches is not None else stream()


def _batches(layout: Layout, paths: csv_files.Paths, batch_size: int, max_rows: int | None) -> int:
    """Batches in one pass over the data rows of `paths` (the first `max_rows` of them)."""
    rows = 0
    for path in csv_files.resolve_paths(paths):
        with open(path, "rb") as f:
            rows += sum(1 for line in f if line.strip()) - int(csv_files.has_header(layout, path))
    return math.ceil(min(rows, max_rows or rows) / batch_size)


def _metrics_record(model: RankingModel, config: TrainConfig, history: keras.callbacks.History,
                    throughput: TrainingThroughput, test_metrics: Mapping[str, float]) -> Dict[str, Any]:
    val_auc: List[float] = [float(v) for v in history.history.get(EARLY_STOPPING_METRIC, [])]
    params = count_params(model)
    return {
        "model": config.backbone,
        "seed": config.seed,
        "test_auc": float(test_metrics["auc"]),
        "test_logloss": float(test_metrics["logloss"]),
        "params_embedding": params["embedding"],
        "params_non_embedding": params["non_embedding"],
        "flops_per_example": flops_per_example(model),
        "train_examples_per_sec": throughput.examples_per_sec,
        "epochs_trained": len(val_auc),
        "best_epoch": int(max(range(len(val_auc)), key=val_auc.__getitem__)) + 1 if val_auc else None,
        "best_val_auc": max(val_auc) if val_auc else None,
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "config": config.to_dict(),
    }
