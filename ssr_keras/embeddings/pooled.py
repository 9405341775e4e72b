"""`PooledEmbedding`: one table row per id; a multivalent field's ids are mean-pooled."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from ssr_keras.data.ids import PADDING_ID


@keras.saving.register_keras_serializable(package="ssr_keras")
class PooledEmbedding(keras.layers.Layer):
    """An embedding table for one field; multivalent ids are mean-pooled over non-padding entries.

    Args:
        vocab_size: rows of the table (ids are in `[0, vocab_size)`).
        embedding_dim: width of each row.
        embeddings_initializer: initializer of the table.
        embeddings_regularizer: optional regularizer of the table.

    Call args:
        ids: int ids `[B]`, or `[B, L]` padded with -1 (an all-padding row embeds to zeros).

    Returns:
        `[B, embedding_dim]` float32.

    Example:

    >>> layer = PooledEmbedding(vocab_size=10, embedding_dim=4)
    >>> layer(tf.constant([[1, 2, -1]], tf.int64)).shape
    TensorShape([1, 4])
    """

    def __init__(self, vocab_size: int, embedding_dim: int, embeddings_initializer="uniform",
                 embeddings_regularizer=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.embedding = keras.layers.Embedding(
            vocab_size, embedding_dim, embeddings_initializer=embeddings_initializer,
            embeddings_regularizer=embeddings_regularizer, name="table")

    def call(self, ids: tf.Tensor) -> tf.Tensor:
        ids = tf.cast(ids, tf.int64)
        if ids.shape.rank == 1:
            return self.embedding(ids)
        valid = tf.not_equal(ids, PADDING_ID)
        # Padding is looked up as row 0 (a -1 index fails on CPU) and then masked out.
        vectors = self.embedding(tf.where(valid, ids, tf.zeros_like(ids)))
        weights = tf.cast(valid, vectors.dtype)[..., tf.newaxis]
        count = tf.reduce_sum(weights, axis=-2)
        return tf.math.divide_no_nan(tf.reduce_sum(vectors * weights, axis=-2), count)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            vocab_size=self.vocab_size,
            embedding_dim=self.embedding_dim,
            embeddings_initializer=keras.initializers.serialize(self.embedding.embeddings_initializer),
            embeddings_regularizer=keras.regularizers.serialize(self.embedding.embeddings_regularizer)
            if self.embedding.embeddings_regularizer else None,
        )
        return config


