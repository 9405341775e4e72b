import numpy as np
import tensorflow as tf

from ssr_keras.layers import ViewLayerNorm


def _autodiff_layer_norm(x, gamma, beta, epsilon):
    mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
    return (x - mean) * tf.math.rsqrt(variance + epsilon) * gamma + beta


def test_outputs_and_written_out_gradient_equal_autodiff():
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(1.0, 2.0, size=(8, 3, 10)).astype("float32"))
    layer = ViewLayerNorm(epsilon=1e-3)
    layer.build(x.shape)
    layer.set_weights([rng.uniform(0.5, 2, size=(3, 10)).astype("float32"),
                       rng.normal(size=(3, 10)).astype("float32")])
    upstream = tf.constant(rng.normal(size=(8, 3, 10)).astype("float32"))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        ours = layer(x)
        gamma, beta = tf.identity(layer.gamma), tf.identity(layer.beta)
        expected = _autodiff_layer_norm(x, gamma, beta, 1e-3)
        ours_loss, expected_loss = tf.reduce_sum(ours * upstream), tf.reduce_sum(expected * upstream)
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    for got, want in zip(tape.gradient(ours_loss, [x, layer.gamma, layer.beta]),
                         tape.gradient(expected_loss, [x, gamma, beta])):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-5)


def test_batch_last_equals_batch_major_with_the_same_gradients():
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(1.0, 2.0, size=(5, 3, 8)).astype("float32"))
    layer = ViewLayerNorm()
    layer.build(x.shape)
    layer.set_weights([rng.uniform(0.5, 2, size=(3, 8)).astype("float32"), rng.normal(size=(3, 8)).astype("float32")])
    upstream = tf.constant(rng.normal(size=(5, 3, 8)).astype("float32"))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        batch_major = layer(x)
        batch_last = tf.transpose(layer(tf.transpose(x, [1, 2, 0]), batch_last=True), [2, 0, 1])
        losses = [tf.reduce_sum(y * upstream) for y in (batch_major, batch_last)]
    np.testing.assert_allclose(batch_last.numpy(), batch_major.numpy(), rtol=1e-5, atol=1e-5)
    for got, want in zip(*(tape.gradient(loss, [x, layer.gamma, layer.beta]) for loss in losses[::-1])):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
