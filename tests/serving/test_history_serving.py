"""A GateSID history ranker served by `ssr-serve`: raw requests score as in-process, bad ones are INVALID_ARGUMENT."""

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import classification_pb2, predict_pb2, prediction_service_pb2_grpc

from serving.testing import start_server_process
from ssr_keras.export.history_ranker import history_example
from ssr_keras.export.signature_names import CLASSIFY_SIGNATURE
from tests.ssr_keras.export.history_cases import CATALOG, DAY, build_case, export_case, training_requests

pytestmark = pytest.mark.slow

MODEL_NAME = "gatesid"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("gatesid_base")
    case = build_case(seed=1)
    path = export_case(case, str(base / "1"))
    process, port = start_server_process(str(base), MODEL_NAME)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield (prediction_service_pb2_grpc.PredictionServiceStub(channel),
               tf.saved_model.load(path).signatures["serving_default"], case, process)
    finally:
        channel.close()
        process.terminate()
        process.wait(timeout=30)


def _predict(stub, examples):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL_NAME
    request.inputs["examples"].CopyFrom(tf.make_tensor_proto([e.SerializeToString() for e in examples]))
    return tf.make_ndarray(stub.Predict(request, timeout=60).outputs["probabilities"])


def test_served_scores_equal_in_process_scores(served):
    stub, in_process, case, _ = served
    examples = [tf.train.Example.FromString(s) for s in training_requests(case)[:50]]
    examples += [history_example(item=999, timestamp=300 * DAY),  # unknown item, no user, empty history
                 history_example(item=CATALOG[-1], timestamp=300 * DAY, history=[999, CATALOG[0]], user=77)]
    expected = in_process(examples=tf.constant([e.SerializeToString() for e in examples]))["probabilities"].numpy()
    np.testing.assert_allclose(_predict(stub, examples), expected, rtol=1e-6)
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = MODEL_NAME
    request.model_spec.signature_name = CLASSIFY_SIGNATURE
    request.input.example_list.examples.extend(examples[:3])
    classes = stub.Classify(request, timeout=60).result.classifications
    np.testing.assert_allclose([c.classes[1].score for c in classes], expected[:3, 0], rtol=1e-6)


@pytest.mark.parametrize("example, message", [
    (tf.train.Example(features=tf.train.Features(feature={
        "item": tf.train.Feature(int64_list=tf.train.Int64List(value=[CATALOG[0]]))})), "timestamp"),
    (history_example(item=CATALOG[0], timestamp=-1), "timestamp"),
])
def test_bad_requests_are_invalid_argument_and_the_server_lives(served, example, message):
    stub, _, _, process = served
    with pytest.raises(grpc.RpcError) as error:
        _predict(stub, [history_example(item=CATALOG[0], timestamp=DAY), example])
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in error.value.details()
    assert process.poll() is None
    assert _predict(stub, [history_example(item=CATALOG[0], timestamp=DAY)]).shape == (1, 1)
