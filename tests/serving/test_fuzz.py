"""Property-based fuzzing of request payloads: any payload gets OK or a client-error status, never a crash."""

import grpc
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import classification_pb2, predict_pb2

from serving import testing
from ssr_keras.export import make_example

from .conftest import MODEL_NAME, serve

CLIENT_ERRORS = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
                 grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.RESOURCE_EXHAUSTED}
MAX_MESSAGE = 1 << 20

good_example = st.sampled_from([make_example(row).SerializeToString() for row in testing.toy_rows(16)])
example_bytes = st.one_of(good_example, st.binary(max_size=64))
dtypes = st.one_of(st.sampled_from(sorted(types_pb2.DataType.values())), st.integers(-5, 400))
shapes = st.one_of(st.lists(st.integers(0, 5), max_size=3), st.lists(st.integers(-3, 1 << 34), max_size=3))


@st.composite
def tensor_protos(draw):
    proto = tensor_pb2.TensorProto(dtype=draw(dtypes))
    if draw(st.booleans()):
        proto.tensor_shape.dim.extend(tensor_shape_pb2.TensorShapeProto.Dim(size=s)
                                      for s in draw(shapes))
    else:
        proto.tensor_shape.unknown_rank = draw(st.booleans())
    payload = draw(st.sampled_from(["string", "float", "int", "content", "none"]))
    if payload == "string":
        proto.string_val.extend(draw(st.lists(example_bytes, max_size=8)))
    elif payload == "float":
        proto.float_val.extend(draw(st.lists(st.floats(width=32), max_size=8)))
    elif payload == "int":
        proto.int64_val.extend(draw(st.lists(st.integers(-(2 ** 63), 2 ** 63 - 1), max_size=8)))
    elif payload == "content":
        proto.tensor_content = draw(st.binary(max_size=64))
    return proto


@st.composite
def predict_requests(draw):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = draw(st.sampled_from([MODEL_NAME, MODEL_NAME, "", "other"]))
    request.model_spec.signature_name = draw(st.sampled_from(["", "serving_default", "predict", "classification",
                                                               "regression", "__saved_model_init_op", "x"]))
    if draw(st.booleans()):
        request.model_spec.version.value = draw(st.integers(-1, 3))
    aliases = draw(st.lists(st.sampled_from(["examples", "inputs", "x", ""]), max_size=3, unique=True))
    for alias in aliases:
        request.inputs[alias].CopyFrom(draw(tensor_protos()))
    request.output_filter.extend(draw(st.lists(st.sampled_from(["probabilities", "scores", "y"]), max_size=2)))
    return request


@pytest.fixture(scope="module")
def served(two_versions):
    with serve(two_versions, max_batch_size=64, max_message_bytes=MAX_MESSAGE) as running:
        yield running


def _assert_ok_or_client_error(call):
    try:
        call()
    except grpc.RpcError as error:
        assert error.code() in CLIENT_ERRORS, f"{error.code()}: {error.details()}"
        assert error.details()


def _good_request_still_served(served):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL_NAME
    request.inputs["examples"].CopyFrom(tf.make_tensor_proto([make_example(testing.toy_rows(1)[0])
                                                             .SerializeToString()]))
    assert served.prediction.Predict(request, 10).outputs["probabilities"].tensor_shape.dim[0].size == 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=predict_requests())
def test_fuzzed_predict_requests(served, request):
    _assert_ok_or_client_error(lambda: served.prediction.Predict(request, 10))
    _good_request_still_served(served)


@st.composite
def examples(draw):
    """tf.Examples with any of the model's features (or others), of any kind and length."""
    example = tf.train.Example()
    for key in draw(st.lists(st.sampled_from(["user", "item", "other"]), max_size=3, unique=True)):
        feature = example.features.feature[key]
        kind = draw(st.sampled_from(["bytes", "int64", "float"]))
        if kind == "bytes":
            feature.bytes_list.value.extend(draw(st.lists(st.one_of(st.sampled_from([b"u1", b"i3"]), st.binary()),
                                                          max_size=3)))
        elif kind == "int64":
            feature.int64_list.value.extend(draw(st.lists(st.integers(-(2 ** 63), 2 ** 63 - 1), max_size=3)))
        else:
            feature.float_list.value.extend(draw(st.lists(st.floats(width=32), max_size=3)))
    return example


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(examples(), max_size=8), with_context=st.booleans(), context=examples(),
       signature=st.sampled_from(["classification", "predict", "regression", ""]))
def test_fuzzed_classify_examples(served, batch, with_context, context, signature):
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = MODEL_NAME
    request.model_spec.signature_name = signature
    if with_context:
        request.input.example_list_with_context.context.CopyFrom(context)
        request.input.example_list_with_context.examples.extend(batch)
    else:
        request.input.example_list.examples.extend(batch)
    _assert_ok_or_client_error(lambda: served.prediction.Classify(request, 10))
    _good_request_still_served(served)
