"""Implicit-feedback interaction data (user-item edge lists) as scipy CSR train / valid / test splits.

Ids are 0-based row/column indices (`0..num_users-1`, `0..num_items-1`): the retrieval models and the
codebook methods (`ssr_keras.embeddings.codebook`) index their tables directly with them. To use a
clustering in a ranking model keyed by vocabulary ids (`ssr_keras.data.ids`), shift by `NUM_OOV_BUCKETS`
(`CodebookEmbedding.from_assignment` does).

* `read_edge_splits`: a directory with `train.csv`, `valid.csv`, `test.csv` of `user,item` 0-based ids (the
  BACO paper's Amazon Beauty split in `../shared/data/amazon-beauty`);
* `read_movielens_positives`: MovieLens-1M `positives.csv.gz`, ids renumbered by sorted raw id, split per
  user at random 8:1:1 (seeded) or by the file's `ensfm_split` column (each user's last item is test).

Example:

>>> import numpy as np
>>> data = InteractionSplits.from_edges(np.array([[0, 1], [1, 0]]), np.array([[0, 0]]),
...                                     np.array([[1, 1]]), num_users=2, num_items=2)
>>> data.train.toarray().tolist(), data.num_train
([[0.0, 1.0], [1.0, 0.0]], 2)
"""

from __future__ import annotations

import dataclasses
import os
from typing import Tuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

SPLITS = ("train", "valid", "test")
# Per-user random split of MovieLens-1M positives: train / valid / test shares.
RANDOM_SPLIT_FRACTIONS = (0.8, 0.1, 0.1)


def _matrix(edges: np.ndarray, num_users: int, num_items: int) -> sp.csr_matrix:
    matrix = sp.csr_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(num_users, num_items))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


@dataclasses.dataclass
class InteractionSplits:
    """Binary user x item CSR matrices of the three splits, and the training edges.

    Attributes:
        train, valid, test: float64 CSR `[num_users, num_items]` (1 where the user interacted).
        train_edges: int64 `[E, 2]` distinct (user, item) training pairs, row-major order.
        num_users, num_items: the id counts.
    """

    train: sp.csr_matrix
    valid: sp.csr_matrix
    test: sp.csr_matrix
    train_edges: np.ndarray
    num_users: int
    num_items: int

    @classmethod
    def from_edges(cls, train: np.ndarray, valid: np.ndarray, test: np.ndarray, num_users: int | None = None,
                   num_items: int | None = None) -> InteractionSplits:
        """Builds the splits from `[E, 2]` edge arrays; id counts default to the largest id + 1."""
        parts = [np.asarray(e, dtype=np.int64).reshape(-1, 2) for e in (train, valid, test)]
        for name, edges in zip(SPLITS, parts):
            if edges.size and edges.min() < 0:
                raise ValueError(f"`{name}` edges must hold ids >= 0. Received: min id {edges.min()}")
        num_users = int(max(e[:, 0].max(initial=-1) for e in parts)) + 1 if num_users is None else int(num_users)
        num_items = int(max(e[:, 1].max(initial=-1) for e in parts)) + 1 if num_items is None else int(num_items)
        for name, edges in zip(SPLITS, parts):
            if edges.size and (edges[:, 0].max() >= num_users or edges[:, 1].max() >= num_items):
                raise ValueError(f"`{name}` edges exceed num_users={num_users} / num_items={num_items}. Received: "
                                 f"max ids {edges[:, 0].max()}, {edges[:, 1].max()}")
        matrices = [_matrix(e, num_users, num_items) for e in parts]
        train_edges = np.stack(matrices[0].nonzero(), axis=1).astype(np.int64)
        return cls(matrices[0], matrices[1], matrices[2], train_edges, num_users, num_items)

    @property
    def num_train(self) -> int:
        return int(self.train.nnz)

    def describe(self) -> dict:
        return {"num_users": self.num_users, "num_items": self.num_items, "train": self.train.nnz,
                "valid": self.valid.nnz, "test": self.test.nnz}


def read_edge_splits(directory: str | os.PathLike, user_column: str = "user",
                     item_column: str = "item") -> InteractionSplits:
    """Reads `train.csv`, `valid.csv`, `test.csv` (header with `user_column`, `item_column`; 0-based ids)."""
    parts = []
    for name in SPLITS:
        path = os.path.join(directory, f"{name}.csv")
        if not os.path.isfile(path):
            raise ValueError(f"`directory` must hold {', '.join(s + '.csv' for s in SPLITS)}. Received: "
                             f"directory={str(directory)!r} without {name}.csv")
        frame = pd.read_csv(path, usecols=[user_column, item_column])
        parts.append(frame[[user_column, item_column]].to_numpy(np.int64))
    return InteractionSplits.from_edges(*parts)


def _random_user_split(users: np.ndarray, seed: int) -> np.ndarray:
    """0/1/2 (train/valid/test) per row: each user's rows shuffled, then cut 8:1:1 (at least one train row)."""
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(users.size), users))  # grouped by user, random within
    counts = np.bincount(users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(users.size) - np.repeat(starts, counts)
    size = counts[users[order]]
    n_test = np.floor(size * RANDOM_SPLIT_FRACTIONS[2]).astype(np.int64)
    n_valid = np.floor(size * RANDOM_SPLIT_FRACTIONS[1]).astype(np.int64)
    split = np.zeros(users.size, np.int64)
    split[order] = np.where(rank < n_test, 2, np.where(rank < n_test + n_valid, 1, 0))
    return split


def read_movielens_positives(path: str | os.PathLike, split: str = "random",
                             seed: int = 0) -> Tuple[InteractionSplits, dict]:
    """MovieLens-1M `positives.csv.gz` as splits, and the raw-id -> index maps (`{"user": ..., "item": ...}`).

    Args:
        path: the `positives.csv.gz` file (columns `user_id`, `movie_id`, `ensfm_split`, ...).
        split: "random" (per user 8:1:1 at random, seeded: users with < 10 interactions put fewer in
            valid/test) or "ensfm" (the file's `ensfm_split`: test is each user's last item; a random 1/9 of
            the remaining rows per user is validation).
        seed: seeds the random split.
    """
    if split not in ("random", "ensfm"):
        raise ValueError(f"`split` must be 'random' or 'ensfm'. Received: split={split!r}")
    frame = pd.read_csv(path, usecols=["user_id", "movie_id", "ensfm_split"])
    user_ids, users = np.unique(frame["user_id"].to_numpy(), return_inverse=True)
    item_ids, items = np.unique(frame["movie_id"].to_numpy(), return_inverse=True)
    edges = np.stack([users, items], axis=1).astype(np.int64)
    if split == "random":
        part = _random_user_split(users, seed)
    else:
        part = np.where(frame["ensfm_split"].to_numpy() == "test", 2, 0)
        rest = np.flatnonzero(part == 0)
        rng = np.random.default_rng(seed)
        part[rest[rng.random(rest.size) < 1 / 9]] = 1
    data = InteractionSplits.from_edges(edges[part == 0], edges[part == 1], edges[part == 2],
                                        num_users=user_ids.size, num_items=item_ids.size)
    maps = {"user": dict(zip(user_ids.tolist(), range(user_ids.size))),
            "item": dict(zip(item_ids.tolist(), range(item_ids.size)))}
    return data, maps
