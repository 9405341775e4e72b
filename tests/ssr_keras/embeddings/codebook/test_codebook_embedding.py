import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from ssr_keras.data.field_spec import FieldSpec
from ssr_keras.embeddings.codebook import CodebookAssignment, fit_baco
from ssr_keras.embeddings.codebook.codebook_embedding import CodebookEmbedding
from ssr_keras.models import FeatureEmbedding, RankingModel

CODE_MAP = [[-1, -1], [0, -1], [1, 0], [2, -1], [2, 1]]


def _layer(**kwargs):
    return CodebookEmbedding(CODE_MAP, num_codes=3, embedding_dim=4, embeddings_initializer="glorot_uniform",
                             **kwargs)


def _reference(layer, ids):
    """NumPy: each id's rows averaged; unknown ids the last (unseen) row; [B, L] mean over non-padding ids."""
    table = layer.codebook.numpy()
    code_map = np.array(CODE_MAP)

    def one(i):
        if i < 0 or i >= len(code_map) or code_map[i, 0] < 0:
            return table[-1]
        rows = [c for c in code_map[i] if c >= 0]
        return table[rows].mean(axis=0)

    ids = np.asarray(ids)
    if ids.ndim == 1:
        return np.stack([one(i) for i in ids])
    out = []
    for row in ids:
        kept = [one(i) for i in row if i != -1]
        out.append(np.mean(kept, axis=0) if kept else np.zeros(table.shape[1]))
    return np.stack(out)


def test_matches_numpy_reference_incl_unseen_ids_and_means():
    layer = _layer()
    ids = np.array([1, 2, 3, 4, 0, 5, 99, -7])
    out = layer(tf.constant(ids, tf.int64)).numpy()
    np.testing.assert_allclose(out, _reference(layer, ids), rtol=1e-6, atol=1e-7)
    table = layer.codebook.numpy()
    np.testing.assert_allclose(out[1], (table[1] + table[0]) / 2, rtol=1e-6)
    for unseen in out[4:]:
        np.testing.assert_allclose(unseen, table[3])


def test_multivalent_ids_are_mean_pooled():
    layer = _layer()
    ids = np.array([[1, 2, -1], [-1, -1, -1], [0, 4, 50]])
    np.testing.assert_allclose(layer(tf.constant(ids)).numpy(), _reference(layer, ids), rtol=1e-6, atol=1e-7)


def test_map_is_a_non_trainable_weight():
    layer = _layer()
    layer(tf.constant([1], tf.int64))
    assert [w.name.split("/")[-1] for w in layer.trainable_weights] == ["codebook:0"]
    assert [w.name.split("/")[-1] for w in layer.non_trainable_weights] == ["code_map:0"]
    assert layer.codebook.shape == (4, 4)


def test_config_round_trip_keeps_the_map():
    layer = _layer(embeddings_regularizer=keras.regularizers.L2(1e-4))
    layer(tf.constant([1], tf.int64))
    config = layer.get_config()
    clone = CodebookEmbedding.from_config(config)
    assert clone.get_config() == config
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(restored) is CodebookEmbedding
    restored(tf.constant([1], tf.int64))
    np.testing.assert_array_equal(restored.code_map.numpy(), np.array(CODE_MAP))


def test_saved_model_round_trip_identical_outputs(tmp_path):
    inputs = keras.Input(shape=(), dtype=tf.int64)
    model = keras.Model(inputs, keras.layers.Dense(2)(_layer()(inputs)))
    ids = np.array([0, 1, 2, 3, 4, 17, -3])
    expected = model.predict(ids, verbose=0)
    model.save(str(tmp_path / "saved"), save_format="tf")
    restored = keras.models.load_model(str(tmp_path / "saved"))
    np.testing.assert_array_equal(restored.predict(ids, verbose=0), expected)
    # The raw SavedModel (no Python class registered) serves the same numbers.
    loaded = tf.saved_model.load(str(tmp_path / "saved"))
    np.testing.assert_allclose(loaded(tf.constant(ids)).numpy(), expected, rtol=1e-6)


def test_from_assignment_follows_the_vocabulary_id_scheme():
    assignment = CodebookAssignment("baco", np.array([[1, 0], [0, -1]]), np.array([0, 0, 1]))
    users = CodebookEmbedding.from_assignment(assignment, "user", embedding_dim=3)
    items = CodebookEmbedding.from_assignment(assignment, "item", embedding_dim=3, id_offset=0)
    users(tf.constant([0], tf.int64))
    items(tf.constant([0], tf.int64))
    assert users.code_map.numpy().tolist() == [[-1, -1], [1, 0], [0, -1]]  # id 0 = OOV -> unseen row
    assert items.code_map.numpy().tolist() == [[0, -1], [0, -1], [1, -1]]
    assert users.codebook.shape == (3, 3) and items.codebook.shape == (3, 3)


@pytest.mark.parametrize("kwargs,match", [
    (dict(num_codes=0), "num_codes=0"),
    (dict(embedding_dim=-2), "embedding_dim=-2"),
    (dict(code_map=[[0, 5]]), r"codes in \[0, 5\]"),
    (dict(code_map=[[0.5, 1.0]]), "dtype float64"),
    (dict(code_map=[[-1, 0]]), "without a primary code"),
])
def test_bad_arguments(kwargs, match):
    arguments = dict(code_map=CODE_MAP, num_codes=3, embedding_dim=4)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        CodebookEmbedding(**arguments)


def test_ranking_model_with_codebook_embedders_trains(data_dir):
    rows = np.loadtxt(data_dir / "amazon-beauty" / "train.csv", delimiter=",", skiprows=1, dtype=np.int64,
                      max_rows=2000)
    num_users, num_items = int(rows[:, 0].max()) + 1, int(rows[:, 1].max()) + 1
    assignment = fit_baco(rows, num_users, num_items, budget=0.25, gamma=0.1308, seed=0)
    rng = np.random.default_rng(0)
    negatives = np.stack([rows[:, 0], rng.integers(0, num_items, len(rows))], axis=1)
    pairs = np.concatenate([rows, negatives]) + 1  # vocabulary ids: 0 is OOV
    labels = np.concatenate([np.ones(len(rows)), np.zeros(len(rows))]).astype(np.float32)
    model = RankingModel(
        [FieldSpec("user", num_users + 1), FieldSpec("item", num_items + 1)], backbone="dnn",
        backbone_config={"hidden_units": [16]},
        embedders={"user": CodebookEmbedding.from_assignment(assignment, "user", 8, name="user_codebook"),
                   "item": CodebookEmbedding.from_assignment(assignment, "item", 8, name="item_codebook")})
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    data = tf.data.Dataset.from_tensor_slices(({"user": pairs[:, 0], "item": pairs[:, 1]}, labels)) \
        .shuffle(len(labels), seed=0).batch(256)
    history = model.fit(data, epochs=2, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    codebook_rows = sum(w.shape[0] for w in model.trainable_weights if "codebook" in w.name)
    assert codebook_rows == assignment.num_rows + 2  # + the unseen row of each table


def test_feature_embedding_with_codebook_round_trips_through_its_config():
    front = FeatureEmbedding([FieldSpec("user", 5), FieldSpec("item", 7)], embedding_dim=4,
                             embedders={"user": _layer(name="user_codebook")})
    features = {"user": tf.constant([0, 2, 4], tf.int64), "item": tf.constant([1, 2, 3], tf.int64)}
    expected = front(features).numpy()
    clone = FeatureEmbedding.from_config(front.get_config())
    clone(features)
    clone.set_weights(front.get_weights())
    np.testing.assert_array_equal(clone(features).numpy(), expected)
    assert isinstance(clone.embedders["user"], CodebookEmbedding)
