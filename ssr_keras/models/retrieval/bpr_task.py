"""`BPRTask`: the Bayesian personalised ranking loss as a TFRS-style task layer."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras


@keras.saving.register_keras_serializable(package="ssr_keras")
class BPRTask(keras.layers.Layer):
    """Pairwise BPR loss: `mean(-log sigmoid(s+ - s-))` over (user, positive item, negative item) triples.

    Computed as `softplus(s- - s+)`, the same function without the `log(1e-10 + sigmoid)` clipping of the
    BACO/LightGCN reference code (which changes it only when `s+ - s- < -23`).

    Reference: Rendle et al., "BPR: Bayesian Personalized Ranking from Implicit Feedback", UAI 2009.

    Call args:
        positive_scores: float `[B]` scores of the observed items.
        negative_scores: float `[B]` scores of the sampled items.

    Returns:
        The scalar mean loss; also tracked as the `bpr_loss` metric.

    Example:

    >>> task = BPRTask()
    >>> round(float(task(tf.constant([2.0, 0.0]), tf.constant([0.0, 0.0]))), 4)
    0.41
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.loss_tracker = keras.metrics.Mean(name="bpr_loss")

    def call(self, positive_scores: tf.Tensor, negative_scores: tf.Tensor) -> tf.Tensor:
        positive_scores = tf.reshape(tf.cast(positive_scores, self.compute_dtype), [-1])
        negative_scores = tf.reshape(tf.cast(negative_scores, self.compute_dtype), [-1])
        loss = tf.reduce_mean(tf.nn.softplus(negative_scores - positive_scores))
        self.loss_tracker.update_state(loss)
        return loss

    @property
    def metrics(self) -> list:
        return [self.loss_tracker]
