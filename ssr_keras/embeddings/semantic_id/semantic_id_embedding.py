"""`SemanticIdEmbedding`: item ids -> their semantic-ID codes -> one embedding table per level, concatenated."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import tensorflow as tf
import tf_keras as keras

from ssr_keras.data.ids import PADDING_ID
from ssr_keras.validation import check_positive_int

POOLINGS = (None, "mean", "sum")
# A code of -1 in `sid_table` marks an id without a semantic ID (e.g. OOV_ID 0): it uses the fallback rows.
NO_CODE = -1


@keras.saving.register_keras_serializable(package="ssr_keras")
class SemanticIdEmbedding(keras.layers.Layer):
    """Embeds item ids through their frozen semantic IDs (GateSID Eq. 2).

    The layer holds the id -> SID map `sid_table` `[num_ids, L]` as a non-trainable int32 weight, so an
    exported model takes raw item ids only. Level `l` has its own trainable table of
    `codebook_sizes[l] + 1` rows of `embedding_dim`; the level embeddings are concatenated into
    `L * embedding_dim`.

    Fallback (never an error at call time): an id outside `[0, num_ids)`, or whose table row holds
    `-1` codes (by convention `OOV_ID` = 0), is embedded with the *fallback row* of every level (row
    `codebook_sizes[l]`, trained like any other row; it learns the "unknown item" embedding). Padding
    (`PADDING_ID` = -1) embeds to zeros and is left out of pooling.

    Args:
        sid_table: int `[num_ids, L]`; row `i` holds the codes of item id `i` (`-1` = no SID).
        codebook_sizes: codes per level: an int for all levels, or one per level (e.g. when the last
            level is the collision-breaking level of `disambiguate_collisions`).
        embedding_dim: width of each level's embedding (GateSID: 32).
        pooling: `None` keeps the id shape (`[B] -> [B, L*E]`, `[B, N] -> [B, N, L*E]`); `"mean"` or
            `"sum"` pool a `[B, N]` input over its non-padding ids into `[B, L*E]` (the embedder
            protocol of `ssr_keras.embeddings`).
        embeddings_initializer: initializer of the level tables.
        embeddings_regularizer: optional regularizer of the level tables.

    Example:

    >>> table = np.array([[-1, -1], [0, 1], [2, 1]])           # id 0 = OOV, ids 1 and 2 have SIDs
    >>> layer = SemanticIdEmbedding(table, codebook_sizes=3, embedding_dim=4)
    >>> layer(tf.constant([1, 2, 0, 99], tf.int64)).shape     # 0 and 99 use the fallback rows
    TensorShape([4, 8])
    >>> layer(tf.constant([[1, 2, -1]], tf.int64)).shape      # per-position, padding -> zeros
    TensorShape([1, 3, 8])

    Reference: Zhu et al., "GateSID", arXiv 2603.22916.
    """

    def __init__(self, sid_table, codebook_sizes: int | Sequence[int], embedding_dim: int = 32,
                 pooling: str | None = None, embeddings_initializer="uniform", embeddings_regularizer=None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        table = np.asarray(sid_table)
        if table.ndim != 2 or table.shape[0] < 1 or table.shape[1] < 1 or not np.issubdtype(table.dtype, np.integer):
            raise ValueError(f"`sid_table` must be a non-empty integer array [num_ids, num_levels]. "
                             f"Received: shape {table.shape}, dtype {table.dtype}")
        num_levels = table.shape[1]
        if isinstance(codebook_sizes, (int, np.integer)) and not isinstance(codebook_sizes, bool):
            sizes = [check_positive_int("codebook_sizes", codebook_sizes)] * num_levels
        else:
            sizes = [check_positive_int("codebook_sizes", s) for s in codebook_sizes]
            if len(sizes) != num_levels:
                raise ValueError(f"`codebook_sizes` must have one entry per level ({num_levels}). "
                                 f"Received: codebook_sizes={list(codebook_sizes)!r}")
        for level, size in enumerate(sizes):
            column = table[:, level]
            if column.min() < NO_CODE or column.max() >= size:
                raise ValueError(f"`sid_table` level {level} codes must be in [0, {size}) or -1. "
                                 f"Received: range [{column.min()}, {column.max()}]")
        if pooling not in POOLINGS:
            raise ValueError(f"`pooling` must be one of {POOLINGS}. Received: pooling={pooling!r}")
        self.sid_table_values = table.astype(np.int32)
        self.codebook_sizes = sizes
        self.num_levels = num_levels
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self.pooling = pooling
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.embeddings_regularizer = keras.regularizers.get(embeddings_regularizer)

    @property
    def num_ids(self) -> int:
        return int(self.sid_table_values.shape[0])

    @property
    def output_dim(self) -> int:
        return self.num_levels * self.embedding_dim

    def build(self, input_shape) -> None:
        self.sid_table = self.add_weight(
            name="sid_table", shape=self.sid_table_values.shape, dtype=tf.int32, trainable=False,
            initializer=keras.initializers.Constant(self.sid_table_values))
        self.level_tables = [
            self.add_weight(name=f"level_{level}", shape=[size + 1, self.embedding_dim],
                            # A fresh initializer per table: one unseeded instance repeats its values.
                            initializer=keras.initializers.deserialize(
                                keras.initializers.serialize(self.embeddings_initializer)),
                            regularizer=self.embeddings_regularizer)
            for level, size in enumerate(self.codebook_sizes)]
        super().build(input_shape)

    def codes(self, ids: tf.Tensor) -> tf.Tensor:
        """The per-level table rows `[..., L]` of `ids` (fallback rows for unknown ids and padding)."""
        ids = tf.cast(ids, tf.int64)  # compared before any narrowing cast, so huge ids cannot wrap around
        known = tf.logical_and(ids >= 0, ids < self.num_ids)
        codes = tf.gather(self.sid_table, tf.where(known, ids, tf.zeros_like(ids)))
        fallback = tf.constant(self.codebook_sizes, tf.int32)
        use_fallback = tf.logical_or(~known[..., tf.newaxis], codes < 0)
        return tf.where(use_fallback, tf.broadcast_to(fallback, tf.shape(codes)), codes)

    def call(self, ids: tf.Tensor) -> tf.Tensor:
        codes = self.codes(ids)
        vectors = tf.concat([tf.gather(self.level_tables[level], codes[..., level])
                             for level in range(self.num_levels)], axis=-1)
        valid = tf.cast(tf.not_equal(tf.cast(ids, tf.int64), PADDING_ID), vectors.dtype)[..., tf.newaxis]
        vectors = vectors * valid
        if self.pooling is None or ids.shape.rank == 1:
            return vectors
        total = tf.reduce_sum(vectors, axis=-2)
        if self.pooling == "sum":
            return total
        return tf.math.divide_no_nan(total, tf.reduce_sum(valid, axis=-2))

    def compute_output_shape(self, input_shape) -> tf.TensorShape:
        input_shape = tf.TensorShape(input_shape)
        if self.pooling is not None and input_shape.rank > 1:
            input_shape = input_shape[:-1]
        return input_shape.concatenate([self.output_dim])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            sid_table=self.sid_table_values.tolist(), codebook_sizes=list(self.codebook_sizes),
            embedding_dim=self.embedding_dim, pooling=self.pooling,
            embeddings_initializer=keras.initializers.serialize(self.embeddings_initializer),
            embeddings_regularizer=keras.regularizers.serialize(self.embeddings_regularizer)
            if self.embeddings_regularizer else None)
        return config
