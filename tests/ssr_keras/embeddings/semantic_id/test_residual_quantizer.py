"""ResidualQuantizer (RQ-VAE): codes, losses, straight-through gradient, k-means init, serialization."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from ssr_keras.embeddings.semantic_id import ResidualQuantizer


def _data(n=256, dim=12, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(8, dim)) * 3
    return (centers[rng.integers(0, 8, n)] + rng.normal(size=(n, dim)) * 0.3).astype("float32")


def _quantizer(**kwargs):
    config = dict(input_dim=12, num_levels=3, codebook_size=8, codebook_dim=6, encoder_units=[32])
    config.update(kwargs)
    return ResidualQuantizer(**config)


def test_codes_in_range_and_shape():
    x = _data()
    rq = _quantizer()
    rq.initialize_codebooks(x)
    codes = rq.encode(x, batch_size=100)
    assert codes.shape == (256, 3) and codes.dtype == np.int64
    assert codes.min() >= 0 and codes.max() < 8


def test_quantize_matches_numpy_nearest_code_residuals():
    rq = _quantizer()
    z = np.random.default_rng(1).normal(size=(20, 6)).astype("float32")
    out = rq.quantize(tf.constant(z))
    books = rq.codebooks.numpy()
    residual, expected_codes, total = z.copy(), [], np.zeros_like(z)
    for level in range(3):
        distances = ((residual[:, None, :] - books[level][None]) ** 2).sum(-1)
        code = distances.argmin(-1)
        expected_codes.append(code)
        total += books[level][code]
        residual = residual - books[level][code]
    np.testing.assert_array_equal(out["codes"].numpy(), np.stack(expected_codes, 1))
    np.testing.assert_allclose(out["quantized"].numpy(), total, rtol=1e-5, atol=1e-5)


def test_reconstruction_loss_falls_while_training():
    tf.keras.utils.set_random_seed(0)
    x = _data()
    rq = _quantizer()
    rq.initialize_codebooks(x)
    rq.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = rq.fit(x, batch_size=64, epochs=15, verbose=0).history["reconstruction_loss"]
    assert history[-1] < 0.5 * history[0]


def test_straight_through_gradient_reaches_encoder():
    x = tf.constant(_data(32))
    rq = _quantizer()
    rq.initialize_codebooks(_data())
    # Only the reconstruction term: without the straight-through estimator argmin would block it.
    with tf.GradientTape() as tape:
        recon = tf.reduce_sum(tf.square(x - rq(x, training=True)))
    grads = tape.gradient(recon, rq.encoder.trainable_variables)
    assert all(g is not None for g in grads)
    assert all(float(tf.reduce_sum(tf.abs(g))) > 0 for g in grads)
    # The decoder input's gradient equals the encoder output's gradient (identity through the quantizer).
    z = tf.Variable(rq.encoder(x))
    with tf.GradientTape(persistent=True) as tape:
        quantized = rq.quantize(z)["quantized"]
        z_st = z + tf.stop_gradient(quantized - z)
        decoded = rq.decoder(z_st)
        loss = tf.reduce_sum(tf.square(x - decoded))
    np.testing.assert_allclose(tape.gradient(loss, z).numpy(), tape.gradient(loss, z_st).numpy(), rtol=1e-6)


def test_codebook_gradient_comes_from_codebook_loss_only():
    x = tf.constant(_data(32))
    rq = _quantizer()
    with tf.GradientTape() as tape:
        losses = rq.compute_losses(x)
    grad = tape.gradient(losses["codebook_loss"], rq.codebooks)
    assert grad is not None and float(tf.reduce_sum(tf.abs(tf.convert_to_tensor(grad)))) > 0
    with tf.GradientTape() as tape:
        losses = rq.compute_losses(x)
    assert tape.gradient(losses["commitment_loss"], rq.codebooks) is None


def test_kmeans_init_uses_the_data():
    x = _data()
    rq = _quantizer(num_levels=2)
    before = rq.codebooks.numpy().copy()
    rq.initialize_codebooks(x, seed=0)
    after = rq.codebooks.numpy()
    assert not np.allclose(before, after)
    z = rq.encoder(x).numpy()
    # Level 0 centres lie inside the encoder outputs' range, each near some encoded item.
    nearest = ((after[0][:, None, :] - z[None]) ** 2).sum(-1).min(-1)
    spread = ((z - z.mean(0)) ** 2).sum(-1).mean()
    assert nearest.max() < spread
    np.testing.assert_allclose(after[0].mean(0), z.mean(0), atol=0.5 * np.sqrt(spread))
    # Different data -> different codebooks (the init is data-driven, not fixed).
    other = _quantizer(num_levels=2)
    other.set_weights(rq.get_weights())
    other.initialize_codebooks(_data(seed=5) + 10.0, seed=0)
    assert not np.allclose(other.codebooks.numpy()[0], after[0])


def test_kmeans_init_needs_enough_rows():
    with pytest.raises(ValueError, match="codebook_size=8"):
        _quantizer().initialize_codebooks(_data(5))


@pytest.mark.parametrize("kwargs,match", [
    ({"num_levels": 0}, "num_levels=0"), ({"codebook_size": -1}, "codebook_size=-1"),
    ({"encoder_units": [0]}, "encoder_units"), ({"commitment_weight": -0.1}, "commitment_weight=-0.1")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _quantizer(**kwargs)


def test_encode_rejects_wrong_width():
    with pytest.raises(ValueError, match=r"shape \[n, 12\]"):
        _quantizer().encode(np.zeros((3, 5), "float32"))


def test_config_and_saved_model_round_trip(tmp_path):
    x = _data(64)
    rq = _quantizer()
    rq.initialize_codebooks(_data())
    rq(x)
    clone = ResidualQuantizer.from_config(rq.get_config())
    clone(x)
    clone.set_weights(rq.get_weights())
    np.testing.assert_array_equal(clone.encode(x), rq.encode(x))
    assert keras.saving.get_registered_name(ResidualQuantizer) == "ssr_keras>ResidualQuantizer"
    rq.save(str(tmp_path / "rq"), save_format="tf")
    restored = keras.models.load_model(str(tmp_path / "rq"))
    np.testing.assert_allclose(restored(x).numpy(), rq(x).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(restored.encode(x), rq.encode(x))
