"""`create_pipeline`: the TFX pipeline from a folder of CSV files to a blessed model in TF Serving layout.

    LayoutCsvExampleGen -> StatisticsGen -> SchemaGen -> Transform -> Trainer -> Evaluator -> Pusher
                                                          latest blessed model ---^

Wiring only, as in the TFX templates: the model code is in the module files `pipeline/transform.py`
(`preprocessing_fn`) and `pipeline/trainer.py` (`run_fn`), which TFX packages into a user-code wheel.

Example:

>>> from tfx import v1 as tfx
>>> from pipeline.pipeline import create_pipeline
>>> p = create_pipeline(pipeline_name="ssr", pipeline_root="runs/frappe", data_root="data/frappe-ctr",
...                     layout="frappe", serving_model_dir="runs/frappe/serving/ssr",
...                     metadata_path="runs/frappe/metadata.sqlite",
...                     train_config={"backbone": "ssr-d", "epochs": 1})  # doctest: +SKIP
>>> tfx.orchestration.LocalDagRunner().run(p)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any, List, Mapping, Sequence, Tuple, Union

import tensorflow_model_analysis as tfma
from google.protobuf import wrappers_pb2
from tfx import v1 as tfx
from tfx.components.example_gen.component import FileBasedExampleGen
from tfx.dsl.components.base import executor_spec
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2

from pipeline import example_gen, pusher
from pipeline.configs import (
    DEFAULT_BEAM_ARGS,
    EVAL_SIGNATURE,
    HASH_SPLIT,
    LABEL_KEY,
    MAX_AUC_DROP,
    MIN_AUC,
    PREDICTION_KEY,
    TRAINER_MODULE_FILE,
    TRANSFORM_MODULE_FILE,
)
from pipeline.trainer import LABEL_KEY_CONFIG, STRATEGY_CONFIG, check_trainer_strategy
from ssr_keras.data import layouts
from ssr_keras.training import TrainConfig


def example_gen_splits(data_root: str, layout: layouts.Layout
                       ) -> Tuple[example_gen_pb2.Input, example_gen_pb2.Output | None]:
    """ExampleGen input (and output) config for the CSV files in `data_root`.

    When `data_root` holds the layout's train and eval files (e.g. frappe-ctr `train.csv` and
    `valid.csv`) they become the `train` and `eval` splits; otherwise every file in `data_root` is read
    and hash-split train:eval = 4:1.

    Args:
        data_root: folder of CSV files with a header line.
        layout: the dataset layout.
    """
    if layout.splits:
        train_file, eval_file, _ = layout.splits
        if all(fileio.exists(os.path.join(data_root, f)) for f in (train_file, eval_file)):
            return example_gen_pb2.Input(splits=[
                example_gen_pb2.Input.Split(name="train", pattern=train_file),
                example_gen_pb2.Input.Split(name="eval", pattern=eval_file),
            ]), None
    return (example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="all", pattern="*")]),
            example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(splits=[
                example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=buckets)
                for name, buckets in HASH_SPLIT])))


def eval_config(min_auc: float = MIN_AUC, max_auc_drop: float = MAX_AUC_DROP) -> tfma.EvalConfig:
    """TFMA config: AUC, log loss, calibration and example count on the eval split; blessing thresholds.

    A model is blessed when its AUC is at least `min_auc` and, once a blessed model exists, at most
    `max_auc_drop` below that model's AUC (a change threshold against the latest blessed model).

    Args:
        min_auc: lower bound on AUC (value threshold).
        max_auc_drop: largest allowed AUC decrease against the latest blessed model (>= 0).
    """
    if not 0.0 <= min_auc <= 1.0:
        raise ValueError(f"min_auc must be in [0, 1], got {min_auc}.")
    if max_auc_drop < 0.0:
        raise ValueError(f"max_auc_drop must be >= 0 (an allowed decrease), got {max_auc_drop}.")
    auc_threshold = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": min_auc}),
        change_threshold=tfma.GenericChangeThreshold(direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                                                     absolute={"value": -max_auc_drop}))
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(signature_name=EVAL_SIGNATURE, label_key=LABEL_KEY,
                                    prediction_key=PREDICTION_KEY)],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[tfma.MetricsSpec(metrics=[
            tfma.MetricConfig(class_name="ExampleCount"),
            tfma.MetricConfig(class_name="AUC", threshold=auc_threshold),
            tfma.MetricConfig(class_name="BinaryCrossentropy"),  # log loss
            tfma.MetricConfig(class_name="Calibration"),  # mean prediction / mean label
            tfma.MetricConfig(class_name="MeanLabel"),
            tfma.MetricConfig(class_name="MeanPrediction"),
            tfma.MetricConfig(class_name="CalibrationPlot"),
        ])],
        # The model's own compiled metrics are TFRS task metrics, not TFMA-computable ones.
        options=tfma.Options(include_default_metrics=wrappers_pb2.BoolValue(value=False)),
    )


def create_pipeline(
    *,
    pipeline_name: str,
    pipeline_root: str,
    data_root: str,
    layout: str,
    serving_model_dir: str,
    metadata_path: str,
    train_config: Union[TrainConfig, Mapping[str, Any], None] = None,
    train_steps: int | None = None,
    eval_steps: int | None = None,
    min_auc: float = MIN_AUC,
    max_auc_drop: float = MAX_AUC_DROP,
    beam_pipeline_args: Sequence[str] = (),
    enable_cache: bool = True,
    transform_module_file: str = TRANSFORM_MODULE_FILE,
    trainer_module_file: str = TRAINER_MODULE_FILE,
    strategy: str = "default",
) -> tfx.dsl.Pipeline:
    """Builds the CSV -> pushed-model TFX pipeline for one dataset layout.

    Args:
        pipeline_name: name recorded in ML Metadata (caching is per pipeline name).
        pipeline_root: folder for every component's artifacts.
        data_root: folder of the dataset's CSV files (see `example_gen_splits`).
        layout: dataset layout name: "frappe", "movielens", "criteo" or "avazu".
        serving_model_dir: TF Serving model base `<base>/<model_name>`; a blessed model is pushed to
            `<serving_model_dir>/<version>/`.
        metadata_path: SQLite file of ML Metadata.
        train_config: the `TrainConfig` (or a mapping of its fields; defaults for the rest) the Trainer
            trains with; its `min_count` is the Transform's vocabulary frequency threshold and its
            `layout` is set to `layout`. Row limits (`max_train_rows`) are not for the pipeline: slice
            the input files instead (`ssr-pipeline run --max-rows`).
        train_steps: total training steps; None trains `epochs` full passes.
        eval_steps: validation steps during training; None uses the whole eval split.
        min_auc: Evaluator value threshold on AUC.
        max_auc_drop: Evaluator change threshold: largest AUC drop against the latest blessed model.
        beam_pipeline_args: Beam options appended after `DEFAULT_BEAM_ARGS` (so they override them):
            choose the runner (Flink, Spark, Dataflow) here.
        enable_cache: reuse the outputs of components whose inputs and code did not change.
        transform_module_file: file defining `preprocessing_fn(inputs, custom_config)`.
        trainer_module_file: file defining `run_fn(fn_args)`.
        strategy: the Trainer's `tf.distribute` strategy (`ssr_keras.training.strategy`): "default",
            "mirrored" or "parameter-server" (the cluster from `TF_CONFIG`, the Trainer's process being
            its chief; needs `train_steps` and `eval_steps`).

    Returns:
        The `tfx.dsl.Pipeline`, to run with e.g. `tfx.orchestration.LocalDagRunner().run(...)`.
    """
    dataset_layout = layouts.get_layout(layout)
    if not isinstance(train_config, TrainConfig):
        train_config = TrainConfig.from_dict(dict(train_config or {}))  # fail now on a typo, not after Transform
    train_config = train_config.replace(layout=dataset_layout.reference)  # a name, or a layout file inline
    if train_config.max_train_rows or train_config.max_valid_rows:
        raise ValueError("train_config: max_train_rows / max_valid_rows are not used by the pipeline; slice the "
                         f"input files instead (ssr-pipeline run --max-rows). Received: {train_config.max_train_rows!r}"
                         f" / {train_config.max_valid_rows!r}")
    if train_steps is not None and train_steps <= 0:
        raise ValueError(f"train_steps must be positive or None, got {train_steps}.")
    if eval_steps is not None and eval_steps <= 0:
        raise ValueError(f"eval_steps must be positive or None, got {eval_steps}.")
    if not fileio.isdir(data_root):
        raise ValueError(f"data_root {data_root!r} is not a folder of CSV files.")
    check_trainer_strategy(strategy, train_steps, eval_steps)

    input_config, output_config = example_gen_splits(data_root, dataset_layout)
    example_gen_component = FileBasedExampleGen(
        input_base=data_root,
        input_config=input_config,
        output_config=output_config,
        custom_config=example_gen.layout_custom_config(dataset_layout.reference, LABEL_KEY),
        custom_executor_spec=executor_spec.BeamExecutorSpec(example_gen.Executor),
    ).with_id("LayoutCsvExampleGen")

    statistics_gen = tfx.components.StatisticsGen(examples=example_gen_component.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"],
                                          infer_feature_shape=True)

    transform = tfx.components.Transform(
        examples=example_gen_component.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        module_file=transform_module_file,
        custom_config={"layout": dataset_layout.reference, "label_key": LABEL_KEY,
                       "min_count": train_config.min_count},
    )

    trainer = tfx.components.Trainer(
        module_file=trainer_module_file,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        train_args=tfx.proto.TrainArgs(num_steps=train_steps or 0),  # 0: unset, see trainer.run_fn
        eval_args=tfx.proto.EvalArgs(num_steps=eval_steps or 0),
        custom_config={**train_config.to_dict(), LABEL_KEY_CONFIG: LABEL_KEY, STRATEGY_CONFIG: strategy},
    )

    # The change threshold compares against the latest blessed model (none on the first run).
    model_resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("LatestBlessedModelResolver")

    # The served signature scores the raw examples: evaluation sees exactly what serving will.
    evaluator = tfx.components.Evaluator(
        examples=example_gen_component.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=model_resolver.outputs["model"],
        eval_config=eval_config(min_auc, max_auc_drop),
    )

    # Re-runs re-bless the cached model against itself; this Pusher does not copy it again.
    pusher_component = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving_model_dir)),
        custom_executor_spec=executor_spec.ExecutorClassSpec(pusher.Executor),
    )

    components: List[Any] = [example_gen_component, statistics_gen, schema_gen, transform, trainer,
                             model_resolver, evaluator, pusher_component]
    return tfx.dsl.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        components=components,
        enable_cache=enable_cache,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            metadata_path),
        beam_pipeline_args=list(DEFAULT_BEAM_ARGS) + list(beam_pipeline_args),
    )
