"""TFX Trainer module file: trains the `TrainConfig` in `custom_config` on Transform output, exports it.

TFX packages this file into a user-code wheel, so it imports installed packages only. Model building,
fitting (early stopping on validation AUC) and the serving export are the library's
(`ssr_keras.training`, `ssr_keras.export`): this file only wires the Transform output to them.

`custom_config` (set by `pipeline.pipeline.create_pipeline`): the fields of
`ssr_keras.training.TrainConfig` (unset ones take its defaults) plus `label_key`, the label feature.

The exported model's `serving_default` takes serialized `tf.Example`s with the *raw* columns, typed as
TFX's CsvExampleGen types them (as the pipeline's ExampleGen writes them), and applies the Transform
graph inside, so serving cannot skew from training, and a request that fits a model trained by
`ssr-train` fits this one too (the same `RawExampleParser`, the same ids).

Example (what the Trainer component does with this file):

>>> run_fn(fn_args)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Callable, Dict, List, Mapping, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

from ssr_keras.data import ids, layouts
from ssr_keras.data.raw_examples import RawExampleParser
from ssr_keras.export import export_ranker
from ssr_keras.models.ranking import RankingModel
from ssr_keras.training import TrainConfig, build_ranking_model
from ssr_keras.training.codebooks import codebook_embedders, training_pairs
from ssr_keras.training.experiment import fit_ranking_model
from ssr_keras.training.strategy import STRATEGIES, build_strategy, report_replica_metrics, training_input

LABEL_KEY_CONFIG = "label_key"
# The `custom_config` key of the `tf.distribute` strategy name (`ssr_keras.training.strategy`).
STRATEGY_CONFIG = "strategy"
# LocalDagRunner runs the Trainer in one process; multi-worker needs every worker to run it.
TRAINER_STRATEGIES = tuple(name for name in STRATEGIES if name != "multi-worker")


def check_trainer_strategy(strategy: str, train_steps: int | None, eval_steps: int | None) -> None:
    """A ValueError unless the Trainer can train under `strategy` with these step counts."""
    if strategy not in TRAINER_STRATEGIES:
        raise ValueError(f"The Trainer's strategy must be one of {list(TRAINER_STRATEGIES)}. Received: {strategy!r}"
                         + (" (multi-worker needs every worker to run the Trainer, and LocalDagRunner runs it in "
                            "one process: use parameter-server, or ssr-train --strategy multi-worker)"
                            if strategy == "multi-worker" else ""))
    if strategy == "parameter-server" and not (train_steps and eval_steps):
        raise ValueError("The Trainer's parameter-server strategy needs train_steps and eval_steps (--train-steps, "
                         "--eval-steps): its workers read endless copies of the data. Received: "
                         f"{train_steps!r} / {eval_steps!r}")


def split_custom_config(custom_config: Mapping[str, Any] | None) -> Tuple[TrainConfig, str]:
    """`custom_config` -> (`TrainConfig`, label key); a ValueError names unknown keys or bad values."""
    values = dict(custom_config or {})
    if LABEL_KEY_CONFIG not in values:
        raise ValueError(f"Trainer custom_config needs {LABEL_KEY_CONFIG!r} (the label feature). "
                         f"Received keys: {sorted(values)}")
    label_key = values.pop(LABEL_KEY_CONFIG)
    values.pop(STRATEGY_CONFIG, None)  # how to run, read by run_fn
    return TrainConfig.from_dict(values), label_key


class TransformIds(tf.Module):
    """Raw string columns `[B]` -> model ids, through the pipeline's Transform graph.

    Being a `tf.Module`, it carries the Transform graph's vocabularies into the exported SavedModel.

    Args:
        tf_transform_output: the Transform component's output.
        layout: the data set layout the pipeline was built for.
    """

    def __init__(self, tf_transform_output: tft.TFTransformOutput, layout: layouts.Layout):
        super().__init__(name="transform_ids")
        self._field_names = layout.field_names
        # The Transform graph was traced on the ExampleGen's typed columns as SchemaGen saw them: dense
        # [1] where every row has the column, sparse where some lack it, absent where all do.
        raw_spec = tf_transform_output.raw_feature_spec()
        self._spec = {column: raw_spec[column] for column in layout.feature_columns if column in raw_spec}
        self.transform_layer = tf_transform_output.transform_features_layer()

    def __call__(self, raw: Mapping[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
        # The request's text columns (`RawExampleParser`) back to the typed inputs of the Transform graph,
        # exactly: int64 and float32 text round-trips; blank text is an absent value.
        inputs = {column: _typed_input(raw[column], spec) for column, spec in self._spec.items()}
        # The label is not among the inputs: the Transform layer prunes what depends on it.
        transformed = self.transform_layer(inputs)
        return {name: transformed[name] for name in self._field_names}


def _typed_input(text: tf.Tensor, spec: Any) -> Any:
    """Text `[B]` -> the Transform input `spec` describes: dense `[B]` / `[B, 1]`, or sparse `[B, 1]`."""
    if isinstance(spec, tf.io.VarLenFeature):
        rows = tf.where(tf.not_equal(text, ""))[:, 0]
        values = tf.gather(text, rows)
        values = values if spec.dtype == tf.string else tf.strings.to_number(values, spec.dtype)
        return tf.SparseTensor(tf.stack([rows, tf.zeros_like(rows)], axis=1), values,
                               tf.stack([tf.shape(text, out_type=tf.int64)[0], tf.constant(1, tf.int64)]))
    value = text if spec.dtype == tf.string else tf.strings.to_number(text, spec.dtype)
    return tf.expand_dims(value, -1) if list(spec.shape) == [1] else value


def _dataset(file_pattern: List[str], data_accessor: tfx.components.DataAccessor,
             tf_transform_output: tft.TFTransformOutput, label_key: str, batch_size: int,
             shuffle: bool, seed: int, repeat: bool) -> tf.data.Dataset:
    """Transformed examples -> `(features, labels)` batches."""
    options = tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=label_key, shuffle=shuffle,
                                             shuffle_seed=seed, num_epochs=None if repeat else 1)
    return data_accessor.tf_dataset_factory(file_pattern, options,
                                            tf_transform_output.transformed_metadata.schema)


def build_model(tf_transform_output: tft.TFTransformOutput, layout: layouts.Layout, config: TrainConfig,
                train_pairs: Callable[[], Tuple[np.ndarray, np.ndarray, np.ndarray]]) -> RankingModel:
    """A compiled `RankingModel` whose embedding tables match the Transform vocabularies.

    `train_pairs` gives the training split's (users, items, labels) when `config.embedding` needs them
    (BACO codebooks are clustered on the training split only).
    """
    fields = [field.with_vocab_size(ids.vocab_size(
        tf_transform_output.vocabulary_size_by_name(ids.vocabulary_name(field.name)))) for field in layout.fields]
    embedders = codebook_embedders(config, layout, fields, *train_pairs()) if config.embedding != "table" else None
    return build_ranking_model(config, fields, embedders)


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """Trains the configured ranking model on the transformed examples and exports it for serving.

    Args:
        fn_args: TFX Trainer arguments: `train_files`/`eval_files`, `transform_graph_path`,
            `train_steps`/`eval_steps` (None: one full pass per epoch / over the eval split),
            `custom_config`, `serving_model_dir` and `model_run_dir` (TensorBoard logs).
    """
    config, label_key = split_custom_config(fn_args.custom_config)
    strategy_name = dict(fn_args.custom_config or {}).get(STRATEGY_CONFIG, "default")
    check_trainer_strategy(strategy_name, fn_args.train_steps, fn_args.eval_steps)
    strategy = build_strategy(strategy_name)
    parameter_servers = strategy_name == "parameter-server"
    layout = layouts.get_layout(config.layout)
    keras.utils.set_random_seed(config.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)

    # With train_steps the data repeats and the steps are spread over the epochs; without, each
    # epoch is one pass over the training split.
    steps_per_epoch = math.ceil(fn_args.train_steps / config.epochs) if fn_args.train_steps else None
    train_ds = training_input(strategy, lambda _: _dataset(
        fn_args.train_files, fn_args.data_accessor, tf_transform_output, label_key, config.batch_size,
        shuffle=True, seed=config.seed, repeat=steps_per_epoch is not None))
    eval_ds = _dataset(fn_args.eval_files, fn_args.data_accessor, tf_transform_output, label_key,
                       config.batch_size, shuffle=False, seed=0, repeat=parameter_servers)

    def train_pairs():
        one_pass = _dataset(fn_args.train_files, fn_args.data_accessor, tf_transform_output, label_key,
                            config.batch_size, shuffle=False, seed=0, repeat=False)
        return training_pairs(one_pass, layout)

    with strategy.scope():
        model = report_replica_metrics(build_model(tf_transform_output, layout, config, train_pairs))
    tensorboard = keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir, update_freq="epoch")
    fit_ranking_model(model, train_ds, eval_ds, config, callbacks=[tensorboard], verbose=2,
                      steps_per_epoch=steps_per_epoch, validation_steps=fn_args.eval_steps)

    parser = RawExampleParser(layout, TransformIds(tf_transform_output, layout))
    export_ranker(model, fn_args.serving_model_dir, parser, layout.feature_columns)
    # What was trained, next to the TensorBoard logs (the SavedModel itself stays TF Serving's).
    with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir, "model_config.json"), "w") as f:
        json.dump({**model.describe(), "training": config.to_dict()}, f, indent=2)
