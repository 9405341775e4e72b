"""`MatrixFactorization`: BPR-MF, a user row dotted with an item row."""

from __future__ import annotations

from typing import Tuple

import tensorflow as tf

from ssr_keras.models.retrieval.bpr_model import BPRRetrievalModel


class MatrixFactorization(BPRRetrievalModel):
    """Matrix factorisation trained with BPR: `score(u, i) = <e_u, e_i>` over the two embedders.

    Args: as `BPRRetrievalModel` (`num_users`, `num_items`, `embedding_dim`, `user_embedder`,
    `item_embedder`); swap in `CodebookEmbedding`s for a compressed model.

    Reference: Rendle et al., "BPR: Bayesian Personalized Ranking from Implicit Feedback", UAI 2009.

    Example:

    >>> model = MatrixFactorization(num_users=5, num_items=4, embedding_dim=8)
    >>> model(tf.constant([0, 3])).shape
    TensorShape([2, 4])
    >>> batch = {"user": tf.constant([0, 1]), "positive": tf.constant([2, 3]), "negative": tf.constant([1, 0])}
    >>> float(model.compute_loss(batch)) > 0
    True
    """

    def pair_vectors(self, users: tf.Tensor, positives: tf.Tensor,
                     negatives: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        # No propagation: embed only the batch's ids.
        return self.user_embedder(users), self.item_embedder(positives), self.item_embedder(negatives)
