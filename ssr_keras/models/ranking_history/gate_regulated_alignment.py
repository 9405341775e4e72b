"""`GateRegulatedAlignment`: the gate-weighted in-batch InfoNCE between semantic-ID and ID embeddings."""

from __future__ import annotations

from typing import Mapping

import tensorflow as tf
import tf_keras as keras

from ssr_keras.validation import check_float

SIMILARITIES = ("cosine", "dot")
# Logit of an in-batch negative that is the same item as the positive (an accidental hit).
ACCIDENTAL_HIT_LOGIT = -1e9


@keras.saving.register_keras_serializable(package="ssr_keras")
class GateRegulatedAlignment(keras.layers.Layer):
    """`loss = weight * mean_i w_i * InfoNCE_i` (GateSID §3.3, Eq. 9-11), a TFRS-style loss task.

        InfoNCE_i = -log( exp(sim(s_i, e_i) / tau) / sum_j exp(sim(s_i, e_j) / tau) ),

    with `s_i` the semantic-ID embedding and `e_i` the ID embedding of the i-th item of the batch;
    the other items of the batch are the negatives. A young item (large gate `w_i`) is pulled harder
    towards its ID embedding's neighbourhood, a mature one is barely constrained.

    Args:
        weight: `lambda` (GateSID uses 0.1).
        temperature: `tau` > 0 (not reported in the notes we read; 0.1 is a common choice).
        similarity: `"cosine"` (L2-normalised dot product) or `"dot"`.
        stop_gate_gradient: treat `w` as a constant. Default True: otherwise the loss is minimised
            trivially by pushing every gate to 0 (GateSID does not say which it does).
        remove_accidental_hits: with `candidate_ids`, drop in-batch negatives that are the same item
            as the positive (duplicates in a batch are not negatives).

    Call args:
        inputs: dict with `sid` `[B, E]`, `id` `[B, E]`, `gate` `[B]` or `[B, 1]`; optionally
            `candidate_ids` int `[B]` and `sample_weight` `[B]` (multiplies `w_i`, e.g. 0 for items
            without a trained ID embedding).

    Returns:
        the scalar loss.

    Example:

    >>> task = GateRegulatedAlignment(weight=1.0, temperature=1.0, similarity="dot")
    >>> e = tf.eye(2)
    >>> round(float(task({"sid": e, "id": e, "gate": tf.ones([2])})), 4)   # -log(e / (e + 1))
    0.3133

    Reference: Zhu et al., "GateSID", arXiv 2603.22916.
    """

    def __init__(self, weight: float = 0.1, temperature: float = 0.1, similarity: str = "cosine",
                 stop_gate_gradient: bool = True, remove_accidental_hits: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.weight = check_float("weight", weight)
        if self.weight < 0:
            raise ValueError(f"`weight` must be >= 0. Received: weight={weight!r}")
        self.temperature = check_float("temperature", temperature)
        if self.temperature <= 0:
            raise ValueError(f"`temperature` must be > 0. Received: temperature={temperature!r}")
        if similarity not in SIMILARITIES:
            raise ValueError(f"`similarity` must be one of {SIMILARITIES}. Received: similarity={similarity!r}")
        self.similarity = similarity
        self.stop_gate_gradient = bool(stop_gate_gradient)
        self.remove_accidental_hits = bool(remove_accidental_hits)

    def per_item_loss(self, sid: tf.Tensor, ids_embedding: tf.Tensor,
                      candidate_ids: tf.Tensor | None = None) -> tf.Tensor:
        """`InfoNCE_i` for every row, `[B]`."""
        if self.similarity == "cosine":
            sid, ids_embedding = tf.math.l2_normalize(sid, axis=-1), tf.math.l2_normalize(ids_embedding, axis=-1)
        logits = tf.matmul(sid, ids_embedding, transpose_b=True) / self.temperature
        if self.remove_accidental_hits and candidate_ids is not None:
            candidate_ids = tf.reshape(candidate_ids, [-1])
            same = tf.equal(candidate_ids[:, tf.newaxis], candidate_ids[tf.newaxis, :])
            off_diagonal = tf.logical_not(tf.cast(tf.eye(tf.shape(logits)[0]), tf.bool))
            logits = tf.where(tf.logical_and(same, off_diagonal), tf.cast(ACCIDENTAL_HIT_LOGIT, logits.dtype),
                              logits)
        labels = tf.range(tf.shape(logits)[0])
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)

    def call(self, inputs: Mapping[str, tf.Tensor]) -> tf.Tensor:
        missing = [k for k in ("sid", "id", "gate") if k not in inputs]
        if missing:
            raise ValueError(f"`inputs` must have keys 'sid', 'id', 'gate'. Received keys: {sorted(inputs)}")
        losses = self.per_item_loss(inputs["sid"], inputs["id"], inputs.get("candidate_ids"))
        gate = tf.reshape(tf.cast(inputs["gate"], losses.dtype), [-1])
        if self.stop_gate_gradient:
            gate = tf.stop_gradient(gate)
        if inputs.get("sample_weight") is not None:
            gate = gate * tf.reshape(tf.cast(inputs["sample_weight"], losses.dtype), [-1])
        return self.weight * tf.reduce_mean(gate * losses)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(weight=self.weight, temperature=self.temperature, similarity=self.similarity,
                      stop_gate_gradient=self.stop_gate_gradient, remove_accidental_hits=self.remove_accidental_hits)
        return config
