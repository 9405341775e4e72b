import numpy as np
import tensorflow as tf
import tf_keras as keras

from ssr_keras.models.retrieval.bpr_task import BPRTask
from ssr_keras.models.retrieval.matrix_factorization import MatrixFactorization


def test_scores_and_loss_match_numpy():
    model = MatrixFactorization(num_users=4, num_items=6, embedding_dim=3)
    users, items = (t.numpy() for t in model.embeddings())
    assert not np.allclose(users[:4], items[:4])  # the two tables are initialised independently
    np.testing.assert_allclose(model(tf.constant([1, 3])).numpy(), users[[1, 3]] @ items.T, rtol=1e-5, atol=1e-7)
    batch = {"user": np.array([0, 2]), "positive": np.array([5, 1]), "negative": np.array([2, 2])}
    difference = np.sum(users[[0, 2]] * (items[[5, 1]] - items[[2, 2]]), axis=1)
    expected = np.mean(np.log1p(np.exp(-difference)))
    np.testing.assert_allclose(float(model.compute_loss(batch)), expected, rtol=1e-5)


def test_bpr_task_config_round_trip():
    task = BPRTask(name="bpr")
    restored = keras.layers.deserialize(keras.layers.serialize(task))
    assert type(restored) is BPRTask and restored.get_config() == task.get_config()
