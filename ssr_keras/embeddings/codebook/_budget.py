"""Enforces a row budget on any assignment: the smallest clusters are folded into kept ones of the same side.

BACO stops its sweeps once the budget is met and Louvain is searched for a resolution under the budget, so
this fold is only the fallback that makes "at most `budget` rows" a guarantee for every method.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from ssr_keras.embeddings.codebook.assignment import NO_CODE


def compact(labels: np.ndarray) -> Tuple[np.ndarray, int]:
    """Relabels `labels` (any ints) to consecutive codes 0..K-1 in the order of the label values."""
    unique, codes = np.unique(labels, return_inverse=True)
    return codes.astype(np.int64), int(unique.size)


def fold_to_budget(user_codes: np.ndarray, num_user_codes: int, item_codes: np.ndarray, num_item_codes: int,
                   budget: int, rng: np.random.Generator) -> Tuple[np.ndarray, int, np.ndarray, int, int]:
    """Folds the smallest clusters (either side) into random kept clusters of their side until within budget.

    Args:
        user_codes: int `[num_users, 2]` (primary, secondary or -1).
        num_user_codes: user codebook rows.
        item_codes: int `[num_items]`.
        num_item_codes: item codebook rows.
        budget: rows allowed (>= 2).
        rng: the seeded generator picking the cluster each folded one joins.

    Returns:
        `(user_codes, num_user_codes, item_codes, num_item_codes, folded)` with consecutive codes; `folded` is
        the number of clusters folded away (0 when already within budget: the input is returned unchanged).
    """
    excess = num_user_codes + num_item_codes - budget
    if excess <= 0:
        return user_codes, num_user_codes, item_codes, num_item_codes, 0
    user_sizes = np.bincount(user_codes[:, 0], minlength=num_user_codes)
    item_sizes = np.bincount(item_codes, minlength=num_item_codes)
    sizes = np.concatenate([user_sizes, item_sizes])
    side = np.concatenate([np.zeros(num_user_codes, np.int64), np.ones(num_item_codes, np.int64)])
    code = np.concatenate([np.arange(num_user_codes), np.arange(num_item_codes)])
    order = np.lexsort((code, side, sizes))  # smallest first
    # Each side keeps its largest cluster.
    keep_user = int(np.argmax(user_sizes))
    keep_item = int(np.argmax(item_sizes))
    protected = ((side == 0) & (code == keep_user)) | ((side == 1) & (code == keep_item))
    dropped = order[~protected[order]][:excess]
    user_map = np.arange(num_user_codes)
    item_map = np.arange(num_item_codes)
    for side_id, mapping, count in ((0, user_map, num_user_codes), (1, item_map, num_item_codes)):
        gone = code[dropped[side[dropped] == side_id]]
        kept = np.setdiff1d(np.arange(count), gone)
        mapping[gone] = kept[rng.integers(0, kept.size, size=gone.size)]
    primary, num_users_new = compact(user_map[user_codes[:, 0]])
    # Kept codes compacted in order, so the same relabelling applies to the secondary codes.
    relabel = np.full(num_user_codes, NO_CODE, np.int64)
    relabel[np.unique(user_map)] = np.arange(num_users_new)
    secondary = np.where(user_codes[:, 1] == NO_CODE, NO_CODE,
                         relabel[user_map[np.maximum(user_codes[:, 1], 0)]])
    secondary[secondary == primary] = NO_CODE
    items, num_items_new = compact(item_map[item_codes])
    return np.stack([primary, secondary], axis=1), num_users_new, items, num_items_new, int(dropped.size)
