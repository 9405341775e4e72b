"""Layer normalisation with separate scale and offset per view."""

from __future__ import annotations

from typing import Any, Dict

import tensorflow as tf
import tf_keras as keras

from ssr_keras.validation import check_float


@keras.utils.register_keras_serializable(package="ssr_keras")
class ViewLayerNorm(keras.layers.Layer):
    """Normalises each view's vector on its own, with a learnable scale and offset per view.

    `keras.layers.LayerNormalization(axis=-1)` on `[batch, V, d]` would share one scale and offset
    across views; SSR gives each view its own LayerNorm, so here `gamma` and `beta` are `[V, d]`.
    Statistics are computed in float32, so the layer is safe under `mixed_float16`.

    Args:
        epsilon: added to the variance (the official SSR-D code uses 1e-6).
        **kwargs: standard `keras.layers.Layer` arguments.

    Input and output shape: `[batch, V, d]`.

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

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        x = tf.cast(inputs, tf.float32)
        # Two-pass statistics, not `tf.nn.moments`: with a static batch of 1, oneDNN's graph rewriter
        # fuses moments' Mean/SquaredDifference/Rsqrt pattern into a layer-norm kernel and aborts the
        # process (TF 2.16.2, "libprotobuf FATAL ... key not found: value"); this form is not matched.
        centered = x - tf.reduce_mean(x, axis=-1, keepdims=True)
        variance = tf.reduce_mean(tf.square(centered), axis=-1, keepdims=True)
        normed = centered * tf.math.rsqrt(variance + self.epsilon)
        return tf.cast(normed * tf.cast(self.gamma, tf.float32) + tf.cast(self.beta, tf.float32), inputs.dtype)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config
