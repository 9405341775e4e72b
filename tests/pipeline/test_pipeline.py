"""`create_pipeline` wiring, split selection and the Evaluator's blessing thresholds (no run)."""

import json

import pytest
import tensorflow_model_analysis as tfma

from pipeline import pipeline as ssr_pipeline
from ssr_keras.data import layouts
from ssr_keras.training import TrainConfig


def _create(tmp_path, data_root, **kwargs):
    return ssr_pipeline.create_pipeline(
        pipeline_name="test", pipeline_root=str(tmp_path / "root"), data_root=str(data_root),
        layout=kwargs.pop("layout", "frappe"), serving_model_dir=str(tmp_path / "serving" / "test"),
        metadata_path=str(tmp_path / "metadata.sqlite"), **kwargs)


def test_components_are_wired_from_example_gen_to_pusher(tmp_path, data_dir):
    pipeline = _create(tmp_path, data_dir / "frappe-ctr", train_config={"backbone": "dnn", "min_count": 2},
                       train_steps=100)

    ids = [c.id for c in pipeline.components]
    assert set(ids) == {"LayoutCsvExampleGen", "StatisticsGen", "SchemaGen", "Transform", "Trainer",
                        "LatestBlessedModelResolver", "Evaluator", "Pusher"}
    components = dict(zip(ids, pipeline.components))
    assert '"min_count": 2' in components["Transform"].exec_properties["custom_config"]
    trainer_config = json.loads(components["Trainer"].exec_properties["custom_config"])
    # The whole TrainConfig, its defaults filled in, travels to the Trainer.
    expected = TrainConfig(layout="frappe", backbone="dnn", min_count=2).to_dict()
    assert trainer_config == {**expected, "label_key": "label", "strategy": "default"}
    # The Evaluator scores the raw examples (through the serving signature), not transformed ones.
    evaluator_inputs = components["Evaluator"].inputs
    assert evaluator_inputs["examples"].producer_component_id == "LayoutCsvExampleGen"
    assert evaluator_inputs["baseline_model"].producer_component_id == "LatestBlessedModelResolver"


def test_beam_args_come_after_the_defaults_so_they_override_them(tmp_path, data_dir):
    pipeline = _create(tmp_path, data_dir / "frappe-ctr",
                       beam_pipeline_args=["--direct_num_workers=2", "--runner=FlinkRunner"])
    assert pipeline.beam_pipeline_args == [*ssr_pipeline.DEFAULT_BEAM_ARGS, "--direct_num_workers=2",
                                           "--runner=FlinkRunner"]


def test_split_files_become_train_and_eval(data_dir):
    input_config, output_config = ssr_pipeline.example_gen_splits(str(data_dir / "frappe-ctr"),
                                                                  layouts.get_layout("frappe"))
    assert [(s.name, s.pattern) for s in input_config.splits] == [("train", "train.csv"), ("eval", "valid.csv")]
    assert output_config is None


def test_folder_without_split_files_is_hash_split(data_dir):
    input_config, output_config = ssr_pipeline.example_gen_splits(str(data_dir / "criteo-sample"),
                                                                  layouts.get_layout("criteo"))
    assert [(s.name, s.pattern) for s in input_config.splits] == [("all", "*")]
    assert [(s.name, s.hash_buckets) for s in output_config.split_config.splits] == [("train", 4), ("eval", 1)]


def test_eval_config_has_value_and_change_thresholds_on_auc():
    config = ssr_pipeline.eval_config(min_auc=0.7, max_auc_drop=0.02)

    metrics = {m.class_name: m for m in config.metrics_specs[0].metrics}
    assert {"ExampleCount", "AUC", "BinaryCrossentropy", "Calibration"} <= set(metrics)
    threshold = metrics["AUC"].threshold
    assert threshold.value_threshold.lower_bound.value == 0.7
    assert threshold.change_threshold.absolute.value == -0.02
    assert threshold.change_threshold.direction == tfma.MetricDirection.HIGHER_IS_BETTER
    assert config.model_specs[0].label_key == ssr_pipeline.LABEL_KEY
    assert config.options.include_default_metrics.value is False


@pytest.mark.parametrize("kwargs, message", [
    ({"min_auc": 1.5}, "min_auc must be in"),
    ({"max_auc_drop": -0.1}, "max_auc_drop must be >= 0"),
    ({"train_steps": 0}, "train_steps must be positive"),
    ({"layout": "nope"}, "unknown layout 'nope'"),
    ({"train_config": {"epoch": 2}}, r"Unknown training config key\(s\) \['epoch'\]"),
    ({"train_config": {"max_train_rows": 10}}, "not used by the pipeline"),
])
def test_bad_arguments_are_reported(tmp_path, data_dir, kwargs, message):
    with pytest.raises(ValueError, match=message):
        _create(tmp_path, data_dir / "frappe-ctr", **kwargs)


def test_missing_data_folder_is_reported(tmp_path):
    with pytest.raises(ValueError, match="is not a folder"):
        _create(tmp_path, tmp_path / "nowhere")
