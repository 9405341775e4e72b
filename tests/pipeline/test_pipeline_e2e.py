"""End to end on a frappe-ctr slice: every artifact, the pushed model, caching and the blessing gate."""

import csv
import glob
import json
import os
import pathlib
import sys
from unittest import mock

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
import tensorflow_transform as tft
from tensorflow.core.protobuf import saved_model_pb2

from pipeline import cli
from pipeline.run_summary import summarize_last_run
from ssr_keras.cli import train as ssr_train
from ssr_keras.data import Vocabularies, ids, layouts
from ssr_keras.export import layout_example

from .slices import SMALL_DATA_CONFIG, run_args, slice_splits

pytestmark = pytest.mark.slow

TRAIN_ROWS, EVAL_ROWS = 2000, 500
LAYOUT = layouts.get_layout("frappe")
UPSTREAM = ("LayoutCsvExampleGen", "StatisticsGen", "SchemaGen", "Transform", "Trainer")


def _run_args(data: pathlib.Path, output: pathlib.Path, min_auc: float) -> list:
    return list(run_args(data, output, "frappe", "--min-auc", str(min_auc), epochs=4))


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, data_dir):
    """One full pipeline run on a slice of frappe-ctr (train.csv / valid.csv as train / eval)."""
    data = slice_splits(data_dir / "frappe-ctr", tmp_path_factory.mktemp("frappe"), TRAIN_ROWS, EVAL_ROWS)
    output = tmp_path_factory.mktemp("run")
    # With -v on the command line as the console script sees it: TFX's Beam executors parse sys.argv
    # with absl, which once read our -v as its --verbosity and failed the Transform.
    argv = [*_run_args(data, output, min_auc=0.6), "-v"]
    with mock.patch.object(sys, "argv", ["ssr-pipeline", *argv]):
        assert cli.main(argv) == 0
    return data, output, summarize_last_run(str(output / "metadata.sqlite"), "ssr")


@pytest.fixture(scope="module")
def same_rerun(first_run):
    """The identical command again."""
    data, output, _ = first_run
    assert cli.main(_run_args(data, output, min_auc=0.6)) == 0
    return summarize_last_run(str(output / "metadata.sqlite"), "ssr")


@pytest.fixture(scope="module")
def failing_rerun(first_run, same_rerun):
    """The same pipeline again with an AUC bound no model reaches."""
    data, output, _ = first_run
    assert cli.main(_run_args(data, output, min_auc=0.999)) == 0
    return summarize_last_run(str(output / "metadata.sqlite"), "ssr")


def _only(pattern: str) -> str:
    matches = glob.glob(pattern)
    assert len(matches) == 1, (pattern, matches)
    return matches[0]


def test_every_component_ran_and_the_model_was_blessed_and_pushed(first_run):
    _, output, summary = first_run
    assert [c.component for c in summary.components] == [
        "LatestBlessedModelResolver", *UPSTREAM, "Evaluator", "Pusher"]
    assert {c.state for c in summary.components} == {"ran"}
    assert summary.blessed is True
    assert summary.pushed_path == _only(str(output / "serving" / "ssr" / "*"))


def test_example_gen_writes_train_and_eval_with_csv_example_gen_typed_features(first_run):
    _, output, _ = first_run
    examples = _only(str(output / "LayoutCsvExampleGen" / "examples" / "*"))
    counts = {}
    for split in ("train", "eval"):
        files = glob.glob(os.path.join(examples, f"Split-{split}", "*.gz"))
        records = list(tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator())
        counts[split] = len(records)
        example = tf.train.Example.FromString(records[0])
        kinds = {"int64": "int64_list", "float": "float_list", "bytes": "bytes_list"}
        for column in LAYOUT.feature_columns:
            assert example.features.feature[column].WhichOneof("kind") == kinds[LAYOUT.column_type(column)], column
        assert example.features.feature["label"].float_list.value[0] in (0.0, 1.0)
    assert counts == {"train": TRAIN_ROWS, "eval": EVAL_ROWS}


def test_statistics_schema_and_transform_artifacts(first_run):
    _, output, _ = first_run
    assert glob.glob(str(output / "StatisticsGen" / "statistics" / "*" / "Split-train" / "FeatureStats.pb"))
    schema = _only(str(output / "SchemaGen" / "schema" / "*" / "schema.pbtxt"))
    assert 'name: "user"' in pathlib.Path(schema).read_text()

    transform_output = tft.TFTransformOutput(_only(str(output / "Transform" / "transform_graph" / "*")))
    feature_spec = transform_output.transformed_feature_spec()
    assert set(feature_spec) == set(LAYOUT.field_names) | {"label"}
    assert all(feature_spec[f].dtype == tf.int64 for f in LAYOUT.field_names)
    assert transform_output.vocabulary_size_by_name("vocab_user") > 100
    transformed = _only(str(output / "Transform" / "transformed_examples" / "*"))
    assert glob.glob(os.path.join(transformed, "Split-train", "*"))
    assert glob.glob(os.path.join(transformed, "Split-eval", "*"))


def test_trainer_writes_serving_model_tensorboard_logs_and_config(first_run):
    _, output, _ = first_run
    model_dir = _only(str(output / "Trainer" / "model" / "*" / "Format-Serving"))
    saved_model = saved_model_pb2.SavedModel.FromString(
        pathlib.Path(model_dir, "saved_model.pb").read_bytes())
    method_names = {k: v.method_name for k, v in saved_model.meta_graphs[0].signature_def.items()
                    if not k.startswith("__")}
    assert method_names == {"serving_default": "tensorflow/serving/predict",
                            "predict": "tensorflow/serving/predict",
                            "classification": "tensorflow/serving/classify",
                            "regression": "tensorflow/serving/regress"}
    model_run = _only(str(output / "Trainer" / "model_run" / "*"))
    assert glob.glob(os.path.join(model_run, "**", "events.out.tfevents.*"), recursive=True)
    config = json.loads(pathlib.Path(model_run, "model_config.json").read_text())
    assert config["backbone"] == "ssr-d" and config["training"]["epochs"] == 4


def test_evaluator_computes_auc_logloss_calibration_and_count(first_run):
    _, output, summary = first_run
    assert summary.metrics["example_count"] == EVAL_ROWS
    assert 0.6 <= summary.metrics["auc"] <= 1.0
    assert 0.0 < summary.metrics["binary_crossentropy"] < 1.0
    assert summary.metrics["calibration"] > 0.0
    evaluation = _only(str(output / "Evaluator" / "evaluation" / "*"))
    assert tfma.load_validation_result(evaluation).validation_ok
    assert glob.glob(str(output / "Evaluator" / "blessing" / "*" / "BLESSED"))


def test_pushed_model_scores_raw_examples_like_transform_graph_plus_model(first_run):
    data, output, summary = first_run
    rows = _request_rows(data)
    serialized = tf.constant([layout_example(LAYOUT, row).SerializeToString() for row in rows])

    served = tf.saved_model.load(summary.pushed_path)
    probabilities = served.signatures["serving_default"](examples=serialized)["probabilities"].numpy()

    # The same rows through the Transform graph and the trained Keras model, outside the signature.
    transform_output = tft.TFTransformOutput(_only(str(output / "Transform" / "transform_graph" / "*")))
    features = transform_output.transform_raw_features(_raw_features(transform_output, serialized),
                                                       drop_unused_features=True)
    expected = served.model({f: features[f] for f in LAYOUT.field_names}).numpy()

    assert probabilities.shape == (64, 1)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-5, atol=1e-6)
    scores = served.signatures["classification"](inputs=serialized)["scores"].numpy()
    np.testing.assert_allclose(scores[:, 1:], probabilities, rtol=1e-6)


@pytest.fixture(scope="module")
def ssr_train_run(tmp_path_factory, first_run):
    """`ssr-train` on the very rows the pipeline trained on (its own export, its own vocabularies)."""
    data, _, _ = first_run
    train_data = tmp_path_factory.mktemp("ssr_train_data")
    for split in ("train", "valid"):
        (train_data / f"{split}.csv").write_bytes((data / f"{split}.csv").read_bytes())
    (train_data / "test.csv").write_bytes((data / "valid.csv").read_bytes())
    output = tmp_path_factory.mktemp("ssr_train_run")
    assert ssr_train.main(["--data", str(train_data), "--layout", "frappe", "--model", "ssr-d", "--output",
                           str(output), "--epochs", "1", "--quiet", "--config", json.dumps(SMALL_DATA_CONFIG)]) == 0
    return output


def _request_rows(data: pathlib.Path) -> list:
    with open(data / "valid.csv", encoding="utf-8") as f:
        rows = [{c: row[c] for c in LAYOUT.feature_columns} for _, row in zip(range(64), csv.DictReader(f))]
    rows[0]["user"] = "987654321"  # a user never seen in training: the OOV bucket
    return rows


def _raw_features(transform_output, serialized) -> dict:
    """Requests parsed as the Transform graph's raw inputs (typed as the ExampleGen types them)."""
    spec = {c: f for c, f in transform_output.raw_feature_spec().items() if c in LAYOUT.feature_columns}
    return tf.io.parse_example(serialized, spec)


def test_pipeline_and_ssr_train_give_the_same_ids(first_run, ssr_train_run):
    data, output, _ = first_run
    rows = _request_rows(data)
    transform_output = tft.TFTransformOutput(_only(str(output / "Transform" / "transform_graph" / "*")))
    serialized = tf.constant([layout_example(LAYOUT, row).SerializeToString() for row in rows])
    pipeline_ids = transform_output.transform_raw_features(_raw_features(transform_output, serialized),
                                                           drop_unused_features=True)
    vocabularies = Vocabularies.load(ssr_train_run / "vocabularies.json")
    csv_text = {c: tf.constant([row[c] for row in rows]) for c in LAYOUT.feature_columns}
    reader_ids = vocabularies.lookup_layer(LAYOUT)(LAYOUT.to_fields(csv_text))
    for field in LAYOUT.field_names:
        assert pipeline_ids[field].numpy().tolist() == reader_ids[field].numpy().tolist(), field
        assert transform_output.vocabulary_size_by_name(ids.vocabulary_name(field)) + 1 == \
            vocabularies.vocab_size(field), field
    assert reader_ids["user"][0] == ids.OOV_ID


def test_models_of_ssr_train_and_the_pipeline_accept_the_same_requests(first_run, ssr_train_run):
    data, _, summary = first_run
    serialized = tf.constant([layout_example(LAYOUT, row).SerializeToString() for row in _request_rows(data)])
    trained_export = _only(str(ssr_train_run / "serving" / "frappe-ssr-d" / "1"))
    for path in (summary.pushed_path, trained_export):
        served = tf.saved_model.load(path)
        probabilities = served.signatures["serving_default"](examples=serialized)["probabilities"].numpy()
        assert probabilities.shape == (64, 1) and np.all((probabilities > 0) & (probabilities < 1)), path
        scores = served.signatures["classification"](inputs=serialized)["scores"].numpy()
        np.testing.assert_allclose(scores[:, 1:], probabilities, rtol=1e-6)


def test_identical_rerun_is_cached_and_does_not_push_a_duplicate_version(first_run, same_rerun):
    _, output, first = first_run
    states = {c.component: c.state for c in same_rerun.components}
    assert all(states[c] == "cached" for c in UPSTREAM), states
    # The Evaluator runs again (its baseline is now the first model, i.e. itself) and re-blesses it;
    # the Pusher points at the version already served instead of copying the model again.
    assert same_rerun.blessed is True
    assert same_rerun.pushed_path == first.pushed_path
    assert glob.glob(str(output / "serving" / "ssr" / "*")) == [first.pushed_path]


def test_rerun_reuses_cached_components_and_a_failing_model_is_not_pushed(first_run, failing_rerun):
    _, output, first = first_run
    states = {c.component: c.state for c in failing_rerun.components}
    assert all(states[c] == "cached" for c in UPSTREAM), states
    assert states["Evaluator"] == "ran"  # its threshold changed
    assert failing_rerun.blessed is False
    assert failing_rerun.pushed_path is None
    assert failing_rerun.metrics["auc"] == pytest.approx(first.metrics["auc"])  # the same, cached model
    # The first (blessed) model was resolved as the baseline of the change threshold.
    evaluations = sorted(glob.glob(str(output / "Evaluator" / "evaluation" / "*")),
                         key=lambda path: int(os.path.basename(path)))
    model_names = {entry.key.model_name for metrics in tfma.load_metrics(evaluations[-1])
                   for entry in metrics.metric_keys_and_values}
    assert {"candidate", "baseline"} <= model_names
    failure = tfma.load_validation_result(evaluations[-1])
    assert not failure.validation_ok and "auc" in str(failure.metric_validations_per_slice)
    assert glob.glob(str(output / "serving" / "ssr" / "*")) == [first.pushed_path]
