"""`CodebookEmbedding`: ids -> shared codebook rows (BACO and the hashing/community baselines)."""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf
import tf_keras as keras

from ssr_keras.data.ids import NUM_OOV_BUCKETS, PADDING_ID
from ssr_keras.embeddings.codebook.assignment import NO_CODE, CodebookAssignment
from ssr_keras.validation import check_non_negative_int, check_positive_int


def _check_code_map(code_map: Any, num_codes: int) -> np.ndarray:
    array = np.asarray(code_map)
    if array.ndim == 1:
        array = np.stack([array, np.full_like(array, NO_CODE)], axis=1)
    if array.ndim != 2 or array.shape[1] != 2 or array.shape[0] == 0 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"`code_map` must be integer codes [vocab_size >= 1, 2] (or [vocab_size]). Received: "
                         f"code_map with shape {array.shape} and dtype {array.dtype}")
    array = array.astype(np.int64)
    if array.min() < NO_CODE or array.max() >= num_codes:
        raise ValueError(f"`code_map` must hold codes in [0, num_codes={num_codes}) or -1. Received: codes in "
                         f"[{array.min()}, {array.max()}]")
    if np.any((array[:, 0] == NO_CODE) & (array[:, 1] != NO_CODE)):
        raise ValueError("`code_map`: an id without a primary code cannot have a secondary code. Received: "
                         f"{int(np.sum((array[:, 0] == NO_CODE) & (array[:, 1] != NO_CODE)))} such ids")
    return array


@keras.saving.register_keras_serializable(package="ssr_keras")
class CodebookEmbedding(keras.layers.Layer):
    """Embeds ids through a shared codebook: each id uses one or two codebook rows (their mean).

    Many ids share one row, so the table has `num_codes + 1` rows instead of one per id (BACO, Jiang et al.,
    SIGIR 2026, arXiv:2604.18351: users in two clusters embed as the mean of both rows). The id -> code map is
    a non-trainable int64 weight of the layer, so a saved model needs nothing outside itself. Row `num_codes`
    is the *unseen* row: ids without a code (-1 in the map), ids outside the map (negative, or
    `>= vocab_size`), e.g. the OOV id 0 of `ssr_keras.data.ids` when the map is built with
    `from_assignment`, all embed to it.

    Args:
        code_map: int `[vocab_size, 2]` (primary code, secondary code or -1) or `[vocab_size]` (one code per
            id); -1 as primary marks an id without a code (it embeds to the unseen row).
        num_codes: codebook rows (codes are in `[0, num_codes)`).
        embedding_dim: width of each row.
        embeddings_initializer: initializer of the codebook.
        embeddings_regularizer: optional regularizer of the codebook.

    Call args:
        ids: int ids `[B]`, or `[B, L]` padded with -1 (mean-pooled over non-padding ids like
            `PooledEmbedding`; an all-padding row embeds to zeros).

    Returns:
        `[B, embedding_dim]` float32.

    Example:

    >>> layer = CodebookEmbedding([[-1, -1], [0, -1], [1, 0], [1, -1]], num_codes=2, embedding_dim=4)
    >>> layer(tf.constant([1, 2, 0, 99], tf.int64)).shape  # id 2: mean of rows 1 and 0; 0 and 99: unseen
    TensorShape([4, 4])
    >>> layer(tf.constant([[1, 2, -1]], tf.int64)).shape
    TensorShape([1, 4])
    """

    def __init__(self, code_map: Any, num_codes: int, embedding_dim: int, embeddings_initializer="uniform",
                 embeddings_regularizer=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_codes = check_positive_int("num_codes", num_codes)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self._code_map_init = _check_code_map(code_map, self.num_codes)
        self.vocab_size = int(self._code_map_init.shape[0])
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.embeddings_regularizer = keras.regularizers.get(embeddings_regularizer)

    @classmethod
    def from_assignment(cls, assignment: CodebookAssignment, side: str, embedding_dim: int,
                        id_offset: int = NUM_OOV_BUCKETS, **kwargs) -> CodebookEmbedding:
        """The `side` ("user" or "item") table of `assignment`, keyed by ids `assignment index + id_offset`.

        With the default `id_offset = NUM_OOV_BUCKETS` (1) the layer takes the vocabulary ids of
        `ssr_keras.data.ids`: known values 1..n are the assignment's ids 0..n-1 (cluster the edges with
        `vocabulary id - 1`) and the OOV id 0 embeds to the unseen row. Use `id_offset=0` for 0-based ids
        (the retrieval models).
        """
        id_offset = check_non_negative_int("id_offset", id_offset)
        codes = assignment.codes(side)
        code_map = np.concatenate([np.full((id_offset, 2), NO_CODE, np.int64), codes])
        return cls(code_map, assignment.num_codes(side), embedding_dim, **kwargs)

    def build(self, input_shape) -> None:
        init = self._code_map_init
        self.code_map = self.add_weight(
            name="code_map", shape=init.shape, dtype=tf.int64, trainable=False,
            initializer=keras.initializers.Constant(init))
        # Row `num_codes` is the unseen row.
        self.codebook = self.add_weight(
            name="codebook", shape=(self.num_codes + 1, self.embedding_dim),
            initializer=self.embeddings_initializer, regularizer=self.embeddings_regularizer, trainable=True)
        super().build(input_shape)

    def _embed(self, ids: tf.Tensor) -> tf.Tensor:
        """`[...]` ids -> `[..., embedding_dim]`, the mean of each id's one or two rows."""
        in_map = (ids >= 0) & (ids < self.vocab_size)
        codes = tf.gather(self.code_map, tf.where(in_map, ids, tf.zeros_like(ids)))
        primary, secondary = codes[..., 0], codes[..., 1]
        has_primary = in_map & (primary >= 0)
        has_secondary = has_primary & (secondary >= 0)
        primary = tf.where(has_primary, primary, tf.fill(tf.shape(primary), tf.constant(self.num_codes, tf.int64)))
        second_weight = tf.cast(has_secondary, self.codebook.dtype)[..., tf.newaxis]
        vectors = tf.gather(self.codebook, primary)
        vectors += second_weight * tf.gather(self.codebook, tf.where(has_secondary, secondary, primary))
        return vectors / (1.0 + second_weight)

    def call(self, ids: tf.Tensor) -> tf.Tensor:
        ids = tf.cast(ids, tf.int64)
        if ids.shape.rank == 1:
            return self._embed(ids)
        if ids.shape.rank != 2:
            raise ValueError(f"{self.name}: ids must be [batch] or [batch, max_len]. Received: shape {ids.shape}")
        valid = tf.not_equal(ids, PADDING_ID)
        vectors = self._embed(ids)
        weights = tf.cast(valid, vectors.dtype)[..., tf.newaxis]
        return tf.math.divide_no_nan(tf.reduce_sum(vectors * weights, axis=-2), tf.reduce_sum(weights, axis=-2))

    def compute_output_shape(self, input_shape) -> tf.TensorShape:
        return tf.TensorShape([tf.TensorShape(input_shape)[0], self.embedding_dim])

    def get_config(self) -> dict:
        config = super().get_config()
        code_map = self.code_map.numpy() if self.built else self._code_map_init
        config.update(
            code_map=code_map.tolist(), num_codes=self.num_codes, embedding_dim=self.embedding_dim,
            embeddings_initializer=keras.initializers.serialize(self.embeddings_initializer),
            embeddings_regularizer=keras.regularizers.serialize(self.embeddings_regularizer)
            if self.embeddings_regularizer else None)
        return config
