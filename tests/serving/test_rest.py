"""REST API (TF Serving's JSON forms) against gRPC on the same server: same scores, same statuses."""

import base64

import numpy as np
import pytest
import requests
import tensorflow as tf
from tensorflow_serving.apis import classification_pb2, predict_pb2, regression_pb2

from serving import testing
from serving.model_manager import ModelConfig
from ssr_keras.export import make_example

from .servers import serve_models

pytestmark = pytest.mark.timeout(180)
ROWS = testing.toy_rows(6, seed=3)


@pytest.fixture(scope="module")
def running(two_versions):
    with serve_models([ModelConfig("toy", str(two_versions))]) as running:
        yield running


def _url(running, path):
    return f"http://127.0.0.1:{running.rest_port}{path}"


def _grpc_scores(running, signature="serving_default", version=None):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "toy"
    request.model_spec.signature_name = signature
    if version:
        request.model_spec.version.value = version
    request.inputs["examples"].CopyFrom(
        tf.make_tensor_proto([make_example(row).SerializeToString() for row in ROWS]))
    return tf.make_ndarray(running.prediction.Predict(request, 30).outputs["probabilities"])


def _b64_examples():
    return [{"b64": base64.b64encode(make_example(row).SerializeToString()).decode()} for row in ROWS]


def test_predict_row_and_columnar_forms_match_grpc(running):
    expected = _grpc_scores(running)
    rows = requests.post(_url(running, "/v1/models/toy:predict"), json={"instances": _b64_examples()}, timeout=30)
    assert rows.status_code == 200
    np.testing.assert_array_equal(np.array(rows.json()["predictions"], np.float32), expected)
    columns = requests.post(_url(running, "/v1/models/toy/versions/2:predict"),
                            json={"inputs": {"examples": _b64_examples()}}, timeout=30)
    np.testing.assert_array_equal(np.array(columns.json()["outputs"], np.float32), expected)
    named = requests.post(_url(running, "/v1/models/toy:predict"),
                          json={"signature_name": "predict", "instances": [{"examples": e} for e in _b64_examples()]},
                          timeout=30)
    np.testing.assert_array_equal(np.array(named.json()["predictions"], np.float32), expected)


def test_classify_and_regress_match_grpc(running):
    examples = [make_example(row) for row in ROWS]
    classify = classification_pb2.ClassificationRequest()
    classify.model_spec.name, classify.model_spec.signature_name = "toy", "classification"
    classify.input.example_list.examples.extend(examples)
    expected = [[(c.label, c.score) for c in row.classes]
                for row in running.prediction.Classify(classify, 30).result.classifications]
    got = requests.post(_url(running, "/v1/models/toy:classify"),
                        json={"signature_name": "classification", "examples": ROWS}, timeout=30).json()["result"]
    assert [[(label, np.float32(score)) for label, score in row] for row in got] == expected

    regress = regression_pb2.RegressionRequest()
    regress.model_spec.name, regress.model_spec.signature_name = "toy", "regression"
    regress.input.example_list.examples.extend(examples)
    expected = [r.value for r in running.prediction.Regress(regress, 30).result.regressions]
    got = requests.post(_url(running, "/v1/models/toy:regress"),
                        json={"signature_name": "regression", "examples": ROWS}, timeout=30).json()["result"]
    assert [np.float32(v) for v in got] == expected
    # `context` features are shared by every example (Input.example_list_with_context).
    context = requests.post(_url(running, "/v1/models/toy:regress"), timeout=30, json={
        "signature_name": "regression", "context": {"user": ROWS[0]["user"]},
        "examples": [{"item": row["item"]} for row in ROWS[:1]]}).json()["result"]
    assert np.float32(context[0]) == expected[0]


def test_status_and_metadata(running):
    status = requests.get(_url(running, "/v1/models/toy"), timeout=30)
    assert status.json() == {"model_version_status": [
        {"version": "2", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}
    metadata = requests.get(_url(running, "/v1/models/toy/versions/2/metadata"), timeout=30).json()
    assert metadata["model_spec"] == {"name": "toy", "version": "2", "signature_name": ""}
    signature = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["inputs"]["examples"]["dtype"] == "DT_STRING"


@pytest.mark.parametrize("method, path, body, status, message", [
    ("post", "/v1/models/nope:predict", {"instances": []}, 404, "Servable not found for request: Latest(nope)"),
    ("post", "/v1/models/toy/versions/9:predict", {"instances": [1]}, 404, "Specific(toy, 9)"),
    ("post", "/v1/models/toy:predict", {"instance": []}, 400, "Missing 'inputs' or 'instances' key"),
    ("post", "/v1/models/toy:predict", {"instances": [{"b64": "!!"}]}, 400, "Unable to base64 decode"),
    ("post", "/v1/models/toy:explain", {}, 400, "unknown verb"),
    ("post", "/v1/models/toy:regress", {"examples": "x"}, 400, "'examples' must be a non-empty JSON list"),
    ("get", "/v1/models/nope", None, 404, "Could not find any versions of model nope"),
    ("get", "/v2/whatever", None, 404, "Malformed request"),
])
def test_errors_are_tf_serving_json(running, method, path, body, status, message):
    response = getattr(requests, method)(_url(running, path), json=body, timeout=30)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_bad_json_body_is_400(running):
    response = requests.post(_url(running, "/v1/models/toy:predict"), data=b"{not json", timeout=30)
    assert response.status_code == 400 and "JSON Parse error" in response.json()["error"]


def test_metrics_endpoint_counts_grpc_and_rest_requests(running):
    def count(api):
        text = requests.get(_url(running, "/monitoring/prometheus/metrics"), timeout=30).text
        prefix = (f'ssr_serving_requests_total{{api="{api}",method="Predict",model="toy",'
                  f'signature="serving_default",status="OK"}} ')
        return sum(float(line[len(prefix):]) for line in text.splitlines() if line.startswith(prefix))

    before = count("grpc"), count("rest")
    _grpc_scores(running)
    requests.post(_url(running, "/v1/models/toy:predict"), json={"instances": _b64_examples()}, timeout=30)
    assert (count("grpc"), count("rest")) == (before[0] + 1, before[1] + 1)
    text = requests.get(_url(running, "/monitoring/prometheus/metrics"), timeout=30).text
    assert 'ssr_serving_request_latency_seconds_count{api="grpc",method="Predict",model="toy"}' in text
    assert 'ssr_serving_request_batch_size_sum{model="toy",signature="serving_default"}' in text
