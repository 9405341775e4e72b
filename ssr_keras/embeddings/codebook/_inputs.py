"""Checks and normalises the inputs every codebook method shares: the edge list, the id counts, the budget.

Each error names the argument, the value received and what was expected.
"""

from __future__ import annotations

from typing import Any, Tuple

import numpy as np
import scipy.sparse as sp

from ssr_keras.validation import check_non_negative_int

# The smallest codebook: one user row and one item row.
MIN_BUDGET = 2


def check_count(name: str, value: Any) -> int:
    """A positive int id count (`num_users`, `num_items`)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def check_edges(edges: Any, num_users: int, num_items: int) -> np.ndarray:
    """int64 `[E, 2]` (user id, item id) pairs, ids in `[0, num_users)` x `[0, num_items)`, E >= 1."""
    array = np.asarray(edges)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"`edges` must be an array [num_edges, 2] of (user id, item id) pairs. "
                         f"Received: edges with shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError("`edges` must hold at least one (user id, item id) pair. Received: edges with shape "
                         f"{array.shape}")
    if not np.issubdtype(array.dtype, np.integer):
        if not np.issubdtype(array.dtype, np.floating) or not np.all(np.isfinite(array)) \
                or np.any(array != np.round(array)):
            raise ValueError(f"`edges` must hold integer ids. Received: edges of dtype {array.dtype}")
    array = array.astype(np.int64)
    for column, name, count in ((0, "user", num_users), (1, "item", num_items)):
        ids = array[:, column]
        bad = np.flatnonzero((ids < 0) | (ids >= count))
        if bad.size:
            raise ValueError(f"`edges` {name} ids must be in [0, {count}) (num_{name}s={count}). Received: "
                             f"edges[{bad[0]}, {column}]={ids[bad[0]]} ({bad.size} ids out of range)")
    return array


def check_gamma(gamma: Any) -> float:
    """A finite, non-negative resolution."""
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.integer, np.floating)) \
            or not np.isfinite(gamma) or gamma < 0:
        raise ValueError(f"`gamma` must be a finite number >= 0. Received: gamma={gamma!r}")
    return float(gamma)


def resolve_budget(budget: Any, num_users: int, num_items: int) -> int:
    """Codebook rows allowed: an int >= 2 is a row count, a float in (0, 1) a fraction of `num_users + num_items`.

    A fraction is rounded down; the rows are capped at `num_users + num_items` (no compression).
    """
    total = num_users + num_items
    if isinstance(budget, bool) or not isinstance(budget, (int, float, np.integer, np.floating)) \
            or not np.isfinite(budget):
        raise ValueError(f"`budget` must be a row count >= {MIN_BUDGET} or a fraction in (0, 1) of the "
                         f"{total} ids. Received: budget={budget!r}")
    if isinstance(budget, (float, np.floating)) and 0 < budget < 1:
        rows = int(np.floor(budget * total))
    elif float(budget).is_integer():
        rows = int(budget)
    else:
        raise ValueError(f"`budget` must be an integer row count or a fraction in (0, 1). Received: "
                         f"budget={budget!r}")
    if rows < MIN_BUDGET:
        raise ValueError(f"`budget` must allow at least {MIN_BUDGET} rows (one user row, one item row). "
                         f"Received: budget={budget!r} ({rows} rows of {total} ids)")
    return min(rows, total)


def check_seed(seed: Any) -> int:
    return check_non_negative_int("seed", seed)


def interaction_matrix(edges: np.ndarray, num_users: int, num_items: int) -> sp.csr_matrix:
    """The binary user x item matrix of `edges` (duplicate edges count once)."""
    matrix = sp.csr_matrix((np.ones(len(edges), np.float64), (edges[:, 0], edges[:, 1])),
                           shape=(num_users, num_items))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def split_budget(rows: int, num_users: int, num_items: int) -> Tuple[int, int]:
    """Splits `rows` between users and items in proportion to their id counts (each side >= 1 row)."""
    user_rows = int(round(rows * num_users / (num_users + num_items)))
    user_rows = min(max(user_rows, 1), rows - 1, num_users)
    item_rows = min(rows - user_rows, num_items)
    return user_rows, item_rows
