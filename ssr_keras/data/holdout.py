"""User-level hold-out for item-based retrieval (ELSA, EASE): the Compressed-ELSA evaluation protocol.

Protocol (Vančura et al., WWW '26, arXiv 2602.09935; also the original ELSA/EASE papers' "strong
generalisation"):

1. `split_users`: a random set of *test users* is held out from training entirely (the models never
   see their rows), optionally a disjoint set of validation users too;
2. `random_fraction_holdout`: for each test user, `ceil(fraction * n)` of their n items are drawn at
   random and become the *targets*; the user's remaining items are the model's input. This is repeated
   `draws` times (5) and the draws are stacked, so every test user counts `draws` times in the means;
3. the models score every item from the input, the input items are masked, and Recall@k (normalised by
   `min(k, |targets|)`) and NDCG@k are taken over all stacked rows
   (`ssr_keras.analysis.retrieval_metrics.evaluate_holdout`).

How the draws are made (this reproduces the official code's numbers; the parity test checks it on the
demo's GoodBooks matrix): one `numpy.random.RandomState(seed)`; draw after draw, user after user in row
order, `rng.choice(items_of_user, ceil(fraction * n), replace=True)` where `items_of_user` are the user's
item columns in increasing order. Because the draw is *with replacement*, a user's targets are the
*distinct* items drawn, on average about 18% rather than 20% of the items (at least one), and the 5 draws
overlap: they are not disjoint folds.

Compared with a plain single hold-out (one fixed split of each test user's items, e.g. the last item or
one random 20%): the numbers average 5 random draws (lower variance, each user weighted 5 times); the
target fraction is slightly below 20% because of replacement; the test users' other items are the only
input (no training history of their own), so this measures generalisation to unseen users.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence, Tuple

import numpy as np
import scipy.sparse as sp

# The paper's metrics.
PAPER_METRICS = ("recall@20", "recall@50", "ndcg@100")


def interaction_matrix(users: Sequence[int], items: Sequence[int], num_users: int, num_items: int) -> sp.csr_matrix:
    """A binary `[num_users, num_items]` CSR matrix from (user, item) index pairs (duplicates count once).

    Raises:
        ValueError: an index is outside `[0, num_users)` / `[0, num_items)`.
    """
    users = np.asarray(users, dtype=np.int64)
    items = np.asarray(items, dtype=np.int64)
    if users.shape != items.shape:
        raise ValueError(f"`users` and `items` must have the same length. Received: {users.shape} and {items.shape}")
    for name, values, bound in (("users", users, num_users), ("items", items, num_items)):
        if values.size and (values.min() < 0 or values.max() >= bound):
            raise ValueError(f"`{name}` must hold indices in [0, {bound}). Received: min={values.min()}, "
                             f"max={values.max()}")
    matrix = sp.csr_matrix((np.ones(users.size, np.float32), (users, items)), shape=(num_users, num_items))
    matrix.data[:] = 1.0
    matrix.sort_indices()
    return matrix


def histories_to_matrix(histories: Sequence[Iterable[int]], num_items: int) -> sp.csr_matrix:
    """Users' item-index histories -> binary CSR `[len(histories), num_items]`.

    Raises:
        ValueError: `histories` is empty, a history is empty, or an item index is outside `[0, num_items)`.
    """
    histories = [np.asarray(list(h), dtype=np.int64) for h in histories]
    if not histories:
        raise ValueError("`histories` must hold at least one user history. Received: histories=[]")
    empty = [i for i, h in enumerate(histories) if h.size == 0]
    if empty:
        raise ValueError(f"`histories` must not contain empty histories (a user with no interaction cannot be "
                         f"scored). Received: empty histories at positions {empty[:10]}")
    for i, h in enumerate(histories):
        bad = h[(h < 0) | (h >= num_items)]
        if bad.size:
            raise ValueError(f"`histories` must hold item indices in [0, {num_items}). Received: unknown item "
                             f"ids {bad[:10].tolist()} in history {i}")
    rows = np.repeat(np.arange(len(histories)), [h.size for h in histories])
    return interaction_matrix(rows, np.concatenate(histories), len(histories), num_items)


def split_users(num_users: int, num_test_users: int, num_validation_users: int = 0,
                seed: int = 42) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random disjoint (train, validation, test) user index sets, each sorted.

    Args:
        num_users: how many users there are.
        num_test_users: test users (held out from training).
        num_validation_users: validation users (also held out from training; for model selection).
        seed: seed of `numpy.random.RandomState`.
    """
    if num_test_users < 1 or num_validation_users < 0 or num_test_users + num_validation_users >= num_users:
        raise ValueError(f"`num_test_users` + `num_validation_users` must be in [1, num_users={num_users}). "
                         f"Received: num_test_users={num_test_users}, num_validation_users={num_validation_users}")
    order = np.random.RandomState(seed).permutation(num_users)
    test = np.sort(order[:num_test_users])
    validation = np.sort(order[num_test_users:num_test_users + num_validation_users])
    train = np.sort(order[num_test_users + num_validation_users:])
    return train, validation, test


def random_fraction_holdout(matrix: sp.spmatrix, fraction: float = 0.2, draws: int = 5, seed: int = 42,
                            replace: bool = True) -> Tuple[sp.csr_matrix, sp.csr_matrix]:
    """The paper's hold-out: per user and draw, a random `ceil(fraction * n)` of the user's items are targets.

    Args:
        matrix: test users' interactions `[num_users, num_items]` (any non-zero is an interaction).
        fraction: share of each user's items drawn as targets.
        draws: repetitions; the results are stacked draw after draw (`[draws * num_users, num_items]`).
        seed: seed of the one `numpy.random.RandomState` all draws use.
        replace: draw with replacement, as the official code does (targets are the distinct items drawn).

    Returns:
        `(inputs, targets)`, binary CSR `[draws * num_users, num_items]`; row `d * num_users + u` is draw d of
        user u. Users with fewer than 2 items are rejected (nothing would be left as input or as target).
    """
    if not 0 < fraction < 1:
        raise ValueError(f"`fraction` must be in (0, 1). Received: fraction={fraction!r}")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ValueError(f"`draws` must be a positive integer. Received: draws={draws!r}")
    if not sp.issparse(matrix):
        raise ValueError(f"`matrix` must be a scipy.sparse matrix. Received: {type(matrix).__name__}")
    matrix = sp.csr_matrix(matrix, copy=True)
    matrix.eliminate_zeros()
    matrix.sum_duplicates()
    matrix.sort_indices()
    counts = np.diff(matrix.indptr)
    if counts.min(initial=2) < 2:
        raise ValueError(f"every user in `matrix` needs at least 2 items. Received: users "
                         f"{np.flatnonzero(counts < 2)[:10].tolist()} with fewer")
    rng = np.random.RandomState(seed)
    target_rows, target_cols = [], []
    num_users = matrix.shape[0]
    for draw in range(draws):
        for user in range(num_users):
            items = matrix.indices[matrix.indptr[user]:matrix.indptr[user + 1]]
            chosen = np.unique(rng.choice(items, math.ceil(items.size * fraction), replace=replace))
            target_cols.append(chosen)
            target_rows.append(np.full(chosen.size, draw * num_users + user))
    shape = (draws * num_users, matrix.shape[1])
    targets = interaction_matrix(np.concatenate(target_rows), np.concatenate(target_cols), *shape)
    stacked = sp.vstack([matrix] * draws).tocsr()
    stacked.data[:] = 1.0
    inputs = (stacked - targets).tocsr()
    inputs.eliminate_zeros()
    if np.diff(inputs.indptr).min(initial=1) < 1:
        raise ValueError("a draw took every item of a user (replace=False with fraction near 1?); lower `fraction`.")
    return inputs, targets
