import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from ssr_keras.data import FieldSpec
from ssr_keras.models.ranking import FeatureEmbedding


def test_concatenates_fields_in_order():
    front = FeatureEmbedding([FieldSpec("a", 4), FieldSpec("b", 6, max_len=2)], embedding_dim=5)
    out = front({"a": tf.constant([0, 3], tf.int64), "b": tf.constant([[1, -1], [2, 5]], tf.int64)})
    assert out.shape == (2, 10)
    np.testing.assert_allclose(out[:, :5], front.embedders["a"](tf.constant([0, 3], tf.int64)))


def test_custom_embedder_replaces_one_field():
    class HashedEmbedding(keras.layers.Layer):
        """A toy-free stand-in: ids folded into 3 buckets, 7 wide (a different width on purpose)."""

        def build(self, input_shape):
            self.table = self.add_weight("table", shape=(3, 7))

        def call(self, ids):
            return tf.gather(self.table, tf.math.floormod(ids, 3))

    custom = HashedEmbedding()
    front = FeatureEmbedding([FieldSpec("a", 4), FieldSpec("b", 6)], embedding_dim=5,
                             embedders={"b": custom})
    out = front({"a": tf.constant([1], tf.int64), "b": tf.constant([4], tf.int64)})
    assert front.embedders["b"] is custom
    assert out.shape == (1, 12)
    assert {id(w) for w in front.embedding_weights()} >= {id(custom.table)}


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"unknown fields \['c'\]"):
        FeatureEmbedding([FieldSpec("a", 4)], embedders={"c": keras.layers.Dense(1)})
    with pytest.raises(ValueError, match=r"duplicate field names \['a'\]"):
        FeatureEmbedding([FieldSpec("a", 4), FieldSpec("a", 3)])
    front = FeatureEmbedding([FieldSpec("a", 4), FieldSpec("b", 4)])
    with pytest.raises(KeyError, match=r"\['b'\] are missing"):
        front({"a": tf.constant([1], tf.int64)})


def test_batch_normalization_option():
    front = FeatureEmbedding([FieldSpec("a", 4)], embedding_dim=3, normalization="batch")
    front({"a": tf.constant([1, 2], tf.int64)}, training=True)
    assert any("embedding_batch_norm" in w.name for w in front.weights)
    with pytest.raises(ValueError, match="normalization must be"):
        FeatureEmbedding([FieldSpec("a", 4)], normalization="group")


@keras.saving.register_keras_serializable(package="ssr_keras_tests")
class FoldedEmbedding(keras.layers.Layer):
    """A registered custom embedder: ids folded into `buckets` rows."""

    def __init__(self, buckets: int = 3, width: int = 7, **kwargs):
        super().__init__(**kwargs)
        self.buckets, self.width = buckets, width

    def build(self, input_shape):
        self.table = self.add_weight("table", shape=(self.buckets, self.width))

    def call(self, ids):
        return tf.gather(self.table, tf.math.floormod(ids, self.buckets))

    def get_config(self):
        return {**super().get_config(), "buckets": self.buckets, "width": self.width}


@keras.saving.register_keras_serializable(package="ssr_keras_tests")
class AgeScaledEmbedding(keras.layers.Layer):
    """A custom embedder with a side input: its rows scaled by the `age` feature."""

    side_inputs = ("age",)

    def build(self, input_shape):
        self.table = self.add_weight("table", shape=(5, 2))

    def call(self, ids, side_inputs):
        return tf.gather(self.table, ids) * side_inputs["age"][:, None]


def test_custom_embedders_round_trip_by_config():
    front = FeatureEmbedding([FieldSpec("a", 4), FieldSpec("b")], embedding_dim=5,
                             embedders={"b": FoldedEmbedding(buckets=2, width=3, name="b_folded")})
    features = {"a": tf.constant([1, 2], tf.int64), "b": tf.constant([4, 5], tf.int64)}
    expected = front(features).numpy()
    clone = FeatureEmbedding.from_config(front.get_config())
    clone(features)
    clone.set_weights(front.get_weights())
    assert isinstance(clone.embedders["b"], FoldedEmbedding) and clone.embedders["b"].buckets == 2
    np.testing.assert_allclose(clone(features).numpy(), expected)


def test_embedder_side_inputs_come_from_the_features():
    front = FeatureEmbedding([FieldSpec("a", 4), FieldSpec("item")], embedding_dim=2,
                             embedders={"item": AgeScaledEmbedding()})
    ids = tf.constant([1, 3], tf.int64)
    out = front({"a": ids, "item": ids, "age": tf.constant([0.0, 2.0])}).numpy()
    table = front.embedders["item"].table.numpy()
    np.testing.assert_allclose(out[:, 2:], [[0.0, 0.0], table[3] * 2.0])
    with pytest.raises(KeyError, match=r"side inputs \['age'\] are missing"):
        front({"a": ids, "item": ids})


def test_a_field_without_id_range_needs_a_custom_embedder():
    with pytest.raises(ValueError, match=r"fields \['b'\] have no vocab_size"):
        FeatureEmbedding([FieldSpec("a", 4), FieldSpec("b")])
