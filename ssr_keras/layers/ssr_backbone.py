"""A stack of SSR blocks: the SSR-S or SSR-D backbone of a ranking model."""

from __future__ import annotations

from typing import Any, Dict

import tensorflow as tf
import tf_keras as keras

from ssr_keras.layers.ssr_d_block import SSRDBlock
from ssr_keras.layers.ssr_s_block import SSRSBlock
from ssr_keras.validation import check_non_negative_int, check_positive_int

VARIANTS = ("ssr-s", "ssr-d")


@keras.utils.register_keras_serializable(package="ssr_keras")
class SSRBackbone(keras.layers.Layer):
    """Stacks `num_layers` SSR blocks over a flat feature vector.

    Between blocks the views are concatenated into a flat vector (`[batch, V * view_dim]`), the next
    block's input; after the last block they are averaged (`[batch, view_dim]`), ready for a head.
    With `block_residual=True` every block after the first adds its input to its concatenated output
    (the official code's optional `use_ssrblock_residual`), which keeps deep stacks trainable.

    Args:
        variant: `"ssr-d"` (ICS filter, `SSRDBlock`) or `"ssr-s"` (static random filter, `SSRSBlock`).
        num_layers: number of stacked blocks (depth `L`).
        num_views: views per block (width `b`).
        view_dim: width of each view (subspace dimension).
        seed: SSR-S only: block `l` draws its filter from `seed * 1000 + l`, so blocks differ.
        block_residual: add each block's input to its output when their widths match (blocks 2..L).
        **block_kwargs: passed to every block (`SSRDBlock`: `iterations`, `alpha_init`, `gamma_init`,
            `use_gate`, `dropout`; `SSRSBlock`: `num_hidden_layers`, `dropout`).

    Input shape: `[batch, D]`. Output shape: `[batch, view_dim]`.

    Example:

    >>> import numpy as np, ssr_keras
    >>> backbone = ssr_keras.SSRBackbone("ssr-d", num_layers=2, num_views=4, view_dim=16)
    >>> backbone(np.ones((2, 40), "float32")).shape
    TensorShape([2, 16])

    Defaults follow the official SSR-D runs: 2 layers x 8 views x 128, T=5 (SSR-S officially uses
    16 views x 256 with 2 hidden layers: pass those explicitly, `view_dim` must not exceed the input).

    Reference: arXiv 2604.08011.
    """

    def __init__(self, variant: str = "ssr-d", num_layers: int = 2, num_views: int = 8, view_dim: int = 128,
                 seed: int = 0, block_residual: bool = False, **block_kwargs: Any) -> None:
        layer_kwargs = {k: block_kwargs.pop(k) for k in ("name", "dtype", "trainable") if k in block_kwargs}
        super().__init__(**layer_kwargs)
        if variant not in VARIANTS:
            raise ValueError(f"`variant` must be one of {VARIANTS}. Received: variant={variant!r}")
        self.variant = variant
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.num_views = check_positive_int("num_views", num_views)
        self.view_dim = check_positive_int("view_dim", view_dim)
        self.seed = check_non_negative_int("seed", seed)
        self.block_residual = bool(block_residual)
        self.block_kwargs = dict(block_kwargs)
        if variant == "ssr-s":
            self.blocks = [SSRSBlock(self.num_views, self.view_dim, seed=seed * 1000 + i + 1,
                                     name=f"ssr_s_block_{i}", **block_kwargs) for i in range(self.num_layers)]
        else:
            self.blocks = [SSRDBlock(self.num_views, self.view_dim, name=f"ssr_d_block_{i}", **block_kwargs)
                           for i in range(self.num_layers)]

    def call(self, inputs: tf.Tensor, training: bool | None = None, report_sparsity: bool = True) -> tf.Tensor:
        """`report_sparsity=False` skips SSR-D's ICS sparsity metrics (inference: nothing reads them)."""
        if self.variant == "ssr-s":
            # Batch-last `[V, view_dim, B]` from block to block (`[1, D, B]` in): one transpose in and
            # one of the `[view_dim, B]` mean out, none between blocks. Flat index v * view_dim + k is
            # [v, k], so a reshape gives the residual the same elements as the flat layout.
            x = tf.transpose(inputs)[tf.newaxis]
            for block in self.blocks:
                views = block(x, training=training, batch_last=True)
                if self.block_residual and x.shape[0] * x.shape[1] == self.num_views * self.view_dim:
                    views += tf.reshape(x, [self.num_views, self.view_dim, -1])
                x = views
            return tf.transpose(tf.reduce_mean(x, axis=0))
        width = self.num_views * self.view_dim
        x = inputs
        for block in self.blocks:
            flat = tf.reshape(block(x, training=training, report_sparsity=report_sparsity), [-1, width])
            x = flat + x if self.block_residual and x.shape[-1] == width else flat
        return tf.reduce_mean(tf.reshape(x, [-1, self.num_views, self.view_dim]), axis=1)

    def compute_output_shape(self, input_shape: tf.TensorShape) -> tf.TensorShape:
        return tf.TensorShape([input_shape[0], self.view_dim])

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({
            "variant": self.variant,
            "num_layers": self.num_layers,
            "num_views": self.num_views,
            "view_dim": self.view_dim,
            "seed": self.seed,
            "block_residual": self.block_residual,
            **self.block_kwargs,
        })
        return config
