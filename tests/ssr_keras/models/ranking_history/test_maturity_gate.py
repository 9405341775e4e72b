"""MaturityGate: range, NumPy reference, gradient stop, arguments, serialization."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from ssr_keras.models.ranking_history import MaturityGate


def test_output_in_open_unit_interval():
    rng = np.random.default_rng(0)
    gate = MaturityGate(hidden_units=[16, 8])
    w = gate([tf.constant(rng.normal(size=(64, 6)), tf.float32), tf.constant(rng.normal(size=(64, 4)) * 3,
                                                                               tf.float32)]).numpy()
    assert w.shape == (64, 1) and (w > 0).all() and (w < 1).all()


def test_matches_numpy_mlp():
    rng = np.random.default_rng(1)
    emb, mat = rng.normal(size=(5, 3)).astype("float32"), rng.normal(size=(5, 2)).astype("float32")
    gate = MaturityGate(hidden_units=[4])
    out = gate([emb, mat]).numpy()
    (k1, b1), (k2, b2) = [(layer.kernel.numpy(), layer.bias.numpy()) for layer in gate.hidden + [gate.output_layer]]
    x = np.maximum(np.concatenate([emb, mat], 1) @ k1 + b1, 0)
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-(x @ k2 + b2))), rtol=1e-5)


def test_stop_embedding_gradient():
    emb = tf.Variable(tf.ones([2, 3]))
    for stop, expect_none in ((True, True), (False, False)):
        gate = MaturityGate(hidden_units=[4], stop_embedding_gradient=stop)
        with tf.GradientTape() as tape:
            w = gate([emb, tf.ones([2, 2])])
        assert (tape.gradient(w, emb) is None) == expect_none


def test_bad_arguments():
    with pytest.raises(ValueError, match="hidden_units"):
        MaturityGate(hidden_units=[0])
    with pytest.raises(ValueError, match=r"\[item_embedding, maturity\]"):
        MaturityGate()(tf.ones([2, 3]))


def test_config_and_saved_model_round_trip(tmp_path):
    gate = MaturityGate(hidden_units=[4], bias_initializer="ones", name="g")
    clone = MaturityGate.from_config(gate.get_config())
    assert clone.get_config() == gate.get_config()
    emb, mat = keras.Input((3,)), keras.Input((2,))
    model = keras.Model([emb, mat], gate([emb, mat]))
    model.save(str(tmp_path / "sm"), save_format="tf")
    restored = keras.models.load_model(str(tmp_path / "sm"))
    x = [np.random.default_rng(2).normal(size=(4, 3)), np.random.default_rng(3).normal(size=(4, 2))]
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
