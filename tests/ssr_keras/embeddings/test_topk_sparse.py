"""TopKSparseEmbedding: top-k mask vs NumPy, compact CSR export, inverted index, serialization, bad args."""

import numpy as np
import pytest
import scipy.sparse as sp
import tensorflow as tf
import tf_keras as keras

from ssr_keras.data.field_spec import FieldSpec
from ssr_keras.embeddings.topk_sparse import (
    BYTES_PER_NONZERO,
    TopKSparseEmbedding,
    compact_bytes,
    inverted_index,
    row_normalize,
    top_k_mask,
)
from ssr_keras.models.ranking.ranking_model import RankingModel


def numpy_top_k_mask(rows: np.ndarray, k: int) -> np.ndarray:
    """Reference: per row keep the k largest |values| (lower index first among ties), signs kept."""
    if k == 0 or k >= rows.shape[1]:
        return rows.copy()
    out = np.zeros_like(rows)
    for i, row in enumerate(rows):
        keep = np.argsort(-np.abs(row), kind="stable")[:k]
        out[i, keep] = row[keep]
    return out


def numpy_forward(table: np.ndarray, k: int) -> np.ndarray:
    return row_normalize(numpy_top_k_mask(table, k))


@pytest.mark.parametrize("k", [0, 1, 3, 7, 16, 20])
def test_top_k_mask_matches_numpy_on_random_rows(k):
    rows = np.random.RandomState(k).normal(size=(32, 16)).astype(np.float32)
    np.testing.assert_array_equal(top_k_mask(rows, k).numpy(), numpy_top_k_mask(rows, min(k, 16)))


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_top_k_mask_ties_keep_the_lower_index_and_signs(k):
    rows = np.array([[1.0, -1.0, 1.0, 0.5, -0.5, 0.0],
                     [-2.0, 2.0, -2.0, 2.0, 1.0, 1.0],
                     [0.0, 0.0, 0.0, 0.0, 0.0, 3.0]], np.float32)
    got = top_k_mask(rows, k).numpy()
    np.testing.assert_array_equal(got, numpy_top_k_mask(rows, k))
    kept = got != 0
    np.testing.assert_array_equal(np.sign(got[kept]), np.sign(rows[kept]))


def test_top_k_mask_with_a_tensor_k_inside_tf_function():
    rows = np.random.RandomState(0).normal(size=(5, 9)).astype(np.float32)
    masked = tf.function(top_k_mask)(tf.constant(rows), tf.Variable(4))
    np.testing.assert_array_equal(masked.numpy(), numpy_top_k_mask(rows, 4))


@pytest.mark.parametrize("k", [0, 4, 12])
def test_forward_single_ids_matches_numpy(k):
    layer = TopKSparseEmbedding(vocab_size=10, embedding_dim=12, k=k)
    ids = np.array([0, 3, 9, 3], np.int64)
    expected = numpy_forward(layer.embeddings.numpy(), k)[ids]
    np.testing.assert_allclose(layer(tf.constant(ids)).numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(expected, axis=1), 1.0, rtol=1e-5)


def test_forward_multivalent_ids_mean_pools_valid_rows():
    layer = TopKSparseEmbedding(vocab_size=8, embedding_dim=6, k=2)
    ids = np.array([[1, 2, -1], [-1, -1, -1], [5, -1, -1]], np.int64)
    rows = numpy_forward(layer.embeddings.numpy(), 2)
    expected = np.stack([(rows[1] + rows[2]) / 2, np.zeros(6), rows[5]])
    np.testing.assert_allclose(layer(tf.constant(ids)).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_set_k_changes_the_number_of_non_zeros():
    layer = TopKSparseEmbedding(vocab_size=4, embedding_dim=10, k=0)
    assert np.count_nonzero(layer(tf.constant([1])).numpy()) == 10
    layer.set_k(3)
    assert layer.current_k == 3
    assert np.count_nonzero(layer(tf.constant([1])).numpy()) == 3


@pytest.mark.parametrize("k", [0, 5])
def test_csr_export_reproduces_the_dense_forward_pass(k):
    layer = TopKSparseEmbedding(vocab_size=20, embedding_dim=16, k=k)
    csr = layer.to_csr()
    assert csr.indices.dtype == np.int32 and csr.data.dtype == np.float32
    assert np.all(np.diff(csr.indptr) == (k or 16))
    assert compact_bytes(csr) == BYTES_PER_NONZERO * (k or 16)
    ids = np.arange(20)
    np.testing.assert_allclose(csr[ids].toarray(), layer(tf.constant(ids)).numpy(), rtol=1e-6, atol=1e-7)
    # Scores computed on the compact form equal the dense ones.
    x = np.random.RandomState(1).binomial(1, 0.3, size=(4, 20)).astype(np.float32)
    dense = layer.item_matrix().numpy()
    np.testing.assert_allclose((x @ csr) @ csr.T, x @ dense @ dense.T, rtol=1e-5, atol=1e-5)


def test_inverted_index_lists_every_non_zero():
    layer = TopKSparseEmbedding(vocab_size=30, embedding_dim=12, k=3)
    csr = layer.to_csr()
    index = layer.inverted_index()
    assert index.shape == (12, 30) and index.nnz == csr.nnz
    items, dims = csr.nonzero()
    for item, dim in zip(items, dims):
        assert item in set(index[dim].indices)
        assert index[dim, item] == csr[item, dim]
    np.testing.assert_array_equal(inverted_index(csr).toarray(), csr.T.toarray())
    with pytest.raises(ValueError, match="matrix"):
        inverted_index(csr.toarray())


def test_config_round_trip_keeps_k_and_shape():
    layer = TopKSparseEmbedding(vocab_size=7, embedding_dim=9, k=4, name="items")
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(restored, TopKSparseEmbedding)
    assert restored.get_config() == layer.get_config()
    assert restored.current_k == 4 and restored.embeddings.shape == (7, 9)


def test_savedmodel_round_trip_gives_identical_outputs(tmp_path):
    layer = TopKSparseEmbedding(vocab_size=12, embedding_dim=8, k=3)
    ids = keras.Input(shape=(), dtype=tf.int64)
    model = keras.Model(ids, layer(ids))
    batch = tf.constant([1, 4, 11, 0], tf.int64)
    expected = model(batch).numpy()
    model.save(tmp_path / "model", save_format="tf")
    loaded = keras.models.load_model(tmp_path / "model")
    np.testing.assert_allclose(loaded(batch).numpy(), expected, rtol=1e-6)
    assert [w.numpy() for w in loaded.layers[-1].weights if w.name.startswith("k")] == [3]


def test_usable_as_a_ranking_model_embedder():
    model = RankingModel([FieldSpec("user", 10), FieldSpec("item", 20)], backbone="dnn",
                         backbone_config={"hidden_units": [8]},
                         embedders={"item": TopKSparseEmbedding(20, 32, k=4, name="item_embedding")})
    probabilities = model({"user": tf.constant([1, 2]), "item": tf.constant([3, 19])})
    assert probabilities.shape == (2, 1)


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="k=-1"):
        TopKSparseEmbedding(vocab_size=5, embedding_dim=4, k=-1)
    with pytest.raises(ValueError, match="k=5"):
        TopKSparseEmbedding(vocab_size=5, embedding_dim=4, k=5)
    with pytest.raises(ValueError, match="embedding_dim=0"):
        TopKSparseEmbedding(vocab_size=5, embedding_dim=0)
    with pytest.raises(ValueError, match="vocab_size"):
        TopKSparseEmbedding(vocab_size=-2, embedding_dim=4)
    layer = TopKSparseEmbedding(vocab_size=5, embedding_dim=4)
    with pytest.raises(ValueError, match="k=9"):
        layer.set_k(9)


def test_compact_bytes_of_a_dense_matrix_is_four_per_dimension():
    assert compact_bytes(np.zeros((3, 64))) == 256.0
    assert compact_bytes(sp.csr_matrix(np.eye(4))) == 8.0


def test_fixed_support_masks_by_the_non_zeros_with_the_top_k_values_and_gradients():
    layer = TopKSparseEmbedding(vocab_size=6, embedding_dim=10, k=3)
    rng = np.random.RandomState(0)
    table = rng.normal(size=(6, 10)).astype(np.float32)
    layer.embeddings.assign(numpy_top_k_mask(table, 3))  # a pruned table: 3 non-zeros per row
    ids = tf.constant([0, 2, 5], tf.int64)

    def forward_and_gradient():
        with tf.GradientTape() as tape:
            out = layer(ids)
            loss = tf.reduce_sum(out * tf.constant(rng.normal(size=(3, 10)), tf.float32))
        return out.numpy(), tape.gradient(loss, layer.embeddings)

    state = rng.get_state()
    top_k_out, top_k_grad = forward_and_gradient()
    layer.fixed_support = True
    rng.set_state(state)
    fixed_out, fixed_grad = forward_and_gradient()
    np.testing.assert_allclose(fixed_out, top_k_out, atol=1e-6)
    np.testing.assert_allclose(tf.convert_to_tensor(fixed_grad).numpy(), tf.convert_to_tensor(top_k_grad).numpy(),
                               atol=1e-6)
    assert np.all(tf.convert_to_tensor(fixed_grad).numpy()[layer.embeddings.numpy() == 0] == 0)
    layer.set_k(2)
    assert not layer.fixed_support
