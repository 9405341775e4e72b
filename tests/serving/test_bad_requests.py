"""Bad requests get TF Serving's status and a message naming the problem; the server keeps serving."""

import grpc
import pytest
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    predict_pb2,
    regression_pb2,
)

from serving import testing
from ssr_keras.export import make_example

from .conftest import MODEL_NAME, serve

GOOD_ROWS = testing.toy_rows(3, seed=1)
MAX_BATCH = 64
MAX_MESSAGE = 1 << 20

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.fixture(scope="module")
def served(two_versions):
    with serve(two_versions, max_batch_size=MAX_BATCH, max_message_bytes=MAX_MESSAGE) as running:
        yield running


def _strings(values, shape=None):
    return tf.make_tensor_proto(values, dtype=tf.string, shape=shape)


def _serialized(rows):
    return [make_example(row).SerializeToString() for row in rows]


def predict(inputs=None, name=MODEL_NAME, signature="serving_default", version=None, label=None,
            output_filter=(), with_spec=True):
    request = predict_pb2.PredictRequest()
    if with_spec:
        request.model_spec.name = name
        request.model_spec.signature_name = signature
        if version is not None:
            request.model_spec.version.value = version
        if label is not None:
            request.model_spec.version_label = label
    for alias, proto in (inputs if inputs is not None else {"examples": _strings(_serialized(GOOD_ROWS))}).items():
        request.inputs[alias].CopyFrom(proto)
    request.output_filter.extend(output_filter)
    return "Predict", request


def classify(examples=None, signature="classification", name=MODEL_NAME, regress=False):
    request = (regression_pb2.RegressionRequest() if regress else classification_pb2.ClassificationRequest())
    request.model_spec.name = name
    request.model_spec.signature_name = signature
    if examples is not None:
        request.input.example_list.examples.extend(examples)
    return ("Regress" if regress else "Classify"), request


def multi(tasks, examples=None):
    request = inference_pb2.MultiInferenceRequest()
    for name, signature, method in tasks:
        task = request.tasks.add(method_name=method)
        task.model_spec.name = name
        task.model_spec.signature_name = signature
    request.input.example_list.examples.extend(examples or [make_example(r) for r in GOOD_ROWS])
    return "MultiInference", request


def metadata(fields=("signature_def",), name=MODEL_NAME):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=list(fields))
    request.model_spec.name = name
    return "GetModelMetadata", request


def status(name=MODEL_NAME, version=None):
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = name
    if version is not None:
        request.model_spec.version.value = version
    return "GetModelStatus", request


CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"
CASES = {
    # model / version / signature
    "unknown model": (predict(name="nope"), NOT_FOUND, "Servable not found for request: Latest(nope)"),
    "unknown version": (predict(version=9), NOT_FOUND, "Servable not found for request: Specific(toy, 9)"),
    "unloaded old version": (predict(version=1), NOT_FOUND, "Specific(toy, 1)"),
    "unknown label": (predict(label="nope"), INVALID, "Unrecognized servable version label: nope"),
    "unknown signature": (predict(signature="nope"), PRECONDITION, 'Serving signature key "nope" not found.'),
    "missing model spec": (predict(with_spec=False), INVALID, "Missing ModelSpec"),
    # inputs
    "missing input": (predict(inputs={}), INVALID, "Missing but required: {examples}"),
    "extra input": (predict(inputs={"examples": _strings(_serialized(GOOD_ROWS)), "extra": _strings([b"x"] * 3)}),
                    INVALID, "input tensor alias not found in signature: extra"),
    "wrong dtype": (predict(inputs={"examples": tf.make_tensor_proto([1.0, 2.0])}), INVALID,
                    "expects DT_STRING, got DT_FLOAT"),
    "unknown dtype": (predict(inputs={"examples": tensor_pb2.TensorProto(dtype=999)}), INVALID,
                      "expects DT_STRING, got unknown dtype 999"),
    "wrong rank": (predict(inputs={"examples": _strings(_serialized(GOOD_ROWS) * 2, shape=[2, 3])}), INVALID,
                   "expects shape [-1] (-1: any), got [2, 3]"),
    "too many values for shape": (predict(inputs={"examples": _strings([b"a", b"b", b"c"], shape=None)
                                          if False else tensor_pb2.TensorProto(
                                              dtype=types_pb2.DT_STRING, string_val=[b"a", b"b", b"c"],
                                              tensor_shape={"dim": [{"size": 2}]})}),
                                  INVALID, "tensor parsing error: examples"),
    "negative dimension": (predict(inputs={"examples": tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING, string_val=[b"a"], tensor_shape={"dim": [{"size": -3}]})}),
        INVALID, "tensor parsing error: examples: negative dimension"),
    "huge declared shape": (predict(inputs={"examples": tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING, string_val=[b"a"], tensor_shape={"dim": [{"size": 1 << 40}]})}),
        INVALID, "tensor parsing error: examples: shape [1099511627776]"),
    "garbage example bytes": (predict(inputs={"examples": _strings([b"\xff\x00garbage"])}), INVALID,
                              "Could not parse example input"),
    "example missing a feature": (predict(inputs={"examples": _strings([make_example({"user": "u1"})
                                                                       .SerializeToString()])}),
                                  INVALID, "Feature: item (data type: string) is required"),
    "feature of the wrong type": (predict(inputs={"examples": _strings([tf.train.Example(features=tf.train.Features(
        feature={"user": tf.train.Feature(int64_list=tf.train.Int64List(value=[3])),
                 "item": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"i1"]))})).SerializeToString()])}),
        INVALID, "Key: user"),
    "empty batch": (predict(inputs={"examples": _strings([], shape=[0])}), INVALID, "Input is empty"),
    "oversized batch": (predict(inputs={"examples": _strings(_serialized(testing.toy_rows(MAX_BATCH + 1)))}),
                        INVALID, f"Task size {MAX_BATCH + 1} is larger than maximum input batch size {MAX_BATCH}"),
    "oversized message": (predict(inputs={"examples": _strings([b"x" * (MAX_MESSAGE + 10)])}), EXHAUSTED, "larger"),
    "unknown output": (predict(output_filter=["nope"]), INVALID, "output tensor alias not found in signature: nope"),
    # classify / regress
    "classify empty input": (classify(), INVALID, "Input is empty"),
    "classify unknown signature": (classify([make_example(GOOD_ROWS[0])], signature="nope"), INVALID,
                                   "No signature was found with the name: nope"),
    "classify a predict signature": (classify([make_example(GOOD_ROWS[0])], signature="predict"), INVALID,
                                     "neither a 'classes' nor a 'scores' output"),
    "regress a classify signature": (classify([make_example(GOOD_ROWS[0])], regress=True), INVALID,
                                     "is not a regression signature"),
    "classify oversized batch": (classify([make_example(r) for r in testing.toy_rows(MAX_BATCH + 1)]), INVALID,
                                 "is larger than maximum input batch size"),
    "classify unknown model": (classify([make_example(GOOD_ROWS[0])], name="nope"), NOT_FOUND,
                               "Servable not found for request: Latest(nope)"),
    # multi inference
    "multi no tasks": (multi([]), INVALID, "at least one task"),
    "multi two models": (multi([(MODEL_NAME, "classification", CLASSIFY), ("other", "regression", REGRESS)]),
                         INVALID, "must access the same model name"),
    "multi duplicate signature": (multi([(MODEL_NAME, "regression", REGRESS)] * 2), INVALID,
                                  "Duplicate evaluation of signature: regression"),
    "multi predict method": (multi([(MODEL_NAME, "predict", "tensorflow/serving/predict")]), INVALID,
                             "Unsupported signature method_name"),
    # metadata / status
    "metadata without field": (metadata(fields=()), INVALID, "at least one metadata_field"),
    "metadata unknown field": (metadata(fields=("nope",)), INVALID, "Metadata field nope is not supported"),
    "metadata unknown model": (metadata(name="nope"), NOT_FOUND, "Servable not found for request: Latest(nope)"),
    "status unknown model": (status(name="nope"), NOT_FOUND, "Could not find any versions of model nope"),
    "status unknown version": (status(version=7), NOT_FOUND, "Could not find version 7 of model toy"),
}


def _call(served, method, request):
    stub = served.model if method == "GetModelStatus" else served.prediction
    return getattr(stub, method)(request, 10)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_request_gets_the_right_status_and_server_keeps_serving(served, case):
    (method, request), code, message = CASES[case]
    with pytest.raises(grpc.RpcError) as raised:
        _call(served, method, request)
    assert raised.value.code() == code, raised.value.details()
    assert message in raised.value.details()
    # Everyone else is still served.
    method, good = predict()
    assert _call(served, method, good).model_spec.version.value == 2
