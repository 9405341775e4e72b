import numpy as np
import pytest
import scipy.sparse as sp
import tensorflow as tf
import tf_keras as keras

from ssr_keras.data.interactions import InteractionSplits, read_edge_splits
from ssr_keras.models.retrieval.bpr_task import BPRTask
from ssr_keras.models.retrieval.bpr_training import bpr_dataset, evaluate_retrieval, train_bpr
from ssr_keras.models.retrieval.lightgcn import LightGCN
from ssr_keras.models.retrieval.matrix_factorization import MatrixFactorization


def test_bpr_task_matches_numpy():
    positive, negative = np.array([1.5, -0.2, 0.0]), np.array([0.5, 0.3, 4.0])
    expected = np.mean(-np.log(1 / (1 + np.exp(-(positive - negative)))))
    assert float(BPRTask()(tf.constant(positive), tf.constant(negative))) == pytest.approx(expected, rel=1e-6)


class _FixedScores:
    """A stand-in model whose embeddings give a known score matrix (users = identity rows)."""

    def __init__(self, scores):
        self.scores = np.asarray(scores, dtype=np.float32)

    def embeddings(self):
        return tf.eye(self.scores.shape[0]), tf.constant(self.scores.T)


def test_evaluation_against_a_hand_computed_example():
    # User 0: item 0 is masked (train); ranking 1, 3, 2 -> held-out {2, 3}: hits at ranks 2 and 3.
    # User 1: ranking 3, 2, 1, 0 -> held-out {0}: hit at rank 4. User 2 has nothing held out (skipped).
    scores = [[0.9, 0.8, 0.1, 0.5], [0.1, 0.2, 0.3, 0.4], [1.0, 0.0, 0.0, 0.0]]
    heldout = sp.csr_matrix(np.array([[0, 0, 1, 1], [1, 0, 0, 0], [0, 0, 0, 0]]))
    seen = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]))
    metrics = evaluate_retrieval(_FixedScores(scores), heldout, seen, ks=(2, 3), chunk=1)
    # recall@2: user 0 hits item 3 at rank 2 -> 1/2; user 1 -> 0. Mean 0.25.
    assert metrics["recall@2"] == pytest.approx(0.25)
    # ndcg@2: user 0 DCG = 1/log2(3), IDCG = 1 + 1/log2(3); user 1: 0.
    assert metrics["ndcg@2"] == pytest.approx(0.5 * (1 / np.log2(3)) / (1 + 1 / np.log2(3)))
    # recall@3: user 0 hits 3 and 2 -> 2/2; user 1: 0 -> mean 0.5.
    assert metrics["recall@3"] == pytest.approx(0.5)
    assert metrics["ndcg@3"] == pytest.approx(0.5 * (1 / np.log2(3) + 1 / np.log2(4)) / (1 + 1 / np.log2(3)))


def test_bpr_dataset_is_seeded_and_uniform():
    edges = np.array([[0, 1], [1, 2], [2, 0]] * 100)
    first = list(bpr_dataset(edges, 50, 64, seed=3).as_numpy_iterator())
    second = list(bpr_dataset(edges, 50, 64, seed=3).as_numpy_iterator())
    assert all(np.array_equal(a["negative"], b["negative"]) for a, b in zip(first, second))
    negatives = np.concatenate([b["negative"] for b in first])
    assert negatives.size == 300 and negatives.min() >= 0 and negatives.max() < 50
    assert np.unique(negatives).size > 30


@pytest.fixture(scope="module")
def beauty_sample(data_dir):
    """The first 3,000 users of the real Amazon Beauty split (ids renumbered densely)."""
    data = read_edge_splits(data_dir / "amazon-beauty")
    users = np.arange(3000)
    train, valid = data.train[users], data.valid[users]
    items = np.flatnonzero(np.asarray((train + valid).sum(axis=0)).ravel())
    train, valid = train[:, items], valid[:, items]
    return InteractionSplits.from_edges(np.stack(train.nonzero(), 1), np.stack(valid.nonzero(), 1),
                                        np.zeros((0, 2), np.int64), num_users=3000, num_items=items.size)


@pytest.mark.parametrize("model_class", [MatrixFactorization, LightGCN])
def test_training_on_real_beauty_rows_lowers_the_loss(beauty_sample, model_class):
    keras.utils.set_random_seed(0)
    if model_class is LightGCN:
        model = LightGCN(beauty_sample.train, num_layers=2, embedding_dim=16)
    else:
        model = MatrixFactorization(beauty_sample.num_users, beauty_sample.num_items, embedding_dim=16)
    history = train_bpr(model, beauty_sample, epochs=4, batch_size=1024, learning_rate=1e-2, eval_every=2,
                        patience=10, log=None)
    assert history["losses"][-1] < history["losses"][0]
    assert history["epochs"] == 4 and len(history["valid"]) == 2
    assert 0.0 <= history["best_valid"] <= 1.0


def test_model_and_data_must_match(beauty_sample):
    with pytest.raises(ValueError, match="does not match"):
        train_bpr(MatrixFactorization(5, 5), beauty_sample, epochs=1, log=None)
