import numpy as np
import pytest

from ssr_keras.data.interactions import InteractionSplits, read_edge_splits, read_movielens_positives


def test_from_edges_dedupes_and_counts():
    data = InteractionSplits.from_edges(np.array([[0, 1], [0, 1], [2, 0]]), np.array([[1, 1]]),
                                        np.zeros((0, 2), int))
    assert (data.num_users, data.num_items, data.num_train) == (3, 2, 2)
    assert data.train_edges.tolist() == [[0, 1], [2, 0]]
    assert data.test.nnz == 0


def test_bad_edges():
    with pytest.raises(ValueError, match="min id -1"):
        InteractionSplits.from_edges(np.array([[0, -1]]), np.array([[0, 0]]), np.array([[0, 0]]))
    with pytest.raises(ValueError, match="num_users=1"):
        InteractionSplits.from_edges(np.array([[3, 0]]), np.array([[0, 0]]), np.array([[0, 0]]), num_users=1)


def test_beauty_split_as_given(data_dir):
    data = read_edge_splits(data_dir / "amazon-beauty")
    assert data.describe() == {"num_users": 22363, "num_items": 12101, "train": 158801, "valid": 19850,
                               "test": 19851}


def test_missing_split_file(tmp_path):
    with pytest.raises(ValueError, match="without train.csv"):
        read_edge_splits(tmp_path)


@pytest.mark.parametrize("split", ["random", "ensfm"])
def test_movielens_positives_split(data_dir, split):
    data, maps = read_movielens_positives(data_dir / "movielens-1m" / "positives.csv.gz", split=split, seed=0)
    assert (data.num_users, data.num_items) == (6040, 3706)
    assert data.train.nnz + data.valid.nnz + data.test.nnz == 1_000_209
    assert data.train.multiply(data.test).nnz == 0 and data.train.multiply(data.valid).nnz == 0
    assert np.diff(data.train.indptr).min() >= 1
    if split == "random":
        assert data.test.nnz / 1_000_209 == pytest.approx(0.1, abs=0.01)
    else:
        assert np.all(np.diff(data.test.indptr) == 1)
    assert maps["user"][1] == 0
    again, _ = read_movielens_positives(data_dir / "movielens-1m" / "positives.csv.gz", split=split, seed=0)
    assert (again.test != data.test).nnz == 0
    with pytest.raises(ValueError, match="split='last'"):
        read_movielens_positives(data_dir / "movielens-1m" / "positives.csv.gz", split="last")
