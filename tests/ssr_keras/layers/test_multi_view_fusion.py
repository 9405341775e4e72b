import numpy as np
import pytest
import tensorflow as tf

from ssr_keras import MultiViewFusion, ViewProjection
from ssr_keras.layers import ViewLayerNorm


def _random(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _layer_norm(x, eps=1e-6):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)


def test_each_view_uses_its_own_weights():
    layer = MultiViewFusion(units=5, activation="relu", use_layer_norm=False)
    h = _random((6, 3, 4))
    out = layer(h).numpy()
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    for v in range(3):
        np.testing.assert_allclose(out[:, v], np.maximum(h[:, v] @ kernel[v] + bias[v], 0), rtol=1e-5, atol=1e-5)


def test_residual_then_per_view_layer_norm():
    layer = MultiViewFusion(units=4, activation="linear", residual=True)
    h = _random((5, 2, 4), seed=1)
    out = layer(h).numpy()
    ln = layer.layer_norm
    ln.set_weights([_random((2, 4), seed=2), _random((2, 4), seed=3)])
    out = layer(h).numpy()
    fused = np.einsum("bvd,vdu->bvu", h, layer.kernel.numpy()) + layer.bias.numpy() + h
    expected = _layer_norm(fused) * ln.gamma.numpy() + ln.beta.numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_gradients_stay_inside_a_view():
    layer = MultiViewFusion(units=3, use_layer_norm=False)
    h = tf.constant(_random((2, 4, 3)))
    with tf.GradientTape() as tape:
        tape.watch(h)
        view_0 = layer(h)[:, 0]
    grad = tape.gradient(view_0, h).numpy()
    assert np.abs(grad[:, 0]).sum() > 0
    np.testing.assert_array_equal(grad[:, 1:], 0)  # no connection between views


def test_parameter_count_is_views_times_square():
    layer = MultiViewFusion(units=16, use_layer_norm=False)
    layer.build((None, 8, 16))
    assert layer.count_params() == 8 * 16 * 16 + 8 * 16  # vs (8*16)^2 for a dense layer


def test_view_projection_blocks_are_per_view_matrices():
    layer = ViewProjection(num_views=3, units=2)
    x = _random((4, 5))
    out = layer(x).numpy()
    kernel = layer.kernel.numpy().reshape(5, 3, 2)
    for v in range(3):
        np.testing.assert_allclose(out[:, v], x @ kernel[:, v], rtol=1e-5, atol=1e-6)


def test_view_layer_norm_normalises_each_view():
    out = ViewLayerNorm()(_random((3, 4, 16)) * 10 + 5).numpy()
    np.testing.assert_allclose(out.mean(-1), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(-1), 1, atol=1e-3)


@pytest.mark.parametrize("kwargs,name", [
    ({"units": 0}, "units"),
    ({"units": 4, "dropout": 1.0}, "dropout"),
    ({"units": 4, "dropout": -0.1}, "dropout"),
    ({"units": 4, "activation": "no_such_activation"}, "no_such_activation"),
])
def test_invalid_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        MultiViewFusion(**kwargs)


def test_residual_width_mismatch_names_units():
    with pytest.raises(ValueError, match=r"units=4 with input width 3"):
        MultiViewFusion(units=4, residual=True)(np.zeros((1, 2, 3), "float32"))


@pytest.mark.parametrize("kwargs,name", [({"num_views": 0, "units": 2}, "num_views"),
                                         ({"num_views": 2, "units": -1}, "units")])
def test_view_projection_invalid_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ViewProjection(**kwargs)


def test_view_layer_norm_invalid_epsilon():
    with pytest.raises(ValueError, match="epsilon"):
        ViewLayerNorm(epsilon="small")


@pytest.mark.parametrize("residual, use_layer_norm", [(True, True), (False, False)])
def test_batch_last_is_the_transposed_call(residual, use_layer_norm):
    x = _random((4, 3, 8), seed=2)
    fusion = MultiViewFusion(units=8, residual=residual, use_layer_norm=use_layer_norm)
    batch_major = fusion(x).numpy()
    batch_last = fusion(np.transpose(x, [1, 2, 0]), batch_last=True).numpy()
    np.testing.assert_allclose(np.transpose(batch_last, [2, 0, 1]), batch_major, rtol=1e-5, atol=1e-5)
