"""Item segments of a sparse item matrix: items grouped by their dominant active dimension and its sign.

In Compressed ELSA (Vančura et al., WWW '26, arXiv 2602.09935) each item row of `A` has a few non-zero
dimensions; grouping items by the dimension of largest |value| (with its sign: +d and −d are different
segments) gives an inverted-index segmentation of the catalogue. A segment matrix `B [S, F]` has one unit
entry (±1) per segment at its dimension, so a user's segment scores are `x A Bᵀ`.
"""

from __future__ import annotations

import dataclasses
from typing import List

import numpy as np
import scipy.sparse as sp


@dataclasses.dataclass
class Segments:
    """Items grouped by dominant signed dimension.

    Attributes:
        dimensions: int `[S]`, the dimension of each segment.
        signs: int `[S]`, +1 or −1.
        item_segment: int `[num_items]`, the segment of each item (−1 for an all-zero row).
        matrix: `scipy.sparse.csr_matrix [S, F]`, B: ±1 at each segment's dimension.
        strength: float `[num_items]`, |A[i, dominant dimension]| (how typical an item is of its segment).
    """

    dimensions: np.ndarray
    signs: np.ndarray
    item_segment: np.ndarray
    matrix: sp.csr_matrix
    strength: np.ndarray

    @property
    def sizes(self) -> np.ndarray:
        """Items per segment."""
        return np.bincount(self.item_segment[self.item_segment >= 0], minlength=len(self.dimensions))

    def items_of(self, segment: int, top_n: int | None = None) -> np.ndarray:
        """The items of `segment`, most typical first (by `strength`)."""
        items = np.flatnonzero(self.item_segment == segment)
        items = items[np.argsort(-self.strength[items], kind="stable")]
        return items if top_n is None else items[:top_n]


def item_segments(item_matrix) -> Segments:
    """Groups the items of `A [num_items, F]` (dense or sparse) by their dominant signed dimension.

    Example:

    >>> A = np.array([[0.9, 0.1, 0.0], [0.0, -0.8, 0.6], [0.7, 0.0, 0.7], [0.1, -0.9, 0.0]])
    >>> seg = item_segments(A)
    >>> seg.dimensions.tolist(), seg.signs.tolist(), seg.item_segment.tolist()
    ([0, 1], [1, -1], [0, 1, 0, 1])
    """
    matrix = sp.csr_matrix(item_matrix, dtype=np.float64)
    num_items, width = matrix.shape
    magnitude = abs(matrix)
    dominant = np.asarray(magnitude.argmax(axis=1)).ravel()
    strength = np.asarray(magnitude.max(axis=1).todense()).ravel()
    values = np.asarray(matrix[np.arange(num_items), dominant]).ravel()
    signs = np.where(values < 0, -1, 1)
    keys = dominant * 2 + (signs < 0)
    valid = strength > 0
    unique_keys, inverse = np.unique(keys[valid], return_inverse=True)
    item_segment = np.full(num_items, -1, dtype=np.int64)
    item_segment[valid] = inverse
    dimensions = unique_keys // 2
    segment_signs = np.where(unique_keys % 2 == 1, -1, 1)
    b = sp.csr_matrix((segment_signs.astype(np.float64), (np.arange(len(unique_keys)), dimensions)),
                      shape=(len(unique_keys), width))
    return Segments(dimensions=dimensions.astype(np.int64), signs=segment_signs.astype(np.int64),
                    item_segment=item_segment, matrix=b, strength=strength)


def largest_segments(segments: Segments, num_segments: int = 10, top_n: int = 5) -> List[dict]:
    """The `num_segments` largest segments as `{"segment", "dimension", "sign", "size", "top_items"}` dicts."""
    sizes = segments.sizes
    order = np.argsort(-sizes, kind="stable")[:num_segments]
    return [{"segment": int(s), "dimension": int(segments.dimensions[s]), "sign": int(segments.signs[s]),
             "size": int(sizes[s]), "top_items": segments.items_of(int(s), top_n).tolist()} for s in order]


def recommend_segments(inputs, item_matrix, segments: Segments, k: int = 5, top_n: int = 5) -> List[List[dict]]:
    """Whole segments for each user: the k best segments by `x A Bᵀ`, each with its top items.

    Args:
        inputs: interaction rows `[b, num_items]` (dense or sparse).
        item_matrix: `A [num_items, F]` (dense or sparse; the matrix `segments` was built from).
        segments: from `item_segments(item_matrix)`.
        k: segments per user.
        top_n: items listed per segment (most typical first, the user's own items left out).

    Returns:
        per user, a list of `{"segment", "dimension", "sign", "score", "top_items"}`, best first.
    """
    users = inputs @ item_matrix
    users = users.toarray() if sp.issparse(users) else np.asarray(users)
    scores = np.asarray(segments.matrix @ users.T).T
    seen = sp.csr_matrix(inputs)
    result = []
    for row, user_scores in enumerate(scores):
        own = set(seen[row].indices.tolist())
        best = np.argsort(-user_scores, kind="stable")[:k]
        entries = []
        for s in best:
            items = [int(i) for i in segments.items_of(int(s)) if int(i) not in own][:top_n]
            entries.append({"segment": int(s), "dimension": int(segments.dimensions[s]),
                            "sign": int(segments.signs[s]), "score": float(user_scores[s]), "top_items": items})
        result.append(entries)
    return result
