"""SSR-D block: per-view projection, ICS filter (optionally gated), dense fusion, LayerNorm."""

from __future__ import annotations

from typing import Any, Dict

import tensorflow as tf
import tf_keras as keras

from ssr_keras.layers.ics_layer import ICSLayer
from ssr_keras.layers.multi_view_fusion import MultiViewFusion
from ssr_keras.layers.view_projection import ViewProjection
from ssr_keras.validation import check_positive_int, check_rate


@keras.utils.register_keras_serializable(package="ssr_keras")
class SSRDBlock(keras.layers.Layer):
    """One SSR-D layer: `h_i = ICS(x W_i)`, optionally gated by `x U_i`, then `LN_i(h_i + fuse_i(h_i))`.

    Each view projects the whole input with its own matrix, the ICS filter zeroes the dimensions that
    lose the competition (input-dependent sparsity), a multiplicative gate `* (x U_i)` (as in the
    official runs) restores a signed signal, and `MultiViewFusion` fuses the view densely with a
    residual and a per-view LayerNorm.

    Args:
        num_views: number of views `V` (official: 8).
        view_dim: width of each view (official: 128).
        iterations: ICS steps `T` (official: 5).
        alpha_init: initial ICS inhibition rate.
        gamma_init: initial ICS output scale.
        use_gate: multiply the filtered view by a second projection of the input.
        dropout: dropout rate inside the fusion.
        **kwargs: standard `keras.layers.Layer` arguments.

    Input shape: `[batch, D]`. Output shape: `[batch, num_views, view_dim]`.

    Example:

    >>> import numpy as np, ssr_keras
    >>> block = ssr_keras.SSRDBlock(num_views=4, view_dim=16)
    >>> block(np.ones((2, 40), "float32")).shape
    TensorShape([2, 4, 16])

    Reference: arXiv 2604.08011, SSR-D.
    """

    def __init__(self, num_views: int = 8, view_dim: int = 128, iterations: int = 5,
                 alpha_init: float = 0.1, gamma_init: float = 1.0, use_gate: bool = True,
                 dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_views = check_positive_int("num_views", num_views)
        self.view_dim = check_positive_int("view_dim", view_dim)
        self.use_gate = bool(use_gate)
        self.dropout = check_rate("dropout", dropout)
        self.projection = ViewProjection(self.num_views, self.view_dim, name="projection")
        self.ics = ICSLayer(iterations, alpha_init, gamma_init, name=f"{self.name}_ics")
        self.gate = ViewProjection(self.num_views, self.view_dim, name="gate") if self.use_gate else None
        self.fusion = MultiViewFusion(self.view_dim, activation="gelu", use_layer_norm=True, residual=True,
                                      dropout=self.dropout, name="fusion")

    def call(self, inputs: tf.Tensor, training: bool | None = None, report_sparsity: bool = True) -> tf.Tensor:
        """`report_sparsity=False` skips the ICS sparsity metric (inference: nothing reads it)."""
        filtered = self.ics(self.projection(inputs), report_sparsity=report_sparsity)
        if self.gate is not None:
            filtered = filtered * self.gate(inputs)
        return self.fusion(filtered, training=training)

    def compute_output_shape(self, input_shape: tf.TensorShape) -> tf.TensorShape:
        return tf.TensorShape([input_shape[0], self.num_views, self.view_dim])

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({
            "num_views": self.num_views,
            "view_dim": self.view_dim,
            "iterations": self.ics.iterations,
            "alpha_init": self.ics.alpha_init,
            "gamma_init": self.ics.gamma_init,
            "use_gate": self.use_gate,
            "dropout": self.dropout,
        })
        return config
