"""Per-view linear projection of a flat input, all views in one matmul."""

from __future__ import annotations

from typing import Any, Dict

import tensorflow as tf
import tf_keras as keras

from ssr_keras.validation import check_positive_int


@keras.utils.register_keras_serializable(package="ssr_keras")
class ViewProjection(keras.layers.Layer):
    """Projects a flat input into `num_views` views with a separate weight matrix per view.

    `h_i = x W_i (+ b_i)` for views `i = 1..V`, computed as one `[D, V * units]` matmul and a reshape
    (the per-view matrices are the column blocks), which is what SSR-D uses before its ICS filter.

    Args:
        num_views: number of views `V`.
        units: output width per view.
        use_bias: whether each view adds a bias (the official SSR-D projection has none).
        kernel_initializer: initializer of the `[D, V * units]` kernel (official: Glorot normal).
        kernel_regularizer: optional regularizer of the kernel.
        **kwargs: standard `keras.layers.Layer` arguments.

    Input shape: `[batch, D]`. Output shape: `[batch, num_views, units]`.

    Example:

    >>> import numpy as np, ssr_keras
    >>> ssr_keras.ViewProjection(num_views=4, units=16)(np.ones((2, 40), "float32")).shape
    TensorShape([2, 4, 16])
    """

    def __init__(self, num_views: int, units: int, use_bias: bool = False,
                 kernel_initializer: Any = "glorot_normal", kernel_regularizer: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_views = check_positive_int("num_views", num_views)
        self.units = check_positive_int("units", units)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape: tf.TensorShape) -> None:
        input_shape = tf.TensorShape(input_shape)
        if input_shape.rank != 2 or input_shape[-1] is None:
            raise ValueError(f"ViewProjection expects [batch, D] with D known. Received: input_shape={input_shape}")
        self.kernel = self.add_weight(
            name="kernel",
            shape=[int(input_shape[-1]), self.num_views * self.units],
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = (self.add_weight(name="bias", shape=[self.num_views * self.units], initializer="zeros")
                     if self.use_bias else None)
        super().build(input_shape)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        outputs = tf.matmul(inputs, self.kernel)
        if self.bias is not None:
            outputs = outputs + self.bias
        return tf.reshape(outputs, [-1, self.num_views, self.units])

    def compute_output_shape(self, input_shape: tf.TensorShape) -> tf.TensorShape:
        return tf.TensorShape([input_shape[0], self.num_views, self.units])

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({
            "num_views": self.num_views,
            "units": self.units,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
        })
        return config
