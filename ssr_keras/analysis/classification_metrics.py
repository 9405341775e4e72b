"""Binary classification metrics over NumPy arrays (what a client computes from served scores).

Example:

>>> roc_auc(np.array([0, 1, 1, 0]), np.array([0.1, 0.8, 0.4, 0.5]))
0.75
>>> round(log_loss(np.array([1, 0]), np.array([0.9, 0.2])), 4)
0.1643
"""

from __future__ import annotations

import numpy as np


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Exact ROC AUC (Mann-Whitney, ties count half); NaN when only one class is present."""
    labels = np.asarray(labels, bool)
    positives, negatives = labels.sum(), (~labels).sum()
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = np.asarray(scores)[order]
    ranks = np.empty(len(scores), np.float64)
    # Average ranks over runs of tied scores.
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(scores)]])
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    return float((ranks[labels].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def log_loss(labels: np.ndarray, scores: np.ndarray, epsilon: float = 1e-7) -> float:
    """Mean binary cross-entropy of probabilities `scores` (clipped to [epsilon, 1 - epsilon])."""
    p = np.clip(np.asarray(scores, np.float64), epsilon, 1.0 - epsilon)
    y = np.asarray(labels, np.float64)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))


