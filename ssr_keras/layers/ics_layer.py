"""Iterative Competitive Sparse (ICS) activation of SSR-D."""

from __future__ import annotations

from typing import Any, Dict

import tensorflow as tf
import tf_keras as keras

from ssr_keras.validation import check_float, check_non_negative_int


@tf.custom_gradient
def competitive_sparse(inputs: tf.Tensor, alpha: tf.Tensor, gamma: tf.Tensor):
    """`gamma * x_T` with `x_0 = relu(inputs)`, `x_t = relu(x_{t-1} - alpha[t] * mean(x_{t-1}))`, and its gradient.

    `alpha` is `[T]` (input `[B, d]`) or `[T, V, 1]` (input `[B, V, d]`); `gamma` is the input's shape
    without the batch. The gradient is written out (per step: one ReLU mask, one row sum, one
    subtraction) instead of left to autodiff, which spends about twice as many full-size element-wise
    ops on the broadcast mean (benchmarks/speed.py --profile); it equals autodiff's (tests/ssr_keras/layers).
    """
    steps = [tf.nn.relu(inputs)]
    means = []
    for t in range(alpha.shape[0]):  # T is small and static: unrolled, no tf.while_loop overhead
        means.append(tf.reduce_mean(steps[-1], axis=-1, keepdims=True))
        steps.append(tf.nn.relu(steps[-1] - alpha[t] * means[-1]))
    outputs = gamma * steps[-1]
    width = tf.cast(tf.shape(inputs)[-1], inputs.dtype)

    def grad(upstream: tf.Tensor):
        grad_gamma = tf.reduce_sum(upstream * steps[-1], axis=0)
        grad = upstream * gamma
        grad_alpha = []
        for t in reversed(range(len(means))):
            grad = tf.raw_ops.ReluGrad(gradients=grad, features=steps[t + 1])  # through relu(r), r = x - a*m
            row_sum = tf.reduce_sum(grad, axis=-1, keepdims=True)  # dL/dm = -a * row_sum
            grad_alpha.append(-tf.reduce_sum(row_sum * means[t], axis=0))
            grad = grad - (alpha[t] / width) * row_sum  # m = mean(x): each x_k gets dL/dm / d
        grad_alpha = tf.reshape(tf.stack(grad_alpha[::-1]), tf.shape(alpha)) if grad_alpha else tf.zeros_like(alpha)
        return tf.raw_ops.ReluGrad(gradients=grad, features=steps[0]), grad_alpha, grad_gamma

    return outputs, grad


@keras.utils.register_keras_serializable(package="ssr_keras")
class ICSLayer(keras.layers.Layer):
    """Input-dependent sparsification by iterative mean-field inhibition.

    Dimensions compete for survival: each step subtracts a learnable multiple of the sample's mean
    activation and cuts what falls below zero,

        x_0 = relu(z)
        x_t = relu(x_{t-1} - alpha_t * mean(x_{t-1}))      for t = 1..T (mean over the last axis)
        y   = gamma * x_T

    so weak dimensions become exact zeros while strong ones survive. It is differentiable almost
    everywhere (ReLUs and a mean: no sorting, top-k or straight-through estimator), costs O(T * d), and
    gradients reach `alpha`, `gamma` and every surviving input (directly and through the mean).

    On a `[batch, d]` input `alpha` has shape `[T]` and `gamma` `[d]`; on a `[batch, V, d]` input (one
    row per view) each view has its own: `alpha` `[T, V, 1]` and `gamma` `[V, d]`. The layer reports
    the fraction of exact zeros of its output as the metric `<name>_sparsity`, which Keras shows in
    the progress bar and TensorBoard.

    Args:
        iterations: number of inhibition steps `T` (0 keeps only `relu` and `gamma`).
        alpha_init: initial inhibition rate of every step (the official runs use 0.1 to 1.0).
        gamma_init: initial per-dimension output scale.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:

    >>> import numpy as np, ssr_keras
    >>> ics = ssr_keras.ICSLayer(iterations=5, alpha_init=0.5)
    >>> y = ics(np.random.default_rng(0).normal(size=(4, 8, 16)).astype("float32"))
    >>> y.shape, bool((y.numpy() == 0).mean() > 0.5)
    (TensorShape([4, 8, 16]), True)

    Reference: Yu et al., "Beyond Dense Connectivity: Explicit Sparsity for Scalable Recommendation",
    SIGIR 2026 (arXiv 2604.08011), Iterative Competitive Sparse.
    """

    def __init__(self, iterations: int = 5, alpha_init: float = 0.1, gamma_init: float = 1.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.iterations = check_non_negative_int("iterations", iterations)
        self.alpha_init = check_float("alpha_init", alpha_init)
        self.gamma_init = check_float("gamma_init", gamma_init)

    def build(self, input_shape: tf.TensorShape) -> None:
        input_shape = tf.TensorShape(input_shape)
        if input_shape.rank not in (2, 3) or any(d is None for d in input_shape[1:]):
            raise ValueError(
                "ICSLayer expects an input of shape [batch, d] or [batch, views, d] with known sizes. "
                f"Received: input_shape={input_shape}"
            )
        per_view = input_shape[1:-1].as_list()  # [] or [V]
        self.alpha = self.add_weight(
            name="alpha",
            shape=[self.iterations] + per_view + ([1] if per_view else []),
            initializer=keras.initializers.Constant(self.alpha_init),
        )
        self.gamma = self.add_weight(
            name="gamma", shape=input_shape[1:], initializer=keras.initializers.Constant(self.gamma_init)
        )
        super().build(input_shape)

    def call(self, inputs: tf.Tensor, report_sparsity: bool = True) -> tf.Tensor:
        """Sparsifies `inputs`; `report_sparsity=False` skips the `<name>_sparsity` metric (inference)."""
        # Variable values go in as tensors: their gradients flow back through the reads.
        alpha, gamma = (tf.cast(tf.convert_to_tensor(w), inputs.dtype) for w in (self.alpha, self.gamma))
        outputs = competitive_sparse(inputs, alpha, gamma)
        if report_sparsity:
            self.add_metric(tf.reduce_mean(tf.cast(tf.equal(outputs, 0), tf.float32)),
                            name=f"{self.name}_sparsity")
        return outputs

    def compute_output_shape(self, input_shape: tf.TensorShape) -> tf.TensorShape:
        return tf.TensorShape(input_shape)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update(
            {"iterations": self.iterations, "alpha_init": self.alpha_init, "gamma_init": self.gamma_init}
        )
        return config
