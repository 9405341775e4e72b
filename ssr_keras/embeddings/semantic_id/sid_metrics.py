"""Quality figures of a semantic-ID assignment (codebook usage, collisions) and collision breaking.

A semantic ID (SID) is a row of `codes` `[n_items, L]`. Two figures say how good an assignment is:

* `codebook_perplexity`: per level, `exp(entropy)` of the code distribution over items: `K` when all
  `K` codes are used equally, 1 when every item gets the same code;
* `collision_stats`: how many items share their full SID with another item.

Collisions are broken TIGER-style by `disambiguate_collisions`: an extra last level numbers the items
inside each colliding group `0, 1, 2, ...` (in row order), so every item's `L + 1` codes are unique.
The extra level's vocabulary is `max_group_size` codes; `SemanticIdEmbedding` takes per-level
vocabulary sizes for exactly this case.

Example:

>>> codes = np.array([[0, 1], [0, 1], [2, 3], [0, 2]])
>>> collision_stats(codes)["num_colliding_items"]
2
>>> disambiguate_collisions(codes)[:, -1].tolist()
[0, 1, 0, 0]
"""

from __future__ import annotations

from typing import Dict

import numpy as np


def _check_codes(codes) -> np.ndarray:
    codes = np.asarray(codes)
    if codes.ndim != 2 or not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"`codes` must be an integer array [n_items, num_levels]. "
                         f"Received: shape {codes.shape}, dtype {codes.dtype}")
    return codes


def codebook_perplexity(codes, codebook_size: int) -> np.ndarray:
    """Per-level perplexity `exp(-sum_k p_k log p_k)` of the codes, float64 `[num_levels]`.

    >>> codebook_perplexity(np.array([[0], [1], [2], [3]]), 4).round(3).tolist()
    [4.0]
    """
    codes = _check_codes(codes)
    if codes.size and (codes.min() < 0 or codes.max() >= codebook_size):
        raise ValueError(f"`codes` must lie in [0, {codebook_size}). Received: range "
                         f"[{codes.min()}, {codes.max()}]")
    result = []
    for level in range(codes.shape[1]):
        p = np.bincount(codes[:, level], minlength=codebook_size) / max(codes.shape[0], 1)
        p = p[p > 0]
        result.append(float(np.exp(-(p * np.log(p)).sum())))
    return np.array(result)


def collision_stats(codes) -> Dict[str, float]:
    """Collision figures of a full-SID assignment.

    Returns:
        dict with `num_items`, `num_unique_sids`, `num_colliding_items` (items whose SID is shared
        with at least one other item), `collision_rate` (= colliding / items), `max_group_size`.
    """
    codes = _check_codes(codes)
    if codes.shape[0] == 0:
        return {"num_items": 0, "num_unique_sids": 0, "num_colliding_items": 0, "collision_rate": 0.0,
                "max_group_size": 0}
    _, inverse, counts = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
    group_size = counts[inverse.ravel()]
    colliding = int((group_size > 1).sum())
    return {"num_items": int(codes.shape[0]), "num_unique_sids": int(len(counts)),
            "num_colliding_items": colliding, "collision_rate": colliding / codes.shape[0],
            "max_group_size": int(counts.max())}


def disambiguate_collisions(codes) -> np.ndarray:
    """Appends a level numbering the items within each group of identical SIDs (row order), int64.

    The result `[n_items, L + 1]` has no collisions; its last level uses codes `0..max_group_size-1`.
    """
    codes = _check_codes(codes)
    extra = np.zeros(codes.shape[0], np.int64)
    if codes.shape[0]:
        _, inverse = np.unique(codes, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        seen: Dict[int, int] = {}
        for row, group in enumerate(inverse.tolist()):
            extra[row] = seen.get(group, 0)
            seen[group] = extra[row] + 1
    return np.concatenate([codes.astype(np.int64), extra[:, None]], axis=1)
