"""Top-k retrieval metrics shared by every retrieval model (BACO's LightGCN/MF, ELSA, EASE).

Conventions (those of the BACO and Compressed-ELSA papers):

* `Recall@k = |top-k ∩ held-out| / min(k, |held-out|)`, so a user with fewer than k held-out items can
  reach 1.0;
* `NDCG@k = DCG@k / IDCG@k` with binary gains, `DCG = sum_i hit_i / log2(i + 2)` over ranks i = 0..k-1
  and the ideal DCG taken over `min(k, |held-out|)` positions;
* users with no held-out item are left out of the mean; items a user already interacted with (training,
  and validation when scoring test) are masked before the top-k is taken.

Held-out and excluded items are `scipy.sparse` matrices `[num_users, num_items]` (any non-zero counts).

Example:

>>> import numpy as np, scipy.sparse as sp
>>> scores = np.array([[0.9, 0.8, 0.1, 0.5], [0.1, 0.2, 0.3, 0.4]])
>>> heldout = sp.csr_matrix(np.array([[0, 0, 1, 1], [1, 0, 0, 0]]))
>>> seen = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 0, 0]]))
>>> top = top_k_items(scores, 2, exclude=seen)
>>> top.tolist()
[[1, 3], [3, 2]]
>>> round(recall_at_k(top, heldout, 2), 4), round(ndcg_at_k(top, heldout, 2), 4)
(0.25, 0.1934)
"""

from __future__ import annotations

from typing import Callable, Dict, Iterable, Sequence

import numpy as np
import scipy.sparse as sp


def _as_csr(matrix, name: str) -> sp.csr_matrix:
    if not sp.issparse(matrix):
        raise ValueError(f"{name} must be a scipy.sparse matrix [num_users, num_items]; "
                         f"received {type(matrix).__name__}.")
    return sp.csr_matrix(matrix)


def top_k_items(scores: np.ndarray, k: int, exclude: sp.spmatrix | None = None) -> np.ndarray:
    """The k best item indices per user row, best first, with `exclude`d items never returned.

    Args:
        scores: float `[num_users, num_items]` (a copy is masked; the input is not changed).
        k: how many items per user, `1 <= k <= num_items`.
        exclude: optional sparse `[num_users, num_items]`; its non-zeros are masked to -inf.

    Returns:
        int64 `[num_users, k]`, best first; equal scores rank the lower item index first (which of
        several items tied at the k-th score is kept is up to `np.argpartition`).
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D [num_users, num_items]; received shape {scores.shape}.")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= scores.shape[1]:
        raise ValueError(f"k must be an int in [1, {scores.shape[1]}]; received {k!r}.")
    if exclude is not None:
        exclude = _as_csr(exclude, "exclude")
        if exclude.shape != scores.shape:
            raise ValueError(f"exclude has shape {exclude.shape}; expected the scores' {scores.shape}.")
        scores = scores.copy()
        rows, cols = exclude.nonzero()
        scores[rows, cols] = -np.inf
    if k < scores.shape[1]:
        candidates = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        candidates = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    candidate_scores = np.take_along_axis(scores, candidates, axis=1)
    # Best first; among equal scores the lower item index first.
    order = np.lexsort((candidates, -candidate_scores), axis=1)
    top = np.take_along_axis(candidates, order, axis=1)
    return top.astype(np.int64)


def _hits(top: np.ndarray, heldout: sp.csr_matrix) -> np.ndarray:
    top = np.asarray(top)
    if top.ndim != 2 or top.shape[0] != heldout.shape[0]:
        raise ValueError(f"top must be [num_users={heldout.shape[0]}, k]; received shape {top.shape}.")
    rows = np.repeat(np.arange(top.shape[0]), top.shape[1])
    return np.asarray(heldout[rows, top.reshape(-1)]).reshape(top.shape) != 0


def recall_at_k(top: np.ndarray, heldout: sp.spmatrix, k: int | None = None) -> float:
    """Mean `hits@k / min(k, |held-out|)` over users with at least one held-out item.

    Args:
        top: int `[num_users, >= k]` ranked item indices (e.g. from `top_k_items`).
        heldout: sparse `[num_users, num_items]` held-out interactions.
        k: cut-off; defaults to `top.shape[1]`.
    """
    return float(np.mean(per_user_recall(top, heldout, k)))


def ndcg_at_k(top: np.ndarray, heldout: sp.spmatrix, k: int | None = None) -> float:
    """Mean NDCG@k (binary gains, ideal DCG over `min(k, |held-out|)` ranks) over users with held-out items.

    Args:
        top: int `[num_users, >= k]` ranked item indices.
        heldout: sparse `[num_users, num_items]` held-out interactions.
        k: cut-off; defaults to `top.shape[1]`.
    """
    return float(np.mean(per_user_ndcg(top, heldout, k)))


def _prepare(top, heldout, k):
    heldout = _as_csr(heldout, "heldout")
    k = top.shape[1] if k is None else k
    if not 1 <= k <= np.shape(top)[1]:
        raise ValueError(f"k must be in [1, {np.shape(top)[1]}] (the columns of top); received {k!r}.")
    counts = np.diff(heldout.indptr)
    users = np.flatnonzero(counts)
    if users.size == 0:
        raise ValueError("heldout has no interaction: no user can be evaluated.")
    hits = _hits(np.asarray(top)[users, :k], heldout[users])
    return hits, counts[users], k


def per_user_recall(top: np.ndarray, heldout: sp.spmatrix, k: int | None = None) -> np.ndarray:
    """Recall@k of each user with at least one held-out item (in user order)."""
    hits, counts, k = _prepare(top, heldout, k)
    return hits.sum(axis=1) / np.minimum(k, counts)


def per_user_ndcg(top: np.ndarray, heldout: sp.spmatrix, k: int | None = None) -> np.ndarray:
    """NDCG@k of each user with at least one held-out item (in user order)."""
    hits, counts, k = _prepare(top, heldout, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = hits @ discounts
    ideal = np.cumsum(discounts)[np.minimum(k, counts) - 1]
    return dcg / ideal


def evaluate_top_k(scores: np.ndarray, heldout: sp.spmatrix, ks: Iterable[int] = (10, 20, 50),
                   exclude: sp.spmatrix | None = None) -> Dict[str, float]:
    """`recall@k` and `ndcg@k` for every k, as fractions, from one masked top-max(k) ranking.

    Args:
        scores: float `[num_users, num_items]`.
        heldout: sparse held-out interactions of the same shape.
        ks: cut-offs.
        exclude: sparse items to mask (training and, for test, validation interactions).

    Returns:
        `{"recall@10": ..., "ndcg@10": ..., ...}`.
    """
    ks = sorted(set(int(k) for k in ks))
    return metrics_at(top_k_items(scores, ks[-1], exclude=exclude), heldout, ks)


def metrics_at(top: np.ndarray, heldout: sp.spmatrix, ks: Iterable[int]) -> Dict[str, float]:
    """`recall@k` and `ndcg@k` of a ranking `top` (columns >= max(ks)) for every k."""
    metrics: Dict[str, float] = {}
    for k in sorted(set(int(k) for k in ks)):
        metrics[f"recall@{k}"] = recall_at_k(top, heldout, k)
        metrics[f"ndcg@{k}"] = ndcg_at_k(top, heldout, k)
    return metrics


def top_k_in_batches(score_rows: Callable[[np.ndarray], np.ndarray], exclude: sp.spmatrix, k: int,
                     rows: np.ndarray, batch_size: int) -> np.ndarray:
    """The masked top-k of `rows`, scored `batch_size` rows at a time (memory stays `batch_size x items`).

    Args:
        score_rows: row indices -> scores `[len(indices), num_items]`.
        exclude: sparse `[num_rows, num_items]`: items masked per row.
        k: items per row.
        rows: the row indices to rank, in output order.
        batch_size: rows scored at once.
    """
    exclude = _as_csr(exclude, "exclude")
    return np.concatenate([
        top_k_items(np.asarray(score_rows(batch)), k, exclude=exclude[batch])
        for batch in np.array_split(rows, max(1, -(-len(rows) // batch_size)))])


def evaluate_holdout(score: Callable[[sp.csr_matrix], np.ndarray], inputs: sp.spmatrix, targets: sp.spmatrix,
                     metrics: Sequence[str] = ("recall@20", "recall@50", "ndcg@100"),
                     batch_size: int = 1000) -> Dict[str, float]:
    """Scores `inputs` in batches, masks the input items and returns the metrics on `targets`.

    Args:
        score: maps a CSR batch of inputs `[b, num_items]` to scores `[b, num_items]`.
        inputs: what the model sees (masked in the ranking).
        targets: held-out items.
        metrics: names `recall@k` / `ndcg@k` (computed with `ssr_keras.analysis.retrieval_metrics`).
        batch_size: rows scored at once.

    Returns:
        `{metric name: value}`.
    """
    inputs = sp.csr_matrix(inputs)
    targets = sp.csr_matrix(targets)
    if inputs.shape != targets.shape:
        raise ValueError(f"`inputs` and `targets` must have the same shape. Received: {inputs.shape} and "
                         f"{targets.shape}")
    parsed = []
    for name in metrics:
        kind, _, k = name.partition("@")
        if kind not in ("recall", "ndcg") or not k.isdigit() or int(k) < 1:
            raise ValueError(f"`metrics` must be names like 'recall@20' or 'ndcg@100'. Received: {name!r}")
        parsed.append((name, kind, int(k)))
    depth = min(max(k for _, _, k in parsed), inputs.shape[1])
    top = top_k_in_batches(lambda rows: score(inputs[rows]), inputs, depth, np.arange(inputs.shape[0]), batch_size)
    function = {"recall": recall_at_k, "ndcg": ndcg_at_k}
    return {name: function[kind](top, targets, min(k, depth)) for name, kind, k in parsed}
