"""Static Random Filter (SSR-S): a fixed, seeded random subset of input dimensions per view."""

from __future__ import annotations

from typing import Any, Dict

import numpy as np
import tensorflow as tf
import tf_keras as keras

from ssr_keras.validation import check_non_negative_int, check_positive_int


def draw_view_indices(input_dim: int, num_views: int, view_dim: int, seed: int) -> np.ndarray:
    """Draws the `[num_views, view_dim]` input dimensions each view keeps.

    Each view is a prefix of its own permutation of `range(input_dim)`, so dimensions never repeat
    inside a view while views drawn independently may overlap ("feature bagging" across views). Indices
    are sorted within a view so the gather reads memory in order.
    """
    rng = np.random.default_rng(seed)
    views = [np.sort(rng.permutation(input_dim)[:view_dim]) for _ in range(num_views)]
    return np.stack(views).astype(np.int32)


@keras.utils.register_keras_serializable(package="ssr_keras")
class StaticRandomFilter(keras.layers.Layer):
    """Splits a flat input into views, each keeping a fixed random subset of its dimensions.

    The filter of SSR-S: view `i` keeps `view_dim` of the `D` input dimensions, drawn without
    repetition from `seed` when the layer is built and never trained. All views are applied as one
    gather of rows of the transposed input, so the cost grows with `num_views * view_dim` (plus one
    transpose of the input). The indices are stored as a non-trainable weight, so they survive saving
    and loading even if the drawing code changes.

    Args:
        num_views: number of parallel views `V`.
        view_dim: dimensions kept per view; must not exceed the input width `D`.
        seed: seed of the random draw; the same seed and input width give the same indices.
        **kwargs: standard `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Input shape: `[batch, D]` with `D` known. Output shape: `[batch, num_views, view_dim]` (or
    batch-last `[num_views, view_dim, batch]` with `batch_last=True`).

    Example:

    >>> import numpy as np, ssr_keras
    >>> layer = ssr_keras.StaticRandomFilter(num_views=4, view_dim=8, seed=1)
    >>> layer(np.ones((2, 32), "float32")).shape
    TensorShape([2, 4, 8])

    Reference: Yu et al., "Beyond Dense Connectivity: Explicit Sparsity for Scalable Recommendation",
    SIGIR 2026 (arXiv 2604.08011), Static Random Filter.
    """

    def __init__(self, num_views: int, view_dim: int, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_views = check_positive_int("num_views", num_views)
        self.view_dim = check_positive_int("view_dim", view_dim)
        self.seed = check_non_negative_int("seed", seed)

    def build(self, input_shape: tf.TensorShape) -> None:
        input_shape = tf.TensorShape(input_shape)
        if input_shape.rank != 2 or input_shape[-1] is None:
            raise ValueError(
                "StaticRandomFilter expects an input of shape [batch, D] with D known. "
                f"Received: input_shape={input_shape}"
            )
        input_dim = int(input_shape[-1])
        if self.view_dim > input_dim:
            raise ValueError(
                f"`view_dim` must not exceed the input width D={input_dim} (a view cannot keep more "
                f"dimensions than there are without repeating one). Received: view_dim={self.view_dim}"
            )
        indices = draw_view_indices(input_dim, self.num_views, self.view_dim, self.seed)
        self.indices = self.add_weight(
            name="indices",
            shape=indices.shape,
            dtype=tf.int32,
            initializer=keras.initializers.Constant(indices),
            trainable=False,
        )
        super().build(input_shape)

    def call(self, inputs: tf.Tensor, batch_last: bool = False) -> tf.Tensor:
        """`batch_last=True` maps batch-last to batch-last (the layer must be built): the input is the
        `[V_in, d_in, batch]` of a previous block (input dimension `v * d_in + k` is `inputs[v, k]`; a
        flat `[batch, D]` input is `[1, D, batch]`), the output `[V, view_dim, batch]`, with no transpose."""
        # One gather of whole rows of the batch-last input ([D, B] -> [V, view_dim, B]): a gather along
        # axis 1 copies element by element and ran 2.5-3x slower (benchmarks/speed.py), and its gradient
        # is a scatter of rows too.
        if batch_last:
            return tf.gather(tf.reshape(inputs, [-1, tf.shape(inputs)[-1]]), self.indices)
        return tf.transpose(tf.gather(tf.transpose(inputs), self.indices), [2, 0, 1])

    def compute_output_shape(self, input_shape: tf.TensorShape) -> tf.TensorShape:
        return tf.TensorShape([input_shape[0], self.num_views, self.view_dim])

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({"num_views": self.num_views, "view_dim": self.view_dim, "seed": self.seed})
        return config
