"""`TopKSparseEmbedding`: a wide table whose rows keep only their k largest-magnitude entries.

Compressed ELSA (Vančura et al., "Efficient Learning of Sparse Representations from Interactions",
WWW '26, arXiv 2602.09935) learns high-dimensional *sparse* item embeddings: the table `W [n, F]` is
dense in memory during training, but the forward pass keeps per row the k entries of largest |value|
(signs kept) and L2-normalises the row, `A = normalize(topk(W, k))`. A pruning schedule
(`ssr_keras.training.pruning`) lowers k while training; once trained, `A` is stored compactly as CSR
(an int32 index and a float32 value per non-zero: 8 bytes) and its non-zero pattern is an inverted
index (dimension -> items).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import tensorflow as tf
import tf_keras as keras

from ssr_keras.data.ids import PADDING_ID

# Bytes a compact (CSR) row spends per non-zero: an int32 column index and a float32 value.
BYTES_PER_NONZERO = 8
# Bytes a dense row spends per dimension (float32).
BYTES_PER_DENSE_DIM = 4


def _check_k(k, width: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= width:
        raise ValueError(f"`k` must be an integer in [0, {width}] (0 keeps every entry). Received: k={k!r}")
    return int(k)


def top_k_mask(rows: tf.Tensor, k) -> tf.Tensor:
    """Keeps, per row, the k entries of largest magnitude (signs kept) and zeroes the rest.

    Args:
        rows: float `[n, F]`.
        k: int scalar (Python or tensor); 0 or `k >= F` keeps every entry. Among entries of equal
            magnitude the lower column index is kept first (`tf.math.top_k` order).

    Returns:
        `rows` with all but the top-k entries of each row set to zero (gradients flow to the kept ones).
    """
    rows = tf.convert_to_tensor(rows)
    width = tf.shape(rows)[-1]
    k = tf.cast(k, tf.int32)

    def masked():
        _, columns = tf.math.top_k(tf.abs(rows), k=k, sorted=False)
        row_ids = tf.broadcast_to(tf.range(tf.shape(rows)[0])[:, tf.newaxis], tf.shape(columns))
        positions = tf.reshape(tf.stack([row_ids, columns], axis=-1), [-1, 2])
        mask = tf.scatter_nd(positions, tf.ones([tf.shape(positions)[0]], rows.dtype), tf.shape(rows))
        return rows * mask

    dense = tf.logical_or(tf.equal(k, 0), k >= width)
    return tf.cond(dense, lambda: tf.identity(rows), masked)


def row_normalize(rows):
    """L2-normalises each row of a dense array or `scipy.sparse` matrix (all-zero rows stay zero)."""
    if sp.issparse(rows):
        rows = sp.csr_matrix(rows)
        norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        return sp.csr_matrix(sp.diags(scale.astype(rows.dtype)) @ rows)
    rows = np.asarray(rows)
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


def compact_bytes(matrix) -> float:
    """Mean bytes per row of `matrix` stored compactly: 8 per non-zero (CSR) or 4 per column (dense)."""
    if sp.issparse(matrix):
        return BYTES_PER_NONZERO * matrix.nnz / matrix.shape[0]
    return float(BYTES_PER_DENSE_DIM * np.shape(matrix)[1])


def inverted_index(matrix: sp.spmatrix) -> sp.csr_matrix:
    """Dimension -> items: row d of the result lists the items with a non-zero in dimension d (and its value).

    Args:
        matrix: sparse item matrix `[num_items, F]` (e.g. `TopKSparseEmbedding.to_csr()`).

    Returns:
        `scipy.sparse.csr_matrix [F, num_items]`; `result[d].indices` are the items active in dimension d.
    """
    if not sp.issparse(matrix):
        raise ValueError(f"`matrix` must be a scipy.sparse item matrix. Received: {type(matrix).__name__}")
    transposed = sp.csr_matrix(matrix.T)
    transposed.sort_indices()
    return transposed


@keras.saving.register_keras_serializable(package="ssr_keras")
class TopKSparseEmbedding(keras.layers.Layer):
    """A wide embedding table whose rows keep their k largest-magnitude entries, L2-normalised.

    The forward pass is `normalize(topk(W[ids], k))` (Compressed ELSA, Vančura et al., WWW '26,
    arXiv 2602.09935): per row the k entries of largest |value| survive with their signs, the others are
    zero, and the row is scaled to unit L2 norm. `k` is a non-trainable variable so a schedule can lower
    it while training (`ssr_keras.training.pruning.TopKPruning`); `k = 0` means dense (only normalised).

    It is an embedder in the sense of `ssr_keras.embeddings.embedder` (ids `[B]` or `[B, L]` padded with
    -1 -> `[B, embedding_dim]`, multivalent rows mean-pooled) and the item matrix of
    `ssr_keras.models.retrieval.elsa.ELSA` (`item_matrix()`).

    Fixed support: once a pruning step has zeroed every entry outside each row's top-k (and nothing can
    move a zero entry, e.g. a fresh optimiser without weight decay), `fixed_support = True` makes the
    forward pass mask by the non-zeros of the table instead of recomputing the top-k (the same values and
    gradients, without a `top_k` over the whole table at every step). `TopKPruning` sets it after its
    pruning steps; `set_k` clears it.

    Args:
        vocab_size: rows of the table (ids are in `[0, vocab_size)`, row 0 the OOV bucket).
        embedding_dim: width F of each row (the number of sparse dimensions).
        k: non-zeros kept per row, in `[0, embedding_dim]`; 0 keeps all (dense).
        embeddings_initializer: initializer of `W` (Xavier/Glorot uniform, as the paper).

    Call args:
        ids: int ids `[B]`, or `[B, L]` padded with -1 (an all-padding row embeds to zeros).

    Returns:
        float32 `[B, embedding_dim]`: unit-norm rows with at most k non-zeros (means of them for `[B, L]`).

    Example:

    >>> layer = TopKSparseEmbedding(vocab_size=5, embedding_dim=8, k=2)
    >>> out = layer(tf.constant([1, 3], tf.int64))
    >>> [int(n) for n in tf.math.count_nonzero(out, axis=-1)]
    [2, 2]
    >>> layer.set_k(0)  # dense
    >>> csr = layer.to_csr()
    >>> csr.shape, compact_bytes(csr)
    ((5, 8), 64.0)
    """

    def __init__(self, vocab_size: int, embedding_dim: int, k: int = 0,
                 embeddings_initializer="glorot_uniform", **kwargs) -> None:
        super().__init__(**kwargs)
        for name, value in (("vocab_size", vocab_size), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
        self.vocab_size = int(vocab_size)
        self.embedding_dim = int(embedding_dim)
        self._initial_k = _check_k(k, self.embedding_dim)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.embeddings = self.add_weight(
            name="embeddings", shape=(self.vocab_size, self.embedding_dim),
            initializer=self.embeddings_initializer, trainable=True)
        self.k = self.add_weight(name="k", shape=(), dtype=tf.int32, trainable=False,
                                 initializer=keras.initializers.Constant(self._initial_k))
        # Python-side (read when a function is traced): see "Fixed support" in the class docstring.
        self.fixed_support = False

    def set_k(self, k: int) -> None:
        """Sets the number of non-zeros kept per row (0 = dense); clears `fixed_support`."""
        self.k.assign(_check_k(k, self.embedding_dim))
        self.fixed_support = False

    @property
    def current_k(self) -> int:
        """The k in use now (0 = dense)."""
        return int(self.k.numpy())

    def sparse_rows(self, rows: tf.Tensor) -> tf.Tensor:
        """`normalize(topk(rows, k))` of raw table rows `[n, F]` (the non-zeros of `rows` if `fixed_support`)."""
        if self.fixed_support:
            support = tf.stop_gradient(tf.cast(tf.not_equal(rows, 0), rows.dtype))
            return tf.math.l2_normalize(rows * support, axis=-1)
        return tf.math.l2_normalize(top_k_mask(rows, self.k), axis=-1)

    def item_matrix(self) -> tf.Tensor:
        """The whole normalised top-k table `A [vocab_size, embedding_dim]` (dense tensor)."""
        return self.sparse_rows(self.embeddings)

    def call(self, ids: tf.Tensor) -> tf.Tensor:
        ids = tf.cast(ids, tf.int64)
        if ids.shape.rank == 1:
            return self.sparse_rows(tf.gather(self.embeddings, ids))
        valid = tf.not_equal(ids, PADDING_ID)
        # Padding is looked up as row 0 (a -1 index fails on CPU) and then masked out.
        safe = tf.where(valid, ids, tf.zeros_like(ids))
        flat = tf.reshape(safe, [-1])
        vectors = tf.reshape(self.sparse_rows(tf.gather(self.embeddings, flat)),
                             tf.concat([tf.shape(ids), [self.embedding_dim]], axis=0))
        weights = tf.cast(valid, vectors.dtype)[..., tf.newaxis]
        count = tf.reduce_sum(weights, axis=-2)
        return tf.math.divide_no_nan(tf.reduce_sum(vectors * weights, axis=-2), count)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape([input_shape[0], self.embedding_dim])

    def to_csr(self) -> sp.csr_matrix:
        """The compact form of `A`: CSR with int32 indices and float32 values (8 bytes per non-zero)."""
        matrix = sp.csr_matrix(self.item_matrix().numpy().astype(np.float32))
        matrix.eliminate_zeros()
        matrix.indices = matrix.indices.astype(np.int32)
        matrix.indptr = matrix.indptr.astype(np.int32)
        matrix.sort_indices()
        return matrix

    def inverted_index(self) -> sp.csr_matrix:
        """Dimension -> items (`[embedding_dim, vocab_size]` CSR); see the module function `inverted_index`."""
        return inverted_index(self.to_csr())

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(vocab_size=self.vocab_size, embedding_dim=self.embedding_dim, k=self.current_k,
                      embeddings_initializer=keras.initializers.serialize(self.embeddings_initializer))
        return config
