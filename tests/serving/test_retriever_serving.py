"""A top-k retriever served over gRPC Predict: int64 user ids in, the in-process top-k out, bad ids refused."""

import grpc
import numpy as np
import pytest
import scipy.sparse as sp
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from serving import client_cli
from ssr_keras.export import export_user_retriever

from .conftest import MODEL_NAME, serve


@pytest.fixture(scope="module")
def served_retriever(tmp_path_factory):
    rng = np.random.default_rng(3)
    base = tmp_path_factory.mktemp("retriever")
    users, items = rng.normal(size=(20, 8)), rng.normal(size=(50, 8))
    seen = sp.random(20, 50, density=0.2, format="csr", random_state=2)
    path = export_user_retriever(users, items, seen, str(base / "1"), k=5)
    with serve(base) as running:
        yield running, tf.saved_model.load(path).signatures["serving_default"]


def _predict(running, user_ids):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL_NAME
    request.inputs["user_ids"].CopyFrom(tf.make_tensor_proto(np.asarray(user_ids, np.int64)))
    return running.prediction.Predict(request, timeout=30)


def test_served_top_k_equals_in_process(served_retriever):
    running, in_process = served_retriever
    response = _predict(running, [3, 17, 0])
    expected = in_process(user_ids=tf.constant([3, 17, 0], tf.int64))
    np.testing.assert_array_equal(tf.make_ndarray(response.outputs["item_ids"]), expected["item_ids"].numpy())
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["scores"]), expected["scores"].numpy(), rtol=1e-6)


def test_unknown_user_is_invalid_argument_and_the_server_lives_on(served_retriever):
    running, _ = served_retriever
    with pytest.raises(grpc.RpcError) as error:
        _predict(running, [20])
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "user_ids must be < the number of users" in error.value.details()
    assert tf.make_ndarray(_predict(running, [1]).outputs["item_ids"]).shape == (1, 5)


def test_ssr_client_retrieve_prints_each_users_items_with_titles(served_retriever, tmp_path, capsys):
    running, in_process = served_retriever
    titles = tmp_path / "titles.csv"
    titles.write_text("item,title\n" + "".join(f"{i},Book {i}\n" for i in range(50)), encoding="utf-8")
    assert client_cli.main(["--method", "retrieve", "--server", running.address, "--model-name", MODEL_NAME,
                            "--user-ids", "3", "17", "--show", "2", "--titles", str(titles)]) == 0
    out = capsys.readouterr().out.splitlines()
    best = in_process(user_ids=tf.constant([3], tf.int64))["item_ids"].numpy()[0, 0]
    assert out[0] == "user 3: version 1" and out[1].startswith(f"    1. item {best}") and f"Book {best}" in out[1]
    assert len(out) == 6


def test_ssr_client_histories_are_padded_and_checked():
    np.testing.assert_array_equal(client_cli._histories(["1|5", "7"]), [[1, 5], [7, -1]])
    with pytest.raises(ValueError, match="separated by"):
        client_cli._histories(["1,5"])
