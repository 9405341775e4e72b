"""`export_ranker`: TF Serving method names, signature keys, consistent outputs, warm-up records."""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import prediction_log_pb2

from serving import testing
from ssr_keras.export import export_ranker, make_example, read_method_names
from ssr_keras.export.signature_names import WARMUP_FILE


@pytest.fixture(scope="module")
def toy_exports(tmp_path_factory):
    """An exported toy model (the serving stack's test model) as version 1."""
    store = tmp_path_factory.mktemp("toy_exports")
    return {1: testing.export_toy_model(str(store / "1"), seed=1)}


def _signature_defs(export_dir):
    saved_model = saved_model_pb2.SavedModel()
    with open(f"{export_dir}/saved_model.pb", "rb") as f:
        saved_model.ParseFromString(f.read())
    return saved_model.meta_graphs[0].signature_def


def _serialized(rows):
    return tf.constant([make_example(row).SerializeToString() for row in rows])


def test_method_names_and_keys_are_tf_serving_ones(toy_exports):
    defs = _signature_defs(toy_exports[1])
    assert defs["serving_default"].method_name == "tensorflow/serving/predict"
    assert defs["predict"].method_name == "tensorflow/serving/predict"
    assert defs["classification"].method_name == "tensorflow/serving/classify"
    assert defs["regression"].method_name == "tensorflow/serving/regress"
    assert set(defs["predict"].inputs) == {"examples"} and set(defs["predict"].outputs) == {"probabilities"}
    assert set(defs["classification"].inputs) == {"inputs"}
    assert set(defs["classification"].outputs) == {"classes", "scores"}
    assert defs["classification"].outputs["classes"].dtype == tf.string.as_datatype_enum
    assert set(defs["regression"].inputs) == {"inputs"} and set(defs["regression"].outputs) == {"outputs"}


def test_signatures_agree_with_each_other(toy_exports):
    loaded = tf.saved_model.load(str(toy_exports[1]))
    batch = _serialized(testing.toy_rows(16, seed=3))
    probabilities = loaded.signatures["predict"](examples=batch)["probabilities"].numpy()
    classified = loaded.signatures["classification"](inputs=batch)
    regressed = loaded.signatures["regression"](inputs=batch)["outputs"].numpy()
    assert probabilities.shape == (16, 1)
    assert np.all((probabilities > 0) & (probabilities < 1))
    np.testing.assert_allclose(classified["scores"].numpy()[:, 1:], probabilities, rtol=1e-6)
    np.testing.assert_allclose(classified["scores"].numpy().sum(axis=1), 1.0, rtol=1e-6)
    assert classified["classes"].numpy().tolist() == [[b"0", b"1"]] * 16
    np.testing.assert_allclose(regressed, probabilities, rtol=1e-6)


def test_matches_the_keras_model(toy_exports):
    rows = testing.toy_rows(8, seed=4)
    ids = testing.ToyExampleParser()(_serialized(rows))
    expected = testing.build_toy_model(seed=1)(ids).numpy()
    served = tf.saved_model.load(str(toy_exports[1])).signatures["serving_default"](examples=_serialized(rows))
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, rtol=1e-5)


def test_warmup_file_holds_one_request_per_method(toy_exports):
    records = list(tf.data.TFRecordDataset(f"{toy_exports[1]}/{WARMUP_FILE}").as_numpy_iterator())
    kinds = [prediction_log_pb2.PredictionLog.FromString(r).WhichOneof("log_type") for r in records]
    assert kinds == ["predict_log", "classify_log", "regress_log"]


def test_refuses_to_overwrite_a_version(toy_exports):
    with pytest.raises(FileExistsError, match="immutable"):
        export_ranker(testing.build_toy_model(), str(toy_exports[1]), testing.ToyExampleParser(),
                      testing.TOY_FEATURE_COLUMNS)


@pytest.mark.parametrize("columns, message", [([], "non-empty"), ("user", "non-empty"),
                                              (["user", "user"], "duplicated")])
def test_rejects_bad_feature_columns(tmp_path, columns, message):
    with pytest.raises(ValueError, match=message):
        export_ranker(testing.build_toy_model(), str(tmp_path / "1"), testing.ToyExampleParser(),
                      columns)


def test_rejects_warmup_rows_missing_a_column(tmp_path):
    with pytest.raises(ValueError, match="lacks feature columns"):
        export_ranker(testing.build_toy_model(), str(tmp_path / "1"), testing.ToyExampleParser(),
                      testing.TOY_FEATURE_COLUMNS, warmup_examples=[{"user": "u1"}])


def test_rejects_a_model_that_is_not_a_binary_ranker(tmp_path):
    base = testing.build_toy_model()
    two_outputs = tf.keras.Model(base.inputs, tf.keras.layers.Concatenate()([base.output, base.output]))
    with pytest.raises(ValueError, match=r"\[batch, 1\]"):
        export_ranker(two_outputs, str(tmp_path / "1"), testing.ToyExampleParser(),
                      testing.TOY_FEATURE_COLUMNS)


def test_method_names_are_readable_back(toy_exports):
    assert read_method_names(str(toy_exports[1]))["classification"] == "tensorflow/serving/classify"
