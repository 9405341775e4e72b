"""SemanticIdEmbedding: per-level lookups, fallback rows, padding, pooling, serialization."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from ssr_keras.embeddings.semantic_id import SemanticIdEmbedding

TABLE = np.array([[-1, -1, -1], [0, 1, 2], [3, 1, 0], [0, 0, 1]])  # id 0 = OOV (no SID)


def _layer(**kwargs):
    return SemanticIdEmbedding(TABLE, codebook_sizes=[4, 2, 3], embedding_dim=5, **kwargs)


def _numpy_embed(layer, ids):
    """NumPy reference: codes from the table (fallback row = size of the level), concatenated rows."""
    tables = [t.numpy() for t in layer.level_tables]
    out = []
    for i in np.asarray(ids).ravel():
        if i == -1:
            out.append(np.zeros(15))
            continue
        codes = TABLE[i] if 0 <= i < len(TABLE) else np.full(3, -1)
        codes = np.where(codes < 0, [4, 2, 3], codes)
        out.append(np.concatenate([tables[level][codes[level]] for level in range(3)]))
    return np.array(out).reshape(np.shape(ids) + (15,))


def test_matches_numpy_reference_with_fallbacks_and_padding():
    layer = _layer()
    ids = np.array([[1, 2, 0], [3, 99, -1], [-7, 2, -1]])
    np.testing.assert_allclose(layer(tf.constant(ids, tf.int64)).numpy(), _numpy_embed(layer, ids), rtol=1e-6)


def test_unknown_ids_use_the_oov_fallback_row_never_crash():
    layer = _layer()
    out = layer(tf.constant([0, 10**9, -5, 2**32 + 1], tf.int64)).numpy()
    np.testing.assert_array_equal(out[0], out[3])  # 2**32 + 1 must not wrap around to id 1
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[0], out[2])
    np.testing.assert_array_equal(layer.codes(tf.constant([0, 10**6])).numpy(), [[4, 2, 3], [4, 2, 3]])


def test_pooling_mean_and_sum_skip_padding():
    layer = _layer(pooling="mean")
    ids = np.array([[1, 3, -1], [-1, -1, -1]])
    out = layer(tf.constant(ids)).numpy()
    per_item = _numpy_embed(layer, ids)
    np.testing.assert_allclose(out[0], per_item[0, :2].mean(0), rtol=1e-6)
    np.testing.assert_array_equal(out[1], np.zeros(15))  # empty history -> zeros
    summed = SemanticIdEmbedding(TABLE, [4, 2, 3], 5, pooling="sum")
    summed(tf.constant(ids))
    summed.set_weights(layer.get_weights())
    np.testing.assert_allclose(summed(tf.constant(ids)).numpy()[0], per_item[0, :2].sum(0), rtol=1e-6)


def test_sid_table_is_a_non_trainable_weight():
    layer = _layer()
    layer(tf.constant([1]))
    assert [w.name.split("/")[-1].split(":")[0] for w in layer.non_trainable_weights] == ["sid_table"]
    assert len(layer.trainable_weights) == 3
    assert layer.compute_output_shape([None, 7]) == tf.TensorShape([None, 7, 15])


@pytest.mark.parametrize("kwargs,match", [
    ({"sid_table": np.array([[0, 9]]), "codebook_sizes": 4}, "level 1 codes"),
    ({"sid_table": np.zeros((2, 2)), "codebook_sizes": 4}, "integer array"),
    ({"sid_table": TABLE, "codebook_sizes": [4, 2]}, "one entry per level"),
    ({"sid_table": TABLE, "codebook_sizes": 4, "pooling": "max"}, "pooling='max'"),
    ({"sid_table": TABLE, "codebook_sizes": 4, "embedding_dim": 0}, "embedding_dim=0")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SemanticIdEmbedding(**kwargs)


def test_get_config_round_trip_and_registered_name():
    layer = _layer(pooling="mean")
    ids = tf.constant([[1, 2, -1]])
    layer(ids)
    clone = SemanticIdEmbedding.from_config(layer.get_config())
    clone(ids)
    clone.set_weights(layer.get_weights())
    assert clone.get_config() == layer.get_config()
    np.testing.assert_array_equal(clone(ids).numpy(), layer(ids).numpy())
    serialized = keras.layers.serialize(layer)
    assert serialized["registered_name"] == "ssr_keras>SemanticIdEmbedding"
    assert type(keras.layers.deserialize(serialized)) is SemanticIdEmbedding


@pytest.mark.parametrize("fmt", ["tf", "keras"])
def test_saved_model_round_trip_takes_raw_ids(fmt, tmp_path):
    inputs = keras.Input(shape=(3,), dtype=tf.int64)
    model = keras.Model(inputs, keras.layers.Dense(1)(_layer(pooling="mean")(inputs)))
    path = str(tmp_path / ("sm" if fmt == "tf" else "model.keras"))
    model.save(path, save_format=fmt if fmt == "tf" else None)
    restored = keras.models.load_model(path)
    ids = np.array([[1, 2, -1], [0, 77, 3]], np.int64)  # includes OOV and an unknown id
    np.testing.assert_array_equal(restored.predict(ids, verbose=0), model.predict(ids, verbose=0))
