"""Layer normalisation with separate scale and offset per view."""

from __future__ import annotations

from typing import Any, Dict

import tensorflow as tf
import tf_keras as keras

from ssr_keras.validation import check_float


@tf.custom_gradient
def view_layer_norm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: tf.Tensor):
    """`gamma * (x - mean) / sqrt(var + epsilon) + beta` over the feature axis of `x`, and its gradient.

    `x` is `[B, V, d]` with `gamma` and `beta` `[V, d]`, or batch-last `[V, d, B]` with them `[V, d, 1]`
    (the statistics are over `d` and the gradients of `gamma` and `beta` summed over the batch axis
    either way).

    Two-pass statistics, not `tf.nn.moments`: with a static batch of 1, oneDNN's graph rewriter fuses
    moments' Mean/SquaredDifference/Rsqrt pattern into a layer-norm kernel and aborts the process
    (TF 2.16.2, "libprotobuf FATAL ... key not found: value"); this form is not matched. The gradient
    is the closed form (`dx = r * (dn - mean(dn) - n * mean(dn * n))` with `n` the normalised input,
    `r` the inverse deviation and `dn = dy * gamma`), half the element-wise ops autodiff spends on it.
    """
    batch_last = gamma.shape.rank == x.shape.rank  # [V, d, B] with gamma [V, d, 1]; else [B, V, d], [V, d]
    axis = 1 if batch_last else -1
    centered = x - tf.reduce_mean(x, axis=axis, keepdims=True)
    variance = tf.reduce_mean(tf.square(centered), axis=axis, keepdims=True)
    inverse_deviation = tf.math.rsqrt(variance + epsilon)
    normed = centered * inverse_deviation

    def sum_over_batch(values: tf.Tensor) -> tf.Tensor:  # into gamma's shape
        return tf.reduce_sum(values, axis=2, keepdims=True) if batch_last else tf.reduce_sum(values, axis=0)

    def grad(upstream: tf.Tensor):
        grad_normed = upstream * gamma
        grad_x = inverse_deviation * (
            grad_normed - tf.reduce_mean(grad_normed, axis=axis, keepdims=True)
            - normed * tf.reduce_mean(grad_normed * normed, axis=axis, keepdims=True))
        return grad_x, sum_over_batch(upstream * normed), sum_over_batch(upstream), tf.zeros_like(epsilon)

    return normed * gamma + beta, grad


@keras.utils.register_keras_serializable(package="ssr_keras")
class ViewLayerNorm(keras.layers.Layer):
    """Normalises each view's vector on its own, with a learnable scale and offset per view.

    `keras.layers.LayerNormalization(axis=-1)` on `[batch, V, d]` would share one scale and offset
    across views; SSR gives each view its own LayerNorm, so here `gamma` and `beta` are `[V, d]`.
    Statistics are computed in float32, so the layer is safe under `mixed_float16`.

    Args:
        epsilon: added to the variance (the official SSR-D code uses 1e-6).
        **kwargs: standard `keras.layers.Layer` arguments.

    Input and output shape: `[batch, V, d]` (or `[V, d, batch]` with `batch_last=True`).

    Example:

    >>> import numpy as np, ssr_keras
    >>> from ssr_keras.layers import ViewLayerNorm
    >>> ViewLayerNorm()(np.ones((2, 3, 4), "float32")).shape
    TensorShape([2, 3, 4])
    """

    def __init__(self, epsilon: float = 1e-6, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epsilon = check_float("epsilon", epsilon)

    def build(self, input_shape: tf.TensorShape) -> None:
        input_shape = tf.TensorShape(input_shape)
        if input_shape.rank != 3 or None in input_shape[1:]:
            raise ValueError(f"ViewLayerNorm expects [batch, views, d] with known sizes. "
                             f"Received: input_shape={input_shape}")
        self.gamma = self.add_weight(name="gamma", shape=input_shape[1:], initializer="ones")
        self.beta = self.add_weight(name="beta", shape=input_shape[1:], initializer="zeros")
        super().build(input_shape)

    def call(self, inputs: tf.Tensor, batch_last: bool = False) -> tf.Tensor:
        """`batch_last=True` takes and returns a batch-last `[V, d, batch]` tensor (the layer must be built)."""
        gamma, beta = (tf.cast(tf.convert_to_tensor(w), tf.float32) for w in (self.gamma, self.beta))
        if batch_last:
            gamma, beta = gamma[:, :, tf.newaxis], beta[:, :, tf.newaxis]
        normed = view_layer_norm(tf.cast(inputs, tf.float32), gamma, beta, tf.constant(self.epsilon, tf.float32))
        return tf.cast(normed, inputs.dtype)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config
