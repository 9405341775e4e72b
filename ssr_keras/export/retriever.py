"""Top-k retriever exports: user id, or a user's item history, -> the k best unseen items and their scores.

Two kinds, both served through Predict (`serving_default`, method `tensorflow/serving/predict`) with
core TensorFlow ops only, so the real TF Serving binary runs them as `ssr-serve` does:

| export | for | input |
|---|---|---|
| `export_user_retriever` | MF, LightGCN, BACO codebooks | `user_ids` int64 [B] |
| `export_history_retriever` | ELSA, dense or top-k sparse | `history` int64 [B, L], padded with -1 |

Both answer `item_ids` int64 [B, k] and `scores` float [B, k].

The SavedModel holds everything it needs: the final user and item vectors (a user's already-seen
items as a ragged table, masked before the top-k) or ELSA's row-normalised item matrix `A`, as a
`tf.SparseTensor` when it is sparse (scores `relu(x A A^T - x)`, the history masked). Ids outside the trained range, and
histories without any item, are INVALID_ARGUMENT, never a crash.

Example:

>>> import numpy as np, scipy.sparse as sp, tempfile
>>> items = sp.csr_matrix(np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]))
>>> path = export_history_retriever(items, tempfile.mkdtemp() + "/1", k=1)
>>> served = tf.saved_model.load(path).signatures["serving_default"]
>>> served(history=tf.constant([[0, -1]], tf.int64))["item_ids"].numpy().tolist()
[[1]]
"""

from __future__ import annotations

from typing import Dict

import numpy as np
import scipy.sparse as sp
import tensorflow as tf

from ssr_keras.data.ids import PADDING_ID
from ssr_keras.export.saved_model import save_servable
from ssr_keras.export.signature_names import DEFAULT_SIGNATURE, PREDICT_SIGNATURE

USER_IDS_INPUT = "user_ids"
HISTORY_INPUT = "history"
ITEM_IDS_OUTPUT = "item_ids"
SCORES_OUTPUT = "scores"
RETRIEVER_METHOD_NAMES = {DEFAULT_SIGNATURE: tf.saved_model.PREDICT_METHOD_NAME,
                          PREDICT_SIGNATURE: tf.saved_model.PREDICT_METHOD_NAME}


def _check_k(k: int, num_items: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= num_items:
        raise ValueError(f"k must be an int in [1, num_items={num_items}]. Received: k={k!r}")
    return int(k)


def _top_k(scores: tf.Tensor, masked: tf.Tensor, k: int) -> Dict[str, tf.Tensor]:
    """Top-k of `scores` [B, I] with the positions where `masked` is True excluded."""
    scores = tf.where(masked, tf.constant(-np.inf, scores.dtype), scores)
    values, indices = tf.math.top_k(scores, k=k)
    return {ITEM_IDS_OUTPUT: tf.cast(indices, tf.int64), SCORES_OUTPUT: values}


class _UserRetriever(tf.Module):
    def __init__(self, user_vectors: np.ndarray, item_vectors: np.ndarray, seen: sp.csr_matrix, k: int):
        super().__init__(name="user_retriever")
        self.user_vectors = tf.Variable(user_vectors, trainable=False, name="user_vectors")
        self.item_vectors = tf.Variable(item_vectors, trainable=False, name="item_vectors")
        self.seen_items = tf.Variable(seen.indices.astype(np.int64), trainable=False, name="seen_items")
        self.seen_splits = tf.Variable(seen.indptr.astype(np.int64), trainable=False, name="seen_splits")
        self.k = k

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int64, name=USER_IDS_INPUT)])
    def retrieve(self, user_ids: tf.Tensor) -> Dict[str, tf.Tensor]:
        num_users = tf.shape(self.user_vectors, out_type=tf.int64)[0]
        with tf.control_dependencies([
            tf.debugging.assert_greater_equal(user_ids, tf.constant(0, tf.int64),
                                              message="user_ids must be >= 0"),
            tf.debugging.assert_less(user_ids, num_users, message="user_ids must be < the number of users"),
        ]):
            users = tf.gather(self.user_vectors, user_ids)
        scores = tf.matmul(users, self.item_vectors, transpose_b=True)
        seen = tf.gather(tf.RaggedTensor.from_row_splits(self.seen_items, self.seen_splits), user_ids)
        rows = tf.cast(seen.value_rowids(), tf.int64)
        masked = tf.scatter_nd(tf.stack([rows, seen.flat_values], axis=1),
                               tf.ones_like(seen.flat_values, tf.bool), tf.shape(scores, out_type=tf.int64))
        return _top_k(scores, masked, self.k)


class _HistoryRetriever(tf.Module):
    def __init__(self, item_matrix: sp.csr_matrix, k: int, sparse: bool):
        super().__init__(name="history_retriever")
        self.shape = tuple(int(d) for d in item_matrix.shape)
        self.k = k
        self.sparse = sparse
        if sparse:
            coo = item_matrix.tocoo()
            self.item_indices = tf.Variable(np.stack([coo.row, coo.col], axis=1).astype(np.int64), trainable=False,
                                            name="item_indices")
            self.item_values = tf.Variable(coo.data.astype(np.float32), trainable=False, name="item_values")
        else:
            self.items = tf.Variable(item_matrix.toarray(), trainable=False, name="items")

    def _scores(self, x: tf.Tensor) -> tf.Tensor:
        """`x A A^T - x` for interaction rows `x` [B, I]."""
        if not self.sparse:
            return tf.matmul(tf.matmul(x, self.items), self.items, transpose_b=True) - x
        a = tf.SparseTensor(self.item_indices, self.item_values, self.shape)
        latent = tf.sparse.sparse_dense_matmul(a, x, adjoint_a=True, adjoint_b=True)  # (x A)^T: [F, B]
        return tf.transpose(tf.sparse.sparse_dense_matmul(a, latent)) - x

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int64, name=HISTORY_INPUT)])
    def retrieve(self, history: tf.Tensor) -> Dict[str, tf.Tensor]:
        num_items = self.shape[0]
        valid = tf.not_equal(history, PADDING_ID)
        with tf.control_dependencies([
            tf.debugging.assert_greater_equal(history, tf.constant(PADDING_ID, tf.int64),
                                              message="history item ids must be >= 0 (-1 pads)"),
            tf.debugging.assert_less(history, tf.constant(num_items, tf.int64),
                                     message="history item ids must be < the number of items"),
            tf.debugging.assert_equal(tf.reduce_all(tf.reduce_any(valid, axis=1)), True,
                                      message="every history needs at least one item"),
        ]):
            positions = tf.where(valid)
        batch = tf.shape(history, out_type=tf.int64)[0]
        x = tf.scatter_nd(tf.stack([positions[:, 0], tf.gather_nd(history, positions)], axis=1),
                          tf.ones([tf.shape(positions)[0]], tf.float32), [batch, num_items])
        x = tf.minimum(x, 1.0)  # an item listed twice is still one interaction
        return _top_k(tf.nn.relu(self._scores(x)), x > 0, self.k)


def export_user_retriever(user_vectors: np.ndarray, item_vectors: np.ndarray, seen: sp.spmatrix,
                          export_dir: str, k: int = 100) -> str:
    """Exports a dot-product retriever: `user_ids` -> the k best items the user has not seen.

    Args:
        user_vectors: float `[num_users, d]` final user vectors (LightGCN: the mean over layers).
        item_vectors: float `[num_items, d]` final item vectors.
        seen: sparse `[num_users, num_items]`: items to mask per user (training and validation).
        export_dir: the version folder to create.
        k: how many items a request gets.

    Returns:
        `export_dir`.
    """
    user_vectors = np.asarray(user_vectors, np.float32)
    item_vectors = np.asarray(item_vectors, np.float32)
    if user_vectors.ndim != 2 or item_vectors.ndim != 2 or user_vectors.shape[1] != item_vectors.shape[1]:
        raise ValueError("user_vectors and item_vectors must be [num_users, d] and [num_items, d]. Received: "
                         f"{user_vectors.shape} and {item_vectors.shape}")
    seen = sp.csr_matrix(seen)
    if seen.shape != (user_vectors.shape[0], item_vectors.shape[0]):
        raise ValueError(f"seen must be [num_users, num_items] = {(user_vectors.shape[0], item_vectors.shape[0])}. "
                         f"Received: {seen.shape}")
    seen.sort_indices()
    retriever = _UserRetriever(user_vectors, item_vectors, seen, _check_k(k, item_vectors.shape[0]))
    signature = retriever.retrieve.get_concrete_function()
    return save_servable(export_dir, {"retriever": retriever},
                         {DEFAULT_SIGNATURE: signature, PREDICT_SIGNATURE: signature}, RETRIEVER_METHOD_NAMES)


# Below this share of non-zeros `A` is kept and multiplied as a `tf.SparseTensor`.
SPARSE_DENSITY = 0.25


def export_history_retriever(item_matrix: sp.spmatrix, export_dir: str, k: int = 100,
                             sparse: bool | None = None) -> str:
    """Exports ELSA scoring: `history` (item ids, -1 padded) -> the k best items not in the history.

    Args:
        item_matrix: `[num_items, F]` item matrix, dense or sparse (a compressed ELSA's top-k CSR); rows
            are L2-normalised here as ELSA's `A` is.
        export_dir: the version folder to create.
        k: how many items a request gets.
        sparse: multiply with `A` as a `tf.SparseTensor` (True) or a dense matrix (False); None picks
            sparse when under `SPARSE_DENSITY` of its entries are non-zero.

    Returns:
        `export_dir`.
    """
    matrix = sp.csr_matrix(item_matrix, dtype=np.float32)
    if sparse is None:
        sparse = matrix.nnz < SPARSE_DENSITY * matrix.shape[0] * matrix.shape[1]
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
    if not np.all(norms > 0):
        raise ValueError(f"item_matrix rows must be non-zero; rows {np.flatnonzero(norms == 0)[:5].tolist()} "
                         "are zero. Received: an item matrix with empty rows")
    normalised = sp.diags(1.0 / norms) @ matrix
    retriever = _HistoryRetriever(sp.csr_matrix(normalised, dtype=np.float32), _check_k(k, matrix.shape[0]), sparse)
    signature = retriever.retrieve.get_concrete_function()
    return save_servable(export_dir, {"retriever": retriever},
                         {DEFAULT_SIGNATURE: signature, PREDICT_SIGNATURE: signature}, RETRIEVER_METHOD_NAMES)
