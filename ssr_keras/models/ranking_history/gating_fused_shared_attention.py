"""`GatingFusedSharedAttention` (GFSA): one gate-fused attention distribution over a history, shared by the
semantic-ID and the ID value streams."""

from __future__ import annotations

from typing import Mapping

import tensorflow as tf
import tf_keras as keras

from ssr_keras.validation import check_positive_int

INPUT_KEYS = ("query_sid", "query_id", "history_sid", "history_id", "gate")
# Added to masked scores before the softmax (finite, so an all-padding row gives no NaN).
MASK_VALUE = -1e9


def masked_softmax(scores: tf.Tensor, mask: tf.Tensor | None) -> tf.Tensor:
    """Softmax over the last axis ignoring positions where `mask` is False; an all-masked row -> zeros."""
    if mask is None:
        return tf.nn.softmax(scores, axis=-1)
    mask = tf.cast(mask, scores.dtype)
    weights = tf.nn.softmax(scores + (1.0 - mask) * MASK_VALUE, axis=-1) * mask
    return tf.math.divide_no_nan(weights, tf.reduce_sum(weights, axis=-1, keepdims=True))


@keras.saving.register_keras_serializable(package="ssr_keras")
class GatingFusedSharedAttention(keras.layers.Layer):
    """Fuses SID and ID attention with a gate and applies the fused weights to both value streams.

    With queries `Q` and history keys/values `H` in both streams (GateSID §3.2):

        S_sid = softmax(W_q^sid Q_sid (W_k^sid H_sid)^T / sqrt(d)),  S_id likewise from the ID stream,
        S = w * S_sid + (1 - w) * S_id,
        output = [S H_sid, S H_id]  (concatenated).

    Since `w` is one value per query row, every fused row still sums to 1. Padding positions of the
    history (`history_mask` False) get weight 0; a history with no valid position gives zero output
    (the documented fallback for an empty history).

    Args:
        key_dim: width `d` of the query/key projections (values are the history embeddings themselves).
        use_bias: whether the four projections have biases.

    Call args:
        inputs: dict with `query_sid` `[B, Es]` or `[B, Lq, Es]` (a target item or the history itself
            for self-attention), `query_id` (same with `Ei`), `history_sid` `[B, N, Es]`,
            `history_id` `[B, N, Ei]`, and `gate` (`[B]`, `[B, 1]` or `[B, Lq]`: one `w` per query row);
            optionally `history_mask` bool `[B, N]` (True = a real history item).
        return_attention_scores: also return the fused weights `[B, (Lq,) N]`.

    Returns:
        `[B, (Lq,) Es + Ei]`.

    Example:

    >>> layer = GatingFusedSharedAttention(key_dim=8)
    >>> out = layer({"query_sid": tf.ones([2, 4]), "query_id": tf.ones([2, 6]),
    ...              "history_sid": tf.ones([2, 5, 4]), "history_id": tf.ones([2, 5, 6]),
    ...              "gate": tf.fill([2, 1], 0.3), "history_mask": tf.sequence_mask([3, 0], 5)})
    >>> out.shape
    TensorShape([2, 10])

    Reference: Zhu et al., "GateSID", arXiv 2603.22916.
    """

    def __init__(self, key_dim: int = 32, use_bias: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.key_dim = check_positive_int("key_dim", key_dim)
        self.use_bias = bool(use_bias)
        self.projections = {name: keras.layers.Dense(self.key_dim, use_bias=self.use_bias, name=name)
                            for name in ("query_sid", "key_sid", "query_id", "key_id")}

    def _scores(self, query: tf.Tensor, keys: tf.Tensor, stream: str) -> tf.Tensor:
        q = self.projections[f"query_{stream}"](query)
        k = self.projections[f"key_{stream}"](keys)
        return tf.matmul(q, k, transpose_b=True) / tf.sqrt(tf.cast(self.key_dim, q.dtype))

    def call(self, inputs: Mapping[str, tf.Tensor], return_attention_scores: bool = False):
        missing = [k for k in INPUT_KEYS if k not in inputs]
        if missing:
            raise ValueError(f"`inputs` must have keys {INPUT_KEYS} (and optionally 'history_mask'). "
                             f"Received keys: {sorted(inputs)}")
        query_sid, query_id = inputs["query_sid"], inputs["query_id"]
        single_query = query_sid.shape.rank == 2
        if single_query:
            query_sid, query_id = query_sid[:, tf.newaxis, :], query_id[:, tf.newaxis, :]
        history_sid, history_id = inputs["history_sid"], inputs["history_id"]
        mask = inputs.get("history_mask")
        if mask is not None:
            mask = tf.cast(mask, tf.bool)[:, tf.newaxis, :]
        s_sid = masked_softmax(self._scores(query_sid, history_sid, "sid"), mask)
        s_id = masked_softmax(self._scores(query_id, history_id, "id"), mask)
        gate = tf.cast(inputs["gate"], s_sid.dtype)
        if gate.shape.rank == 1:
            gate = gate[:, tf.newaxis]
        gate = gate[:, :, tf.newaxis]  # [B, 1 or Lq, 1]: one w per query row
        fused = gate * s_sid + (1.0 - gate) * s_id
        output = tf.concat([tf.matmul(fused, history_sid), tf.matmul(fused, history_id)], axis=-1)
        if single_query:
            output, fused = output[:, 0, :], fused[:, 0, :]
        return (output, fused) if return_attention_scores else output

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(key_dim=self.key_dim, use_bias=self.use_bias)
        return config
