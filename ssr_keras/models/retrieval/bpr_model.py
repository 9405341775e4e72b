"""`BPRRetrievalModel`: the base of the embedding retrieval models trained with BPR (MF, LightGCN).

A model owns a user and an item *embedder* (any layer of the embedder protocol: `PooledEmbedding` full tables
by default, `CodebookEmbedding` for BACO or hashing) over 0-based ids, turns their ego embeddings into final
user and item vectors (identity for MF, graph propagation for LightGCN), and scores a (user, item) pair by
the dot product. Training batches are dicts `{"user", "positive", "negative"}` of int64 ids.
"""

from __future__ import annotations

from typing import Dict, Tuple

import tensorflow as tf
import tf_keras as keras

from ssr_keras.embeddings import PooledEmbedding
from ssr_keras.models.retrieval.bpr_task import BPRTask
from ssr_keras.models.traced_model import TracedStepsModel
from ssr_keras.validation import check_positive_int

# Normal(0, 0.1) initial embeddings, as in LightGCN.
EMBEDDING_STDDEV = 0.1


class BPRRetrievalModel(TracedStepsModel):
    """Dot-product retrieval over user and item embedders, trained with `BPRTask`.

    Args:
        num_users: user ids are `0..num_users-1`.
        num_items: item ids are `0..num_items-1`.
        embedding_dim: width of the default tables.
        user_embedder: optional layer mapping int64 user ids `[B]` to `[B, embedding_dim]` (e.g. a
            `CodebookEmbedding`); defaults to a full `PooledEmbedding(num_users, embedding_dim)`.
        item_embedder: the same for items.
    """

    def __init__(self, num_users: int, num_items: int, embedding_dim: int = 64,
                 user_embedder: keras.layers.Layer | None = None, item_embedder: keras.layers.Layer | None = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_users = check_positive_int("num_users", num_users)
        self.num_items = check_positive_int("num_items", num_items)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        # One initializer instance per table: a shared unseeded instance would repeat its values.
        self.user_embedder = user_embedder or PooledEmbedding(
            num_users, embedding_dim, keras.initializers.RandomNormal(stddev=EMBEDDING_STDDEV),
            name="user_embedding")
        self.item_embedder = item_embedder or PooledEmbedding(
            num_items, embedding_dim, keras.initializers.RandomNormal(stddev=EMBEDDING_STDDEV),
            name="item_embedding")
        self.task = BPRTask(name="bpr")

    def ego_embeddings(self) -> Tuple[tf.Tensor, tf.Tensor]:
        """Every user's and item's embedder output, `[num_users, D]` and `[num_items, D]`."""
        users = self.user_embedder(tf.range(self.num_users, dtype=tf.int64))
        items = self.item_embedder(tf.range(self.num_items, dtype=tf.int64))
        return users, items

    def propagate(self, users: tf.Tensor, items: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
        """Final user and item vectors from the ego embeddings (identity here; LightGCN propagates)."""
        return users, items

    def embeddings(self) -> Tuple[tf.Tensor, tf.Tensor]:
        """The final `[num_users, D]` user and `[num_items, D]` item vectors used for scoring."""
        return self.propagate(*self.ego_embeddings())

    def pair_vectors(self, users: tf.Tensor, positives: tf.Tensor,
                     negatives: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """User, positive-item and negative-item vectors of a batch."""
        user_vectors, item_vectors = self.embeddings()
        return (tf.gather(user_vectors, users), tf.gather(item_vectors, positives),
                tf.gather(item_vectors, negatives))

    def call(self, user_ids: tf.Tensor) -> tf.Tensor:
        """Scores of every item for `user_ids` `[B]`: `[B, num_items]`."""
        users, items = self.embeddings()
        return tf.matmul(tf.gather(users, tf.cast(user_ids, tf.int64)), items, transpose_b=True)

    def compute_loss(self, inputs: Dict[str, tf.Tensor], training: bool = False) -> tf.Tensor:
        users, positives, negatives = self.pair_vectors(
            tf.cast(inputs["user"], tf.int64), tf.cast(inputs["positive"], tf.int64),
            tf.cast(inputs["negative"], tf.int64))
        positive_scores = tf.reduce_sum(users * positives, axis=-1)
        negative_scores = tf.reduce_sum(users * negatives, axis=-1)
        return self.task(positive_scores, negative_scores)

