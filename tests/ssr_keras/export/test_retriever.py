"""Top-k retriever exports against NumPy: seen items masked, ELSA's scores, bad ids are InvalidArgument."""

import numpy as np
import pytest
import scipy.sparse as sp
import tensorflow as tf

from ssr_keras.analysis.retrieval_metrics import top_k_items
from ssr_keras.export import export_history_retriever, export_user_retriever, read_method_names

RNG = np.random.default_rng(0)


def _serve(path):
    return tf.saved_model.load(path).signatures["serving_default"]


@pytest.fixture(scope="module")
def user_retriever(tmp_path_factory):
    users, items = RNG.normal(size=(6, 4)), RNG.normal(size=(9, 4))
    seen = sp.random(6, 9, density=0.3, format="csr", random_state=1)
    path = export_user_retriever(users, items, seen, str(tmp_path_factory.mktemp("user") / "1"), k=3)
    return users, items, seen, path


def test_user_retriever_equals_numpy_top_k_with_seen_items_masked(user_retriever):
    users, items, seen, path = user_retriever
    out = _serve(path)(user_ids=tf.constant([4, 0, 4], tf.int64))
    expected = top_k_items(users @ items.T, 3, exclude=seen)[[4, 0, 4]]
    np.testing.assert_array_equal(out["item_ids"].numpy(), expected)
    np.testing.assert_allclose(out["scores"].numpy(), np.take_along_axis((users @ items.T)[[4, 0, 4]], expected, 1),
                               rtol=1e-5)
    assert not any(seen[u, i] for u, row in zip([4, 0, 4], out["item_ids"].numpy()) for i in row)
    assert read_method_names(path)["serving_default"] == "tensorflow/serving/predict"


@pytest.mark.parametrize("user_ids", [[6], [-1]])
def test_user_ids_out_of_range_are_invalid_argument(user_retriever, user_ids):
    with pytest.raises(tf.errors.InvalidArgumentError, match="user_ids must be"):
        _serve(user_retriever[3])(user_ids=tf.constant(user_ids, tf.int64))


def _elsa_scores(matrix, histories):
    a = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    x = np.zeros((len(histories), len(matrix)))
    for row, items in enumerate(histories):
        x[row, [i for i in items if i >= 0]] = 1.0
    return np.maximum(x @ a @ a.T - x, 0.0), x


@pytest.mark.parametrize("sparse, representation", [(False, None), (True, None), (False, True), (True, False)])
def test_history_retriever_scores_relu_x_a_at_minus_x_with_history_masked(tmp_path, sparse, representation):
    matrix = RNG.normal(size=(12, 5))
    if sparse:  # the top 2 entries of each row kept, as compressed ELSA stores them
        keep = np.zeros_like(matrix, bool)
        np.put_along_axis(keep, np.argsort(-np.abs(matrix), axis=1)[:, :2], True, axis=1)
        matrix = np.where(keep, matrix, 0.0)
    histories = [[0, 3, -1], [5, -1, -1], [7, 7, 2]]
    path = export_history_retriever(sp.csr_matrix(matrix), str(tmp_path / "1"), k=4, sparse=representation)
    out = _serve(path)(history=tf.constant(histories, tf.int64))
    scores, x = _elsa_scores(matrix, histories)
    masked = np.where(x > 0, -np.inf, scores)
    np.testing.assert_allclose(out["scores"].numpy(), -np.sort(-masked, axis=1)[:, :4], rtol=1e-5, atol=1e-6)
    assert not any(i in history for history, row in zip(histories, out["item_ids"].numpy()) for i in row)


@pytest.mark.parametrize("history, message", [
    ([[12, -1]], "must be < the number of items"), ([[-2, 1]], "must be >= 0"), ([[-1, -1]], "at least one item")])
def test_bad_histories_are_invalid_argument(tmp_path, history, message):
    path = export_history_retriever(sp.csr_matrix(RNG.normal(size=(12, 3))), str(tmp_path / "1"), k=2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        _serve(path)(history=tf.constant(history, tf.int64))


def test_bad_export_arguments_name_the_argument(tmp_path):
    with pytest.raises(ValueError, match=r"k must be an int in \[1, num_items=3\]. Received: k=4"):
        export_user_retriever(np.ones((2, 2)), np.ones((3, 2)), sp.csr_matrix((2, 3)), str(tmp_path / "1"), k=4)
    with pytest.raises(ValueError, match="seen must be"):
        export_user_retriever(np.ones((2, 2)), np.ones((3, 2)), sp.csr_matrix((3, 3)), str(tmp_path / "1"), k=1)
    with pytest.raises(ValueError, match="rows must be non-zero"):
        export_history_retriever(sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 0.0]])), str(tmp_path / "1"), k=1)
