"""Every RPC of PredictionService and ModelService over a real gRPC channel on 127.0.0.1."""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    predict_pb2,
    regression_pb2,
)

from serving import testing
from serving.client import PredictionClient
from ssr_keras.export import make_example

from .conftest import MODEL_NAME, serve

ROWS = testing.toy_rows(12, seed=7)
EXAMPLES = [make_example(row) for row in ROWS]


@pytest.fixture(scope="module")
def served(two_versions):
    with serve(two_versions, version_labels={"stable": 1, "canary": 2}) as running:
        yield running


@pytest.fixture(scope="module")
def expected(toy_exports):
    """In-process probabilities [12] of each exported version."""
    batch = tf.constant([e.SerializeToString() for e in EXAMPLES])
    return {version: tf.saved_model.load(str(path)).signatures["predict"](examples=batch)["probabilities"]
            .numpy().reshape(-1) for version, path in toy_exports.items()}


def _predict_request(signature="serving_default", **spec):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL_NAME
    request.model_spec.signature_name = signature
    for key, value in spec.items():
        if key == "version":
            request.model_spec.version.value = value
        else:
            setattr(request.model_spec, key, value)
    request.inputs["examples"].CopyFrom(tf.make_tensor_proto([e.SerializeToString() for e in EXAMPLES]))
    return request


def test_predict_serves_the_latest_version(served, expected):
    response = served.prediction.Predict(_predict_request(), 10)
    assert response.model_spec.name == MODEL_NAME
    assert response.model_spec.version.value == 2
    assert response.model_spec.signature_name == "serving_default"
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["probabilities"]).reshape(-1), expected[2],
                               rtol=1e-6)


@pytest.mark.parametrize("spec, version", [({"version": 1}, 1), ({"version": 2}, 2),
                                           ({"version_label": "stable"}, 1), ({"version_label": "canary"}, 2)])
def test_predict_honours_version_and_label(served, expected, spec, version):
    response = served.prediction.Predict(_predict_request(**spec), 10)
    assert response.model_spec.version.value == version
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["probabilities"]).reshape(-1),
                               expected[version], rtol=1e-6)


def test_predict_output_filter(served):
    request = _predict_request("predict")
    request.output_filter.append("probabilities")
    response = served.prediction.Predict(request, 10)
    assert list(response.outputs) == ["probabilities"]
    assert response.model_spec.signature_name == "predict"


def test_classify(served, expected):
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = MODEL_NAME
    request.model_spec.signature_name = "classification"
    request.input.example_list.examples.extend(EXAMPLES)
    response = served.prediction.Classify(request, 10)
    assert response.model_spec.version.value == 2
    assert len(response.result.classifications) == len(EXAMPLES)
    for classes, probability in zip(response.result.classifications, expected[2]):
        assert [c.label for c in classes.classes] == ["0", "1"]
        assert classes.classes[1].score == pytest.approx(probability, rel=1e-5)
        assert classes.classes[0].score == pytest.approx(1 - probability, rel=1e-5)


def test_classify_merges_context_into_examples(served, expected):
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = MODEL_NAME
    request.model_spec.signature_name = "classification"
    with_context = request.input.example_list_with_context
    with_context.context.CopyFrom(make_example({"item": ROWS[0]["item"]}))
    with_context.examples.append(make_example({"user": ROWS[0]["user"]}))
    response = served.prediction.Classify(request, 10)
    assert response.result.classifications[0].classes[1].score == pytest.approx(expected[2][0], rel=1e-5)


def test_regress(served, expected):
    request = regression_pb2.RegressionRequest()
    request.model_spec.name = MODEL_NAME
    request.model_spec.signature_name = "regression"
    request.model_spec.version.value = 1
    request.input.example_list.examples.extend(EXAMPLES)
    response = served.prediction.Regress(request, 10)
    assert response.model_spec.version.value == 1
    np.testing.assert_allclose([r.value for r in response.result.regressions], expected[1], rtol=1e-5)


def test_multi_inference(served, expected):
    request = inference_pb2.MultiInferenceRequest()
    for signature, method in (("classification", "tensorflow/serving/classify"),
                              ("regression", "tensorflow/serving/regress")):
        task = request.tasks.add(method_name=method)
        task.model_spec.name = MODEL_NAME
        task.model_spec.signature_name = signature
    request.input.example_list.examples.extend(EXAMPLES)
    response = served.prediction.MultiInference(request, 10)
    classified, regressed = response.results
    assert classified.model_spec.signature_name == "classification"
    assert regressed.model_spec.version.value == 2
    np.testing.assert_allclose([c.classes[1].score for c in classified.classification_result.classifications],
                               expected[2], rtol=1e-5)
    np.testing.assert_allclose([r.value for r in regressed.regression_result.regressions], expected[2], rtol=1e-5)


def test_get_model_metadata(served):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = MODEL_NAME
    response = served.prediction.GetModelMetadata(request, 10)
    assert response.model_spec.version.value == 2
    signature_defs = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(signature_defs)
    defs = signature_defs.signature_def
    assert set(defs) == {"serving_default", "predict", "classification", "regression"}
    assert defs["classification"].method_name == "tensorflow/serving/classify"
    assert defs["regression"].method_name == "tensorflow/serving/regress"
    assert defs["predict"].inputs["examples"].dtype == tf.string.as_datatype_enum


def test_get_model_status(served):
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = MODEL_NAME
    response = served.model.GetModelStatus(request, 10)
    available = get_model_status_pb2.ModelVersionStatus.AVAILABLE
    assert [(s.version, s.state) for s in response.model_version_status] == [(2, available), (1, available)]
    request.model_spec.version.value = 1
    (only,) = served.model.GetModelStatus(request, 10).model_version_status
    assert only.version == 1 and only.status.error_code == 0


def test_python_client(served, expected):
    with PredictionClient(served.address, MODEL_NAME, version_label="stable") as client:
        predicted = client.predict(EXAMPLES)
        classified = client.classify(EXAMPLES)
        assert client.status().model_version_status[0].version == 1
        assert "classification" in client.metadata().signature_def
    assert predicted.model_version == classified.model_version == 1
    np.testing.assert_allclose(predicted.scores, expected[1], rtol=1e-6)
    np.testing.assert_allclose(classified.scores, expected[1], rtol=1e-5)
