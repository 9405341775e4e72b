"""A TFX user's client: real frappe rows typed as CsvExampleGen types them, over gRPC.

The model is a small Keras ranker behind the library's `RawExampleParser` + `VocabularyIds` (what
`ssr-train` exports), so requests go through the real typed parsing: scores equal the in-process
ones; missing features, empty examples, `b''` and wrongly typed features are INVALID_ARGUMENT
naming the feature; a 5,000-row request is scored in one call.
"""

from __future__ import annotations

import grpc
import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras
from tensorflow_serving.apis import classification_pb2, predict_pb2, regression_pb2

from serving.client import PredictionClient
from ssr_keras.data import RawExampleParser, VocabularyIds, build_vocabularies, csv_files, get_layout
from ssr_keras.export import export_ranker, layout_example, make_example
from tests.ssr_keras.data.helpers import head, write_lines

from .conftest import MODEL_NAME, serve

LAYOUT = get_layout("frappe")


def _model(vocabularies) -> keras.Model:
    inputs, embedded = {}, []
    for field in vocabularies.field_specs(LAYOUT):
        inputs[field.name] = keras.Input(shape=(), dtype=tf.int64, name=field.name)
        embedding = keras.layers.Embedding(field.vocab_size, 4, embeddings_initializer=keras.initializers.RandomNormal(
            stddev=1.0, seed=len(embedded)))
        embedded.append(embedding(tf.maximum(inputs[field.name], 0)))
    hidden = keras.layers.Concatenate()(embedded)
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))


@pytest.fixture(scope="module")
def frappe_rows(data_dir):
    return list(csv_files.iter_dict_rows(LAYOUT, str(data_dir / "frappe-ctr" / "test.csv"), max_rows=5000))


@pytest.fixture(scope="module")
def frappe_export(data_dir, tmp_path_factory, frappe_rows):
    """A frappe ranker exported as `ssr-train` exports: (base path, in-process scoring function)."""
    folder = tmp_path_factory.mktemp("frappe_typed")
    train = write_lines(folder / "train.csv", head(data_dir / "frappe-ctr" / "train.csv", 3001))
    vocabularies = build_vocabularies(LAYOUT, str(train))
    parser = RawExampleParser(LAYOUT, VocabularyIds(LAYOUT, vocabularies))
    model = _model(vocabularies)
    export_ranker(model, str(folder / "base" / "1"), parser, LAYOUT.feature_columns, warmup_examples=frappe_rows[:4])
    return folder / "base", lambda serialized: model(parser(tf.constant(serialized))).numpy().reshape(-1)


@pytest.fixture(scope="module")
def served(frappe_export):
    with serve(frappe_export[0], max_batch_size=0, max_message_bytes=4 << 20) as running:
        yield running


def _typed(rows):
    return [layout_example(LAYOUT, row) for row in rows]


def test_csv_example_gen_typed_rows_score_as_in_process_on_every_method(served, frappe_export, frappe_rows):
    rows = frappe_rows[:16]
    examples = _typed(rows)
    assert examples[0].features.feature["user"].WhichOneof("kind") == "int64_list"
    expected = frappe_export[1]([e.SerializeToString() for e in examples])
    with PredictionClient(served.address, MODEL_NAME) as client:
        np.testing.assert_allclose(client.predict(examples).scores, expected, rtol=1e-5)
        np.testing.assert_allclose(client.classify(examples).scores, expected, rtol=1e-5)
    request = regression_pb2.RegressionRequest()
    request.model_spec.name = MODEL_NAME
    request.model_spec.signature_name = "regression"
    request.input.example_list.examples.extend(examples)
    regressed = [r.value for r in served.prediction.Regress(request, 30).result.regressions]
    np.testing.assert_allclose(regressed, expected, rtol=1e-5)


def test_a_5000_row_request_is_scored(served, frappe_export, frappe_rows):
    serialized = [e.SerializeToString() for e in _typed(frappe_rows[:5000])]
    with PredictionClient(served.address, MODEL_NAME, max_message_bytes=4 << 20) as client:
        scores = client.predict(serialized).scores
    assert scores.shape == (5000,)
    np.testing.assert_allclose(scores[-50:], frappe_export[1](serialized[-50:]), rtol=1e-5)


def _without(row, column):
    return make_example({c: v for c, v in row.items() if c in LAYOUT.feature_columns and c != column},
                        LAYOUT.column_types)


@pytest.mark.parametrize("make_bad, named", [
    (lambda row: _without(row, "item").SerializeToString(), "Feature: item (data type: int64) is required"),
    (lambda row: tf.train.Example().SerializeToString(), "is required but could not be found"),
    (lambda row: b"", "is required but could not be found"),
    (lambda row: make_example({c: row[c] for c in LAYOUT.feature_columns}).SerializeToString(),  # all bytes
     "Data types don't match. Data type: string but expected type: int64"),
], ids=["missing item", "empty example", "empty bytes", "bytes for int64"])
def test_bad_examples_are_invalid_argument_naming_the_feature(served, frappe_rows, make_bad, named):
    bad = make_bad(frappe_rows[0])
    good = layout_example(LAYOUT, frappe_rows[1]).SerializeToString()
    predict = predict_pb2.PredictRequest()
    predict.model_spec.name = MODEL_NAME
    predict.inputs["examples"].CopyFrom(tf.make_tensor_proto([good, bad], dtype=tf.string))
    classify = classification_pb2.ClassificationRequest()
    classify.model_spec.name = MODEL_NAME
    classify.model_spec.signature_name = "classification"
    classify.input.example_list.examples.extend([tf.train.Example.FromString(good), tf.train.Example.FromString(bad)])
    for call, request in ((served.prediction.Predict, predict), (served.prediction.Classify, classify)):
        with pytest.raises(grpc.RpcError) as error:
            call(request, 30)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert named in error.value.details()
        assert "Feature: " in error.value.details() or "Key: " in error.value.details()
