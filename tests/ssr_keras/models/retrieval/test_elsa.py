"""ELSA: NumPy reference of the scores, sampled outputs, the loss falling on real MovieLens data, bad input."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import tensorflow as tf
import tf_keras as keras

from ssr_keras.data.holdout import histories_to_matrix, interaction_matrix
from ssr_keras.embeddings.topk_sparse import row_normalize
from ssr_keras.models.retrieval.elsa import ELSA, InteractionBatches, elsa_scores, nmse


@pytest.fixture(scope="module")
def movielens(data_dir):
    """The first 800 users of MovieLens-1M as a binary user x movie matrix."""
    frame = pd.read_csv(data_dir / "movielens-1m" / "positives.csv.gz", usecols=["user_id", "movie_id"])
    frame = frame[frame.user_id <= 800]
    users = frame.user_id.astype("category").cat.codes.to_numpy()
    items = frame.movie_id.astype("category").cat.codes.to_numpy()
    return interaction_matrix(users, items, users.max() + 1, items.max() + 1)


def numpy_elsa(x: np.ndarray, table: np.ndarray, k: int) -> np.ndarray:
    if k:
        keep = np.argsort(-np.abs(table), axis=1, kind="stable")[:, :k]
        masked = np.zeros_like(table)
        np.put_along_axis(masked, keep, np.take_along_axis(table, keep, axis=1), axis=1)
        table = masked
    a = row_normalize(table)
    return np.maximum(x @ a @ a.T - x, 0.0)


@pytest.mark.parametrize("k", [0, 3])
def test_scores_match_numpy(k):
    model = ELSA(num_items=15, factors=8, k=k)
    x = np.random.RandomState(0).binomial(1, 0.3, size=(5, 15)).astype(np.float32)
    expected = numpy_elsa(x, model.items.embeddings.numpy(), k)
    np.testing.assert_allclose(model(tf.constant(x)).numpy(), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.score(sp.csr_matrix(x)), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(elsa_scores(x, model.item_matrix()), expected, rtol=1e-4, atol=1e-5)


def test_nmse_is_the_mse_of_normalised_rows():
    y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], np.float32)
    p = np.array([[0.5, 0.2, 0.1], [0.3, 0.0, 0.4]], np.float32)
    expected = np.mean((row_normalize(p) - row_normalize(y)) ** 2)
    assert float(nmse(y, p)) == pytest.approx(expected, rel=1e-5)


def test_sampled_outputs_are_the_batch_items_then_other_items():
    tf.random.set_seed(0)
    model = ELSA(num_items=50, factors=4, max_output=20)
    x = np.zeros((3, 50), np.float32)
    x[0, [1, 7]] = 1
    x[2, [7, 30, 44]] = 1
    batch_items, outputs = model._sampled_outputs(tf.constant(x))
    assert batch_items.numpy().tolist() == [1, 7, 30, 44]
    assert outputs.numpy()[:4].tolist() == [1, 7, 30, 44] and len(outputs) == 20
    assert not set(outputs.numpy()[4:]) & {1, 7, 30, 44}
    x[:, :] = 1  # every item in the batch: at least one (duplicate-free) output, no negatives
    _, outputs = model._sampled_outputs(tf.constant(x))
    assert len(outputs) == 50


@pytest.mark.parametrize("max_output, k", [(None, 0), (400, 0), (400, 16)])
def test_loss_falls_on_movielens(movielens, max_output, k):
    keras.utils.set_random_seed(1)
    model = ELSA(num_items=movielens.shape[1], factors=64, k=k, max_output=max_output)
    model.compile(optimizer=keras.optimizers.Nadam(0.1))
    history = model.fit(InteractionBatches(movielens, batch_size=200, seed=0), epochs=4, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.9 * losses[0]
    if k:
        assert np.all(np.diff(model.items.to_csr().indptr) == k)


def test_recommendations_beat_popularity_after_training(movielens):
    keras.utils.set_random_seed(2)
    train, test = movielens[:700], movielens[700:]
    model = ELSA(num_items=movielens.shape[1], factors=64)
    model.compile(optimizer=keras.optimizers.Nadam(0.1))
    model.fit(InteractionBatches(train, batch_size=100, seed=0), epochs=4, verbose=0)
    # Leave-one-out on the test users' last listed item: ELSA ranks it above the popularity baseline.
    held = np.array([row.indices[-1] for row in test])
    inputs = test.tolil()
    inputs[np.arange(test.shape[0]), held] = 0
    inputs = inputs.tocsr()
    inputs.eliminate_zeros()
    scores = model.score(inputs)
    scores[inputs.nonzero()] = -np.inf
    popularity = np.tile(np.asarray(train.sum(axis=0)).ravel(), (test.shape[0], 1)).astype(float)
    popularity[inputs.nonzero()] = -np.inf

    def hit_rate(s):
        return np.mean([h in np.argsort(-row)[:50] for row, h in zip(s, held)])

    assert hit_rate(scores) > hit_rate(popularity)


def test_config_round_trip_and_savedmodel(tmp_path):
    model = ELSA(num_items=12, factors=6, k=2, max_output=8, name="elsa")
    restored = ELSA.from_config(model.get_config())
    assert restored.get_config() == model.get_config()
    x = np.random.RandomState(3).binomial(1, 0.4, size=(4, 12)).astype(np.float32)
    expected = model(tf.constant(x)).numpy()
    model.save(tmp_path / "elsa", save_format="tf")
    loaded = keras.models.load_model(tmp_path / "elsa")
    np.testing.assert_allclose(loaded(tf.constant(x)).numpy(), expected, rtol=1e-6)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="max_output=0"):
        ELSA(num_items=5, factors=4, max_output=0)
    with pytest.raises(ValueError, match="k=9"):
        ELSA(num_items=5, factors=4, k=9)
    with pytest.raises(ValueError, match="k=-1"):
        ELSA(num_items=5, factors=4, k=-1)
    with pytest.raises(ValueError, match="empty histories"):
        histories_to_matrix([[1, 2], []], num_items=5)
    with pytest.raises(ValueError, match="unknown item ids \\[7\\]"):
        histories_to_matrix([[1, 7]], num_items=5)
    with pytest.raises(ValueError, match="unknown item ids \\[-1\\]"):
        histories_to_matrix([[-1]], num_items=5)
    with pytest.raises(ValueError, match="histories=\\[\\]"):
        histories_to_matrix([], num_items=5)
    model = ELSA(num_items=5, factors=4)
    with pytest.raises(ValueError, match="num_items=5"):
        model.score(np.zeros((1, 6)))
    assert histories_to_matrix([[0, 4, 4]], num_items=5).toarray().tolist() == [[1, 0, 0, 0, 1]]
