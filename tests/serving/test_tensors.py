"""Request tensor parsing and validation against SignatureDefs."""

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import input_pb2

from serving import tensors
from serving.errors import ServingError
from ssr_keras.export import make_example


def _signature(**inputs):
    definition = meta_graph_pb2.SignatureDef()
    for alias, (dtype, shape) in inputs.items():
        info = definition.inputs[alias]
        info.dtype = dtype.as_datatype_enum
        if shape is None:
            info.tensor_shape.unknown_rank = True
        else:
            info.tensor_shape.dim.extend(info.tensor_shape.Dim(size=s) for s in shape)
    return definition


def _error(call):
    with pytest.raises(ServingError) as raised:
        call()
    assert raised.value.code == grpc.StatusCode.INVALID_ARGUMENT
    return raised.value.message


def test_to_ndarray_round_trips_numeric_and_string_tensors():
    floats = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(tensors.to_ndarray(tf.make_tensor_proto(floats), "x", 100), floats)
    strings = tensors.to_ndarray(tf.make_tensor_proto([[b"a", b"b"]]), "x", 100)
    assert strings.shape == (1, 2) and strings.tolist() == [[b"a", b"b"]]


def test_a_single_value_fills_the_shape_as_in_tensorflow():
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[b"x"], tensor_shape={"dim": [{"size": 3}]})
    assert tensors.to_ndarray(proto, "x", 100).tolist() == [b"x", b"x", b"x"]


@pytest.mark.parametrize("proto, message", [
    (tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, tensor_shape={"unknown_rank": True}), "unknown rank"),
    (tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_content=b"\x00" * 7,
                            tensor_shape={"dim": [{"size": 2}]}), "tensor parsing error: x"),
    (tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, tensor_shape={"dim": [{"size": 2}]}), "0 string values"),
    (tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[b"a"], tensor_shape={"dim": [{"size": 101}]}),
     "more than the 100 allowed"),
    (tensor_pb2.TensorProto(dtype=0, tensor_shape={"dim": [{"size": 1}]}), "DT_INVALID is not a valid"),
])
def test_malformed_tensors_are_invalid_arguments(proto, message):
    assert message in _error(lambda: tensors.to_ndarray(proto, "x", 100))


def test_check_shapes_wants_one_bounded_batch_size():
    definition = _signature(a=(tf.string, [-1]), b=(tf.float32, [-1, 3]), c=(tf.int64, None))
    arrays = {"a": np.array([b"x", b"y"], object), "b": np.zeros((2, 3), np.float32), "c": np.zeros((2, 5))}
    assert tensors.check_shapes("s", definition, arrays, max_batch_size=2) == 2
    assert "Task size 2 is larger than maximum input batch size 1" in _error(
        lambda: tensors.check_shapes("s", definition, arrays, max_batch_size=1))
    assert "expects shape [-1, 3]" in _error(
        lambda: tensors.check_shapes("s", definition, dict(arrays, b=np.zeros((2, 4), np.float32)), 0))
    assert "equal 0th-dimension size" in _error(
        lambda: tensors.check_shapes("s", definition, dict(arrays, c=np.zeros((3,))), 0))


def test_serialized_examples_merge_context_with_example_winning():
    request_input = input_pb2.Input()
    with_context = request_input.example_list_with_context
    with_context.context.CopyFrom(make_example({"user": "context", "item": "i1"}))
    with_context.examples.append(make_example({"user": "u7"}))
    (serialized,) = tensors.serialized_examples(request_input, max_batch_size=0)
    features = tf.train.Example.FromString(serialized).features.feature
    assert features["user"].bytes_list.value == [b"u7"]
    assert features["item"].bytes_list.value == [b"i1"]
    assert "Input is empty" in _error(lambda: tensors.serialized_examples(input_pb2.Input(), 0))
