"""Multilevel BACO (our extension of the paper): contract labels to super-nodes and keep moving them.

Single-node label propagation cannot merge two clusters: once every node prefers its own label the sweeps
stall, even far above the row budget. Louvain's answer is aggregation, used here with BACO's own objective

    Q = sum_l [ edges inside l - gamma * vol_U(l) * vol_I(l) ].

`contract` turns each label into one super-node X carrying its user volume `vU(X)`, item volume `vI(X)`,
user and item member counts, and the summed edges to the other super-nodes (edges inside X are dropped from
the adjacency: they stay inside X's label wherever X goes, so they add the same to every gain). Q is
unchanged by the contraction. `sweep_super_nodes` then moves super-nodes with the gain

    gain(l) = e(X, l) - gamma * (vU(X) * vI(l) + vI(X) * vU(l)),

with X's own volumes removed from its current label's; `gain(b) - gain(a)` is exactly the change of Q when X
moves from a to b (the `vU(X) * vI(X)` terms cancel), so a strict-improvement move never lowers Q.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
import scipy.sparse as sp


class SuperGraph(NamedTuple):
    """A contracted graph: CSR adjacency of summed edge counts (no self-loops) and per-super-node totals."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    vol_u: np.ndarray
    vol_i: np.ndarray
    count_u: np.ndarray
    count_i: np.ndarray

    @property
    def num_nodes(self) -> int:
        return int(self.vol_u.size)


def single_nodes(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, num_users: int) -> SuperGraph:
    """The uncontracted graph as a `SuperGraph`: every node its own super-node, unit edge weights, its weight
    as the volume of its side (0 on the other) and one member of its side.

    With `vI(X) = 0` for a user (and `vU(X) = 0` for an item) the super-node gain above is the paper's
    single-node gain `e(x, l) - gamma * w_x * vol_opposite(l)`, to the last bit, so one sweep serves every level.
    """
    is_user = np.arange(weights.size) < num_users
    return SuperGraph(indptr, indices, np.ones(indices.size), np.where(is_user, weights, 0.0),
                      np.where(is_user, 0.0, weights), is_user.astype(np.int64), (~is_user).astype(np.int64))


def contract(adjacency: sp.csr_matrix, labels: np.ndarray, vol_u: np.ndarray, vol_i: np.ndarray,
             count_u: np.ndarray, count_i: np.ndarray):
    """Contracts every distinct label of `labels` (one per current node) into a super-node.

    Args:
        adjacency: symmetric `[n, n]` CSR edge counts between the current nodes (no self-loops).
        labels: int `[n]`, each node's label (an index into the per-label arrays).
        vol_u, vol_i: float per label, its user and item volumes.
        count_u, count_i: int per label, its user and item members (original ids).

    Returns:
        `(graph, super_of_node)`: the `SuperGraph` (super-node k is the k-th smallest label) and int `[n]`
        giving each current node's super-node.

    Example (a path 0-1-2-3, labels {0, 1} and {2, 3}: one edge between the two super-nodes):

    >>> import numpy as np, scipy.sparse as sp
    >>> path = sp.csr_matrix(np.eye(4, k=1) + np.eye(4, k=-1))
    >>> labels = np.array([0, 0, 2, 2])
    >>> graph, super_of_node = contract(path, labels, np.array([1., 0, 0, 0]), np.array([0., 0, 1, 0]),
    ...                                 np.array([1, 0, 1, 0]), np.array([1, 0, 1, 0]))
    >>> super_of_node.tolist(), graph.indices.tolist(), graph.data.tolist(), graph.vol_i.tolist()
    ([0, 0, 1, 1], [1, 0], [1.0, 1.0], [0.0, 1.0])
    """
    unique, super_of_node = np.unique(labels, return_inverse=True)
    size = unique.size
    member = sp.csr_matrix((np.ones(labels.size), (np.arange(labels.size), super_of_node)),
                           shape=(labels.size, size))
    summed = (member.T @ adjacency @ member).tocoo()
    off_diagonal = summed.row != summed.col  # edges inside a label are dropped (see the module docstring)
    summed = sp.csr_matrix((summed.data[off_diagonal], (summed.row[off_diagonal], summed.col[off_diagonal])),
                           shape=(size, size))
    summed.sort_indices()
    graph = SuperGraph(summed.indptr.astype(np.int64), summed.indices.astype(np.int64),
                       summed.data.astype(np.float64), vol_u[unique].astype(np.float64),
                       vol_i[unique].astype(np.float64), count_u[unique].astype(np.int64),
                       count_i[unique].astype(np.int64))
    return graph, super_of_node.astype(np.int64)


@numba.njit(cache=True)
def move_members(count, source, target, amount, rows):  # pragma: no cover - compiled
    """Moves `amount` members of one side from label `source` to `target`; returns the updated row count
    (a label holding members of a side is one codebook row of that side)."""
    if amount == 0:
        return rows
    count[source] -= amount
    if count[source] == 0:
        rows -= 1
    if count[target] == 0:
        rows += 1
    count[target] += amount
    return rows


@numba.njit(cache=True)
def count_neighbour_labels(indptr, indices, data, labels, x, scratch, touched):  # pragma: no cover - compiled
    """Adds each edge weight of `x` to `scratch[label of the neighbour]`; lists each label once in `touched`
    (the caller zeroes `scratch` at those labels afterwards); returns how many labels were touched."""
    num_touched = 0
    for p in range(indptr[x], indptr[x + 1]):
        label = labels[indices[p]]
        if scratch[label] == 0.0:
            touched[num_touched] = label
            num_touched += 1
        scratch[label] += data[p]
    return num_touched


@numba.njit(cache=True)
def sweep_super_nodes(indptr, indices, data, order, labels, node_vu, node_vi, node_cu, node_ci, vol_u, vol_i,
                      count_u, count_i, rows, gamma, scratch, touched, stop_rows):  # pragma: no cover - compiled
    """One pass moving super-nodes in `order` to their best neighbouring label (strict gains only).

    `labels`, `vol_u`, `vol_i`, `count_u`, `count_i` (per label) are updated in place. Stops right after the
    move that brings the rows (labels holding users + labels holding items) to `stop_rows` or below (-1: a
    full pass). Returns the rows and the number of moves.
    """
    moves = 0
    for x in order:
        if indptr[x] == indptr[x + 1]:
            continue
        current = labels[x]
        num_touched = count_neighbour_labels(indptr, indices, data, labels, x, scratch, touched)
        vu = node_vu[x]
        vi = node_vi[x]
        best = current
        best_gain = scratch[current] - gamma * (vu * (vol_i[current] - vi) + vi * (vol_u[current] - vu))
        for t in range(num_touched):
            label = touched[t]
            if label == current:
                continue
            gain = scratch[label] - gamma * (vu * vol_i[label] + vi * vol_u[label])
            if gain > best_gain:
                best = label
                best_gain = gain
        for t in range(num_touched):
            scratch[touched[t]] = 0.0
        if best == current:
            continue
        moves += 1
        labels[x] = best
        vol_u[current] -= vu
        vol_u[best] += vu
        vol_i[current] -= vi
        vol_i[best] += vi
        rows = move_members(count_u, current, best, node_cu[x], rows)
        rows = move_members(count_i, current, best, node_ci[x], rows)
        if rows <= stop_rows:
            break
    return rows, moves
