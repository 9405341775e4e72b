import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from ssr_keras import ICSLayer


def ics_reference(z, alpha, gamma):
    """The equations, in NumPy: x=relu(z); T times x=relu(x - alpha_t*mean(x)); y=gamma*x."""
    x = np.maximum(z, 0.0)
    for alpha_t in alpha:
        x = np.maximum(x - alpha_t * x.mean(axis=-1, keepdims=True), 0.0)
    return gamma * x


def _random(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def test_matches_numpy_reference_2d_with_distinct_alphas():
    layer = ICSLayer(iterations=4, alpha_init=0.3, gamma_init=1.0)
    z = _random((16, 32))
    layer.build(z.shape)
    alpha = np.array([0.2, 0.7, 1.1, 0.4], "float32")
    gamma = np.linspace(0.5, 2.0, 32).astype("float32")
    layer.set_weights([alpha, gamma])
    np.testing.assert_allclose(layer(z).numpy(), ics_reference(z, alpha, gamma), rtol=1e-5, atol=1e-6)


def test_matches_numpy_reference_3d_per_view_parameters():
    layer = ICSLayer(iterations=3)
    z = _random((8, 4, 10), seed=1)
    layer.build(z.shape)
    alpha = np.random.default_rng(2).uniform(0, 1.5, size=(3, 4, 1)).astype("float32")
    gamma = np.random.default_rng(3).uniform(0.5, 2, size=(4, 10)).astype("float32")
    layer.set_weights([alpha, gamma])
    expected = np.stack([ics_reference(z[:, v], alpha[:, v, 0], gamma[v]) for v in range(4)], axis=1)
    np.testing.assert_allclose(layer(z).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_parameter_shapes():
    flat, views = ICSLayer(iterations=5), ICSLayer(iterations=5)
    flat.build((None, 12))
    views.build((None, 3, 12))
    assert flat.alpha.shape == (5,) and flat.gamma.shape == (12,)
    assert views.alpha.shape == (5, 3, 1) and views.gamma.shape == (3, 12)


def test_zero_iterations_is_scaled_relu():
    z = _random((4, 6))
    np.testing.assert_allclose(ICSLayer(iterations=0, gamma_init=2.0)(z).numpy(), 2.0 * np.maximum(z, 0))


def test_exact_zeros_and_sparsity_rises_with_alpha_and_iterations():
    z = _random((256, 128), seed=4)

    def zero_fraction(iterations, alpha):
        return float((ICSLayer(iterations=iterations, alpha_init=alpha)(z).numpy() == 0.0).mean())

    by_alpha = [zero_fraction(5, a) for a in (0.0, 0.1, 0.5, 1.0)]
    by_iterations = [zero_fraction(t, 0.5) for t in (0, 1, 3, 5)]
    assert by_alpha == sorted(by_alpha) and by_alpha[-1] > by_alpha[0] + 0.2
    assert by_iterations == sorted(by_iterations) and by_iterations[-1] > by_iterations[0] + 0.15
    assert 0.45 < by_alpha[0] < 0.55  # alpha=0 leaves only the ReLU's half


def test_gradients_reach_alpha_gamma_and_surviving_inputs():
    layer = ICSLayer(iterations=3, alpha_init=0.5)
    z = tf.constant(_random((8, 4, 16), seed=5))
    with tf.GradientTape() as tape:
        tape.watch(z)
        y = layer(z)
        loss = tf.reduce_sum(tf.square(y))
    grad_z, grad_alpha, grad_gamma = tape.gradient(loss, [z, layer.alpha, layer.gamma])
    assert np.all(np.abs(grad_alpha.numpy()) > 0)
    assert np.abs(grad_gamma.numpy()).sum() > 0
    survivors = y.numpy() > 0
    assert np.all(grad_z.numpy()[survivors] != 0)
    # Inputs cut by the first ReLU get no gradient.
    np.testing.assert_array_equal(grad_z.numpy()[z.numpy() <= 0], 0)


def test_reports_sparsity_metric_in_a_model():
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(ICSLayer(iterations=5, alpha_init=1.0, name="ics")(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(_random((64, 32)), np.zeros((64, 1), "float32"), epochs=1, verbose=0)
    sparsity = history.history["ics_sparsity"][0]
    assert 0.5 < sparsity < 1.0


@pytest.mark.parametrize("kwargs,name", [
    ({"iterations": -1}, "iterations"),
    ({"iterations": 2.0}, "iterations"),
    ({"alpha_init": "x"}, "alpha_init"),
    ({"alpha_init": float("nan")}, "alpha_init"),
    ({"gamma_init": None}, "gamma_init"),
])
def test_invalid_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ICSLayer(**kwargs)


def test_rejects_4d_input():
    with pytest.raises(ValueError, match="input_shape"):
        ICSLayer()(np.zeros((1, 2, 3, 4), "float32"))


def _autodiff_ics(z, alpha, gamma):
    x = tf.nn.relu(z)
    for t in range(alpha.shape[0]):
        x = tf.nn.relu(x - alpha[t] * tf.reduce_mean(x, axis=-1, keepdims=True))
    return gamma * x


@pytest.mark.parametrize("shape,alpha_shape", [((16, 12), (4,)), ((8, 3, 10), (3, 3, 1)), ((4, 6), (0,))])
def test_written_out_gradient_equals_autodiff(shape, alpha_shape):
    """The layer's hand-written gradient (inputs, alpha, gamma) matches autodiff of the plain equations."""
    layer = ICSLayer(iterations=alpha_shape[0])
    z = tf.constant(_random(shape, seed=6))
    layer.build(z.shape)
    rng = np.random.default_rng(7)
    layer.set_weights([rng.uniform(-0.3, 1.2, size=alpha_shape).astype("float32"),
                       rng.uniform(0.5, 2.0, size=shape[1:]).astype("float32")])
    upstream = tf.constant(_random(shape, seed=8))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(z)
        ours = tf.reduce_sum(layer(z) * upstream)
        alpha, gamma = tf.identity(layer.alpha), tf.identity(layer.gamma)
        expected = tf.reduce_sum(_autodiff_ics(z, alpha, gamma) * upstream)
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), rtol=1e-6)
    for got, want in zip(tape.gradient(ours, [z, layer.alpha, layer.gamma]),
                         tape.gradient(expected, [z, alpha, gamma])):
        want = np.zeros(got.shape, "float32") if want is None else want.numpy()  # alpha unused when T = 0
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)


def test_report_sparsity_false_adds_no_metric():
    layer = ICSLayer(iterations=2)
    layer(_random((4, 8)), report_sparsity=False)
    assert not layer.metrics
    layer(_random((4, 8)))
    assert [m.name for m in layer.metrics] == [f"{layer.name}_sparsity"]
