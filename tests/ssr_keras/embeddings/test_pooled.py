"""`PooledEmbedding`: lookups, mean pooling over non-padding ids, serialization."""

import numpy as np
import tensorflow as tf
import tf_keras as keras

from ssr_keras.embeddings import PooledEmbedding


def test_multivalent_mean_pools_over_non_padding_ids():
    layer = PooledEmbedding(vocab_size=5, embedding_dim=3)
    layer.build(None)
    ids = tf.constant([[1, 2, -1], [-1, -1, -1], [4, -1, -1]], tf.int64)
    out = layer(ids).numpy()
    table = layer.embedding.embeddings.numpy()
    np.testing.assert_allclose(out[0], (table[1] + table[2]) / 2, rtol=1e-6)
    np.testing.assert_allclose(out[1], np.zeros(3))
    np.testing.assert_allclose(out[2], table[4], rtol=1e-6)


def test_config_round_trip_and_saved_model_keep_outputs(tmp_path):
    layer = PooledEmbedding(vocab_size=7, embedding_dim=3, name="genres_embedding")
    ids = tf.constant([[1, 6, -1], [2, -1, -1]], tf.int64)
    expected = layer(ids).numpy()
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    clone(ids)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(ids).numpy(), expected)
    model = keras.Sequential([keras.Input(shape=(3,), dtype=tf.int64), layer])
    model.save(tmp_path / "model")
    restored = keras.models.load_model(tmp_path / "model")
    np.testing.assert_allclose(restored(ids).numpy(), expected, rtol=1e-6)
