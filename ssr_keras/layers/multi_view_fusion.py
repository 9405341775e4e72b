"""Intra-view dense fusion: a separate dense layer per view, all views in one batched matmul."""

from __future__ import annotations

from typing import Any, Dict

import tensorflow as tf
import tf_keras as keras

from ssr_keras.layers.view_layer_norm import ViewLayerNorm
from ssr_keras.validation import check_positive_int, check_rate


@keras.utils.register_keras_serializable(package="ssr_keras")
class MultiViewFusion(keras.layers.Layer):
    """Fuses each view densely with its own weights: `z_i = act(h_i V_i + b_i)`.

    The "fuse" half of SSR's filter-then-fuse: connections are dense *within* a view and absent
    *between* views, which cuts the parameters of a width-`V*d` layer from `(V*d)^2` to `V*d^2`. All
    views are computed by one batched matmul over a view-major copy of the input
    (`[V, B, d] @ [V, d, u]`), never a Python loop of Dense layers. Optionally adds the view's input back
    (`residual`, needs `d == units`) and applies a per-view LayerNorm, in that order:
    `LN_i(h_i + dropout(z_i))`.

    Args:
        units: output width per view.
        activation: activation of the fusion (the paper uses GELU).
        use_layer_norm: apply a separate LayerNorm per view (see `ViewLayerNorm`).
        residual: add the view's input to its fused output; requires input width == `units`.
        dropout: dropout rate on the fused output before the residual.
        kernel_initializer: initializer of the `[V, d, units]` kernel.
        kernel_regularizer: optional regularizer of the kernel.
        **kwargs: standard `keras.layers.Layer` arguments.

    Input shape: `[batch, V, d]`. Output shape: `[batch, V, units]` (batch-last `[V, d, batch]` in and
    `[V, units, batch]` out with `batch_last=True`).

    Example:

    >>> import numpy as np, ssr_keras
    >>> fusion = ssr_keras.MultiViewFusion(units=16, residual=True)
    >>> fusion(np.ones((2, 4, 16), "float32")).shape
    TensorShape([2, 4, 16])

    Reference: Yu et al., "Beyond Dense Connectivity: Explicit Sparsity for Scalable Recommendation",
    SIGIR 2026 (arXiv 2604.08011), intra-view dense fusion.
    """

    def __init__(self, units: int, activation: Any = "gelu", use_layer_norm: bool = True,
                 residual: bool = False, dropout: float = 0.0, kernel_initializer: Any = "glorot_uniform",
                 kernel_regularizer: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.activation = keras.activations.get(activation)
        self.use_layer_norm = bool(use_layer_norm)
        self.residual = bool(residual)
        self.dropout = check_rate("dropout", dropout)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self._dropout = keras.layers.Dropout(self.dropout) if self.dropout else None
        self.layer_norm = ViewLayerNorm(name="layer_norm") if self.use_layer_norm else None

    def build(self, input_shape: tf.TensorShape) -> None:
        input_shape = tf.TensorShape(input_shape)
        if input_shape.rank != 3 or None in input_shape[1:]:
            raise ValueError("MultiViewFusion expects [batch, views, d] with known sizes. "
                             f"Received: input_shape={input_shape}")
        num_views, view_dim = int(input_shape[1]), int(input_shape[2])
        if self.residual and view_dim != self.units:
            raise ValueError(
                f"`residual=True` adds the input to the output, so the input width must equal `units`. "
                f"Received: units={self.units} with input width {view_dim}"
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=[num_views, view_dim, self.units],
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = self.add_weight(name="bias", shape=[num_views, self.units], initializer="zeros")
        if self.layer_norm is not None:
            self.layer_norm.build([input_shape[0], num_views, self.units])
        super().build(input_shape)

    def call(self, inputs: tf.Tensor, training: bool | None = None, batch_last: bool = False) -> tf.Tensor:
        """`batch_last=True` takes and returns batch-last `[V, d, batch]` tensors (the layer must be built).

        Blocks that chain several per-view layers (`SSRSBlock`) stay batch-last from their gather to
        their end, and a stack of them between blocks too: no transposes at all (the batch-last output
        of one block, reshaped to `[V * d, batch]`, is the row-gather input of the next).
        """
        # A batched matmul per view, not `einsum("bvd,vdu->bvu")`: TF 2.16's einsum (and its gradient,
        # which contracts over the batch) runs 2-4x slower than BatchMatMul at these widths
        # (benchmarks/speed.py --profile: the einsum gradient was 60% of an SSR-S training step).
        kernel, bias = tf.cast(self.kernel, inputs.dtype), tf.cast(self.bias, inputs.dtype)
        if batch_last:  # [V, u, d] @ [V, d, B]: the batch is the product's wide dimension
            views = inputs
            fused = self.activation(tf.matmul(kernel, views, transpose_a=True) + bias[:, :, tf.newaxis])
        else:
            views = tf.transpose(inputs, [1, 0, 2])  # [V, B, d]
            fused = self.activation(tf.matmul(views, kernel) + bias[:, tf.newaxis, :])
        if self._dropout is not None:
            fused = self._dropout(fused, training=training)
        if self.residual:
            fused = fused + views
        if not batch_last:
            fused = tf.transpose(fused, [1, 0, 2])  # [B, V, units]
        if self.layer_norm is not None:
            fused = self.layer_norm(fused, batch_last=batch_last)
        return fused

    def compute_output_shape(self, input_shape: tf.TensorShape) -> tf.TensorShape:
        return tf.TensorShape([input_shape[0], input_shape[1], self.units])

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_layer_norm": self.use_layer_norm,
            "residual": self.residual,
            "dropout": self.dropout,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
        })
        return config
