"""The Compressed-ELSA evaluation protocol: user split, random 20% hold-outs (5 draws, seed 42), scoring."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from ssr_keras.analysis.retrieval_metrics import evaluate_holdout, evaluate_top_k
from ssr_keras.data.holdout import (
    histories_to_matrix,
    interaction_matrix,
    random_fraction_holdout,
    split_users,
)


@pytest.fixture
def users():
    rng = np.random.RandomState(0)
    return sp.csr_matrix(rng.binomial(1, 0.3, size=(40, 60)).astype(np.float32) + np.eye(40, 60) + np.eye(40, 60, 1))


def test_draws_reproduce_the_reference_sequence(users):
    inputs, targets = random_fraction_holdout(users, fraction=0.2, draws=5, seed=42)
    rng = np.random.RandomState(42)  # one generator, draw after draw, user after user, with replacement
    for draw in range(5):
        for user in range(users.shape[0]):
            items = users[user].indices
            expected = np.unique(rng.choice(items, math.ceil(0.2 * items.size)))
            assert targets[draw * 40 + user].indices.tolist() == expected.tolist()


def test_inputs_and_targets_partition_each_users_items(users):
    inputs, targets = random_fraction_holdout(users, draws=3, seed=7)
    assert inputs.shape == targets.shape == (120, 60)
    stacked = sp.vstack([users] * 3).toarray() > 0
    np.testing.assert_array_equal((inputs + targets).toarray() > 0, stacked)
    assert (inputs.multiply(targets)).nnz == 0
    counts = np.diff(sp.csr_matrix(users).indptr)
    sizes = np.diff(targets.indptr)
    assert np.all(sizes >= 1) and np.all(sizes <= np.ceil(0.2 * np.tile(counts, 3)))
    again = random_fraction_holdout(users, draws=3, seed=7)[1]
    assert (again != targets).nnz == 0


def test_without_replacement_every_draw_is_exactly_the_fraction(users):
    _, targets = random_fraction_holdout(users, draws=2, seed=1, replace=False)
    counts = np.tile(np.diff(users.indptr), 2)
    np.testing.assert_array_equal(np.diff(targets.indptr), np.ceil(0.2 * counts))


def test_evaluate_holdout_batches_like_one_ranking(users):
    inputs, targets = random_fraction_holdout(users, draws=2)
    weights = np.random.RandomState(3).normal(size=(60, 60))

    def score(x):
        return np.asarray(x @ weights)

    got = evaluate_holdout(score, inputs, targets, metrics=("recall@20", "ndcg@20", "recall@10"), batch_size=7)
    expected = evaluate_top_k(score(inputs), targets, ks=(10, 20), exclude=inputs)
    assert got == pytest.approx({k: expected[k] for k in got})


def test_split_users_is_disjoint_and_seeded():
    train, val, test = split_users(100, 10, 5, seed=42)
    assert len(test) == 10 and len(val) == 5 and len(train) == 85
    assert not set(train) & set(test) and not set(val) & set(test) and not set(train) & set(val)
    assert np.array_equal(test, split_users(100, 10, 5, seed=42)[2])


def test_bad_arguments():
    matrix = sp.csr_matrix(np.ones((3, 4)))
    with pytest.raises(ValueError, match="fraction=1.5"):
        random_fraction_holdout(matrix, fraction=1.5)
    with pytest.raises(ValueError, match="draws=0"):
        random_fraction_holdout(matrix, draws=0)
    with pytest.raises(ValueError, match="at least 2 items"):
        random_fraction_holdout(sp.csr_matrix(np.eye(3)))
    with pytest.raises(ValueError, match="scipy.sparse"):
        random_fraction_holdout(np.ones((3, 4)))
    with pytest.raises(ValueError, match="num_test_users"):
        split_users(10, 10)
    with pytest.raises(ValueError, match="items"):
        interaction_matrix([0], [9], 1, 4)
    with pytest.raises(ValueError, match="recall@20"):
        evaluate_holdout(lambda x: x.toarray(), matrix, matrix, metrics=("precision@5",))
    with pytest.raises(ValueError, match="empty"):
        histories_to_matrix([[]], 4)
