import numpy as np
import pytest
import scipy.sparse as sp
import tensorflow as tf

from ssr_keras.embeddings.codebook import CodebookAssignment
from ssr_keras.embeddings.codebook.codebook_embedding import CodebookEmbedding
from ssr_keras.models.retrieval.lightgcn import LightGCN, normalized_adjacency

# 3 users x 4 items; item 3 has no interaction.
R = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [1, 0, 0, 0]], dtype=float)


def _numpy_lightgcn(users, items, layers):
    """Dense NumPy LightGCN: A = [[0, R], [R^T, 0]], A_hat = D^-1/2 A D^-1/2, mean of E_0..E_L."""
    num_users, num_items = R.shape
    adjacency = np.zeros((num_users + num_items,) * 2)
    adjacency[:num_users, num_users:] = R
    adjacency[num_users:, :num_users] = R.T
    degree = adjacency.sum(axis=1)
    scale = np.where(degree > 0, 1 / np.sqrt(np.maximum(degree, 1e-12)), 0.0)
    a_hat = scale[:, None] * adjacency * scale[None, :]
    layer = np.concatenate([users, items])
    outputs = [layer]
    for _ in range(layers):
        layer = a_hat @ layer
        outputs.append(layer)
    final = np.mean(outputs, axis=0)
    return final[:num_users], final[num_users:], a_hat


def test_normalized_adjacency_matches_numpy():
    _, _, a_hat = _numpy_lightgcn(np.zeros((3, 1)), np.zeros((4, 1)), 0)
    np.testing.assert_allclose(normalized_adjacency(sp.csr_matrix(R)).toarray(), a_hat, rtol=1e-12)


@pytest.mark.parametrize("layers", [0, 1, 2, 3])
def test_propagation_matches_numpy_reference(layers):
    model = LightGCN(sp.csr_matrix(R), num_layers=layers, embedding_dim=5)
    ego_users, ego_items = (t.numpy() for t in model.ego_embeddings())
    users, items = (t.numpy() for t in model.embeddings())
    expected_users, expected_items, _ = _numpy_lightgcn(ego_users, ego_items, layers)
    np.testing.assert_allclose(users, expected_users, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(items, expected_items, rtol=1e-5, atol=1e-7)
    scores = model(tf.constant([0, 2])).numpy()
    np.testing.assert_allclose(scores, expected_users[[0, 2]] @ expected_items.T, rtol=1e-5, atol=1e-7)


def test_codebook_embedders_replace_the_tables():
    assignment = CodebookAssignment("baco", np.array([[0, 1], [1, -1], [0, -1]]), np.array([0, 0, 1, 1]))
    model = LightGCN(sp.csr_matrix(R), embedding_dim=4,
                     user_embedder=CodebookEmbedding.from_assignment(assignment, "user", 4, id_offset=0),
                     item_embedder=CodebookEmbedding.from_assignment(assignment, "item", 4, id_offset=0))
    users, items = (t.numpy() for t in model.ego_embeddings())
    np.testing.assert_allclose(users[2], model.user_embedder.codebook.numpy()[0])
    np.testing.assert_allclose(items[0], items[1])
    assert model(tf.constant([1])).shape == (1, 4)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == (3 + 3) * 4


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_layers=-1"):
        LightGCN(sp.csr_matrix(R), num_layers=-1)
    with pytest.raises(ValueError, match="ndarray"):
        LightGCN(R)
    with pytest.raises(ValueError, match="embedding_dim=0"):
        LightGCN(sp.csr_matrix(R), embedding_dim=0)
