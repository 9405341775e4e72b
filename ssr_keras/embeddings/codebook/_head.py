"""Own rows for the most frequent ids: the head of each side, shared by frequency hashing and BACO's option.

Frequency hashing gives the `head_fraction` share of a side's rows to its most frequent ids and hashes the
tail into the rest. `fit_baco(head_fraction=...)` (our extension) does the same for the head and clusters
only the tail: on Frappe CTR, where the frequent ids carry most of the signal, that is what made the
difference (README, "BACO in a ranking model").
"""

from __future__ import annotations

from typing import Any, Callable, Tuple

import numpy as np

from ssr_keras.embeddings.codebook._inputs import interaction_matrix, split_budget
from ssr_keras.embeddings.codebook.assignment import NO_CODE, CodebookAssignment


def check_head_fraction(value: Any) -> float:
    """`head_fraction` must be a number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"`head_fraction` must be a float in [0, 1). Received: head_fraction={value!r}")
    return float(value)


def frequent_head(counts: np.ndarray, rows: int, head_fraction: float) -> Tuple[np.ndarray, np.ndarray]:
    """`(head ids, tail ids)`: the `min(rows * head_fraction, rows - 1)` most frequent ids (ties by id), and the rest.

    >>> frequent_head(np.array([1, 5, 0, 5]), rows=3, head_fraction=0.5)
    (array([1]), array([3, 0, 2]))
    """
    head = min(int(rows * head_fraction), rows - 1)
    order = np.lexsort((np.arange(counts.size), -counts))  # most frequent first, ties by id
    return order[:head], order[head:]


def fit_tail_with_own_head_rows(fit_tail: Callable[..., CodebookAssignment], edges: np.ndarray, num_users: int,
                                num_items: int, rows: int, head_fraction: float) -> CodebookAssignment:
    """Head ids keep their own rows; `fit_tail(edges, num_users, num_items, rows)` clusters the tail.

    The rows are split between the sides as `split_budget` does; each side's head takes `head_fraction` of
    its share. The tail sees only the interactions between tail users and tail items (renumbered), with
    the rows left. Codes: a side's head ids get `0..head-1`, its tail the tail's codes shifted past them.
    """
    matrix = interaction_matrix(edges, num_users, num_items)
    user_rows, item_rows = split_budget(rows, num_users, num_items)
    head_users, tail_users = frequent_head(np.diff(matrix.indptr), user_rows, head_fraction)
    head_items, tail_items = frequent_head(np.bincount(matrix.indices, minlength=num_items), item_rows,
                                           head_fraction)
    user_index = np.full(num_users, -1, np.int64)
    user_index[tail_users] = np.arange(tail_users.size)
    item_index = np.full(num_items, -1, np.int64)
    item_index[tail_items] = np.arange(tail_items.size)
    tail_edges = np.stack([user_index[edges[:, 0]], item_index[edges[:, 1]]], axis=1)
    tail_edges = tail_edges[(tail_edges >= 0).all(axis=1)]
    tail = fit_tail(tail_edges, int(tail_users.size), int(tail_items.size),
                    rows - head_users.size - head_items.size)

    user_codes = np.full((num_users, 2), NO_CODE, np.int64)
    user_codes[head_users, 0] = np.arange(head_users.size)
    user_codes[tail_users] = np.where(tail.user_codes >= 0, tail.user_codes + head_users.size, NO_CODE)
    item_codes = np.empty(num_items, np.int64)
    item_codes[head_items] = np.arange(head_items.size)
    item_codes[tail_items] = tail.item_codes + head_items.size
    params = {**tail.params, "head_fraction": head_fraction, "head_users": int(head_users.size),
              "head_items": int(head_items.size), "budget": rows}
    return CodebookAssignment(tail.method, user_codes, item_codes, head_users.size + tail.num_user_codes,
                              head_items.size + tail.num_item_codes, list(tail.objective), params)
