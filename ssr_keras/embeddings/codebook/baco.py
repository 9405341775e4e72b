"""BACO: balanced co-clustering of users and items into shared codebook rows.

Jiang, Yang, Wu, "BACO: Balanced Co-Clustering of Users and Items for Embedding Table Compression",
SIGIR 2026, arXiv:2604.18351. Implemented from the method's equations (no code copied).

Users and items are the two sides of the bipartite interaction graph. Every node x has a weight w_x and a
label (cluster); each label l has a user volume `vol_U(l)` and an item volume `vol_I(l)` (sums of the
members' weights). Label-propagation sweeps visit the nodes in a random order and move node x to the label

    argmax_l  e(x, l) - gamma * w_x * vol_opp(l)

among its neighbours' labels and its own, where `e(x, l)` counts x's edges into l and `vol_opp` is the
volume of the opposite side (`vol_I` for a user). A move is made only if it strictly raises this gain, and
the gain difference is exactly the change of the objective

    Q = sum_l [ edges inside l - gamma * vol_U(l) * vol_I(l) ],

so Q never decreases over the sweeps (`CodebookAssignment.objective`). Sweeps stop early once the number of
distinct user labels plus distinct item labels is within the row budget. Each user then gets a secondary
label: the best other neighbouring label holding users, scored `e(x, l) - gamma * w_x * (vol_I(l) -
vol_I(label(x)))`; the model embeds such a user as the mean of its two codebook rows. User labels and item
labels are finally numbered separately: two codebooks, `num_user_codes + num_item_codes` rows.

`levels > 1` is our extension of the paper, not part of it (see `_multilevel`): when a level's sweeps stall
(no move, or the rows fall by less than `STALL_FRACTION` in a sweep) or use up `iterations` while still above
the budget, every label is contracted into a super-node (its volumes, member counts and summed edges) and the
same move rule, with the same objective Q, continues on the contracted graph, Louvain-style, so whole clusters
can merge. Q never decreases across levels either; `levels=1` (the default) is the paper's single level.

The sweeps are sequential (each move changes the next node's gains), so they run in numba over CSR arrays;
everything else is vectorised NumPy/SciPy.
"""

from __future__ import annotations

import functools
import time
from typing import Any, Tuple

import numba
import numpy as np
import scipy.sparse as sp

from ssr_keras.embeddings.codebook._budget import compact, fold_to_budget
from ssr_keras.embeddings.codebook._head import check_head_fraction, fit_tail_with_own_head_rows
from ssr_keras.embeddings.codebook._inputs import (
    check_count,
    check_edges,
    check_gamma,
    check_seed,
    interaction_matrix,
    resolve_budget,
)
from ssr_keras.embeddings.codebook._multilevel import (
    contract,
    count_neighbour_labels,
    single_nodes,
    sweep_super_nodes,
)
from ssr_keras.embeddings.codebook.assignment import NO_CODE, CodebookAssignment
from ssr_keras.validation import check_non_negative_int

# The paper's resolution for Amazon Beauty; at most this many sweeps (the paper runs 5, which can stop short of
# the budget here: Beauty at 8,650 rows needs 5-6 sweeps depending on the seed).
BEAUTY_GAMMA = 0.1308
DEFAULT_ITERATIONS = 10
# Node weights: (user scheme, item scheme). Every scheme is value_x / sqrt(sum of the side's value), except
# "baco", the reference code's form: users degree / sqrt(sum of user degrees), items degree / sqrt(num items).
WEIGHTINGS = ("baco", "degree", "cpm")
# How a singleton label's volumes start: "both" (the reference code: the node's weight on both sides, so an
# item's first label also has a user volume) or "own" (only the node's own side).
VOLUME_INITS = ("both", "own")
# Multilevel (`levels > 1`): a level has stalled when a sweep lowers the rows by less than this fraction.
STALL_FRACTION = 0.01


def node_weights(user_degree: np.ndarray, item_degree: np.ndarray, weighting: str) -> np.ndarray:
    """Weights of the users then the items under `weighting` (one of `WEIGHTINGS`)."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"`weighting` must be one of {WEIGHTINGS}. Received: weighting={weighting!r}")
    user_degree = user_degree.astype(np.float64)
    item_degree = item_degree.astype(np.float64)
    if weighting == "cpm":
        users = np.ones_like(user_degree) / np.sqrt(user_degree.size)
        items = np.ones_like(item_degree) / np.sqrt(item_degree.size)
    elif weighting == "degree":
        users = user_degree / np.sqrt(user_degree.sum())
        items = item_degree / np.sqrt(item_degree.sum())
    else:
        users = user_degree / np.sqrt(user_degree.sum())
        items = item_degree / np.sqrt(item_degree.size)
    return np.concatenate([users, items])


@numba.njit(cache=True)
def _secondary_labels(indptr, indices, data, labels, weights, num_users, vol_i, count_u, gamma, scratch,
                      touched):  # pragma: no cover - compiled
    """Each user's best neighbouring label other than its own that holds users, or -1."""
    secondary = np.full(num_users, -1, np.int64)
    for x in range(num_users):
        current = labels[x]
        num_touched = count_neighbour_labels(indptr, indices, data, labels, x, scratch, touched)
        penalty = gamma * weights[x]
        best = -1
        best_gain = -np.inf
        for t in range(num_touched):
            label = touched[t]
            if label != current and count_u[label] > 0:
                gain = scratch[label] - penalty * (vol_i[label] - vol_i[current])
                if gain > best_gain:
                    best = label
                    best_gain = gain
            scratch[label] = 0.0
        secondary[x] = best
    return secondary


def objective(user_labels: np.ndarray, item_labels: np.ndarray, edges: np.ndarray, vol_u: np.ndarray,
              vol_i: np.ndarray, gamma: float) -> float:
    """`Q = #edges inside a label - gamma * sum_l vol_U(l) * vol_I(l)` (each distinct edge counted once)."""
    inside = np.count_nonzero(user_labels[edges[:, 0]] == item_labels[edges[:, 1]])
    return float(inside - gamma * np.dot(vol_u, vol_i))


def _initial_labels(user_degree: np.ndarray, item_degree: np.ndarray) -> np.ndarray:
    """Every node its own label, except that isolated users share one label and isolated items another."""
    degree = np.concatenate([user_degree, item_degree])
    labels = np.arange(degree.size, dtype=np.int64)
    num_users = user_degree.size
    for lo, hi in ((0, num_users), (num_users, degree.size)):
        isolated = lo + np.flatnonzero(degree[lo:hi] == 0)
        if isolated.size:
            labels[isolated] = isolated[0]
    return labels


def fit_baco(edges: Any, num_users: int, num_items: int, budget: float = 0.25, gamma: float = BEAUTY_GAMMA,
             iterations: int = DEFAULT_ITERATIONS, weighting: str = "baco", volume_init: str = "both",
             secondary: bool = True, stop_within_sweep: bool = True, levels: int = 1,
             head_fraction: float = 0.0, seed: int = 0) -> CodebookAssignment:
    """Co-clusters users and items into at most `budget` codebook rows (see the module docstring).

    Args:
        edges: int `[E, 2]` (user id, item id) training interactions, ids 0-based (duplicates count once).
        num_users: user ids are `0..num_users-1` (users without edges share one code).
        num_items: item ids are `0..num_items-1` (items without edges share one code).
        budget: codebook rows (int >= 2) or a fraction in (0, 1) of `num_users + num_items`.
        gamma: resolution (>= 0, finite); larger values give more, smaller clusters. The paper uses 0.1308
            on Beauty, 7.57 on Gowalla, 5.501 on Yelp2018, 4.733 on AmazonBook.
        iterations: most label-propagation sweeps per level (the paper runs 5); they stop once within the
            budget. If the budget is still exceeded afterwards, the smallest clusters are folded into random
            kept clusters of the same side (`params["folded"]` counts them; raise `iterations` or `levels`,
            or lower `gamma`, to avoid it).
        weighting: node weights, one of `WEIGHTINGS` (see there).
        volume_init: one of `VOLUME_INITS` (see there).
        secondary: give users a secondary code.
        stop_within_sweep: stop at the very move that meets the budget (so the codebook uses close to all
            of it); False checks only between sweeps, like the reference code (fewer rows than allowed).
        levels: most levels (>= 1). 1 is the paper's single-level BACO; more contracts the labels into
            super-nodes when a level stalls above the budget and continues on them (our extension: see the
            module docstring). `params["levels_used"]` and `params["sweeps_per_level"]` report what ran.
        head_fraction: share in [0, 1) of each side's rows kept for its most frequent ids, one row each, as
            frequency hashing does; only the rest is co-clustered, on the interactions between the other users
            and items (our extension; 0, the default, is the paper's form). On Frappe CTR with SSR-D at 25% of
            the rows, 0.5 ties frequency hashing where plain BACO falls behind it (README).
        seed: seeds the sweep orders (and the fallback fold); the result is deterministic for a seed.

    Returns:
        A `CodebookAssignment` with `objective` = [Q at the start, Q after each sweep] and `params` holding
        the arguments, the rows after each sweep, the sweeps run and the seconds taken.

    Example:

    >>> import numpy as np
    >>> block = np.array([(u, i) for u in range(3) for i in range(3)])
    >>> edges = np.concatenate([block, block + 3])  # two disconnected 3x3 bicliques
    >>> result = fit_baco(edges, num_users=6, num_items=6, budget=4, gamma=0.1, secondary=False)
    >>> result.user_codes[:, 0].tolist(), result.item_codes.tolist()
    ([0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1])
    >>> multilevel = fit_baco(edges, num_users=6, num_items=6, budget=4, gamma=0.1, iterations=1, levels=3)
    >>> multilevel.num_rows, multilevel.params["folded"]
    (4, 0)
    """
    started = time.perf_counter()
    num_users = check_count("num_users", num_users)
    num_items = check_count("num_items", num_items)
    edges = check_edges(edges, num_users, num_items)
    rows_allowed = resolve_budget(budget, num_users, num_items)
    gamma = check_gamma(gamma)
    iterations = check_non_negative_int("iterations", iterations)
    levels = check_non_negative_int("levels", levels)
    if levels < 1:
        raise ValueError(f"`levels` must be an integer >= 1. Received: levels={levels!r}")
    if volume_init not in VOLUME_INITS:
        raise ValueError(f"`volume_init` must be one of {VOLUME_INITS}. Received: volume_init={volume_init!r}")
    seed = check_seed(seed)
    # The clustering's settings, once: recorded in `params`, and what the tail is clustered with under a head.
    settings = {"gamma": gamma, "iterations": iterations, "weighting": weighting, "volume_init": volume_init,
                "secondary": bool(secondary), "stop_within_sweep": bool(stop_within_sweep), "levels": levels,
                "seed": seed}
    head_fraction = check_head_fraction(head_fraction)
    if head_fraction:
        return fit_tail_with_own_head_rows(functools.partial(fit_baco, **settings), edges, num_users, num_items,
                                           rows_allowed, head_fraction)

    matrix = interaction_matrix(edges, num_users, num_items)
    unique_edges = np.stack(matrix.nonzero(), axis=1).astype(np.int64)
    user_degree = np.diff(matrix.indptr)
    item_degree = np.bincount(matrix.indices, minlength=num_items)
    weights = node_weights(user_degree, item_degree, weighting)
    num_nodes = num_users + num_items
    # The bipartite adjacency [[0, R], [R^T, 0]] in CSR, neighbours of a node in id order.
    indptr, indices = _bipartite_csr(matrix)

    labels = _initial_labels(user_degree, item_degree)
    is_user = np.arange(num_nodes) < num_users
    vol_u = np.bincount(labels, weights=np.where(is_user, weights, 0.0), minlength=num_nodes)
    vol_i = np.bincount(labels, weights=np.where(is_user, 0.0, weights), minlength=num_nodes)
    if volume_init == "both":
        # Each node's own first label also gets its weight on the opposite side (reference-code parity).
        vol_u[~is_user] += weights[~is_user]
        vol_i[is_user] += weights[is_user]
    count_u = np.bincount(labels[:num_users], minlength=num_nodes).astype(np.int64)
    count_i = np.bincount(labels[num_users:], minlength=num_nodes).astype(np.int64)
    rows = int(np.count_nonzero(count_u) + np.count_nonzero(count_i))
    scratch = np.zeros(num_nodes, np.float64)
    touched = np.zeros(num_nodes, np.int64)
    rng = np.random.default_rng(seed)

    trace = [objective(labels[:num_users], labels[num_users:], unique_edges, vol_u, vol_i, gamma)]
    rows_trace = [rows]
    stop_rows = rows_allowed if stop_within_sweep else -1
    sweeps_per_level = [0]
    level_moves = 0
    graph = first_level = single_nodes(indptr, indices, weights, num_users)  # contracted from level 2 on
    node_labels = labels  # original nodes' labels (level 1) or super-nodes' labels (later levels)
    super_of_node = np.arange(num_nodes, dtype=np.int64)  # each original node's current (super-)node
    while iterations > 0 and rows > rows_allowed:
        before = rows
        order = rng.permutation(graph.num_nodes).astype(np.int64)
        rows, moves = sweep_super_nodes(graph.indptr, graph.indices, graph.data, order, node_labels, graph.vol_u,
                                        graph.vol_i, graph.count_u, graph.count_i, vol_u, vol_i, count_u, count_i,
                                        rows, gamma, scratch, touched, stop_rows)
        labels = node_labels[super_of_node]
        sweeps_per_level[-1] += 1
        level_moves += moves
        trace.append(objective(labels[:num_users], labels[num_users:], unique_edges, vol_u, vol_i, gamma))
        rows_trace.append(int(rows))
        stalled = moves == 0 or (levels > 1 and before - rows < STALL_FRACTION * before)
        if rows <= rows_allowed or (not stalled and sweeps_per_level[-1] < iterations):
            continue
        if len(sweeps_per_level) >= levels or level_moves == 0:
            break  # out of levels, or this level moved nothing (contracting again would give the same graph)
        # Contract every label into a super-node and continue on the contracted graph.
        adjacency = sp.csr_matrix((graph.data, graph.indices, graph.indptr), shape=(graph.num_nodes,) * 2)
        graph, super_of_current = contract(adjacency, node_labels, vol_u, vol_i, count_u, count_i)
        super_of_node = super_of_current[super_of_node]
        node_labels = np.arange(graph.num_nodes, dtype=np.int64)
        vol_u, vol_i = graph.vol_u.copy(), graph.vol_i.copy()
        count_u, count_i = graph.count_u.copy(), graph.count_i.copy()
        sweeps_per_level.append(0)
        level_moves = 0
    sweeps = sum(sweeps_per_level)

    if secondary:
        second = _secondary_labels(indptr, indices, first_level.data, labels, weights, num_users, vol_i, count_u,
                                   gamma, scratch, touched)
    else:
        second = np.full(num_users, NO_CODE, np.int64)
    user_codes, num_user_codes, item_codes, num_item_codes = _codebooks(labels, second, num_users, num_nodes)
    user_codes, num_user_codes, item_codes, num_item_codes, folded = fold_to_budget(
        user_codes, num_user_codes, item_codes, num_item_codes, rows_allowed, rng)
    params = {"budget": rows_allowed, **settings, "sweeps": sweeps, "levels_used": len(sweeps_per_level),
              "sweeps_per_level": sweeps_per_level, "rows_per_sweep": rows_trace, "folded": folded,
              "seconds": time.perf_counter() - started}
    return CodebookAssignment("baco", user_codes, item_codes, num_user_codes, num_item_codes, trace, params)


def _bipartite_csr(matrix) -> Tuple[np.ndarray, np.ndarray]:
    """CSR (indptr, indices) of `[[0, R], [R^T, 0]]`: users 0..U-1, items U..U+I-1."""
    num_users, num_items = matrix.shape
    transpose = matrix.T.tocsr()
    indptr = np.concatenate([matrix.indptr, matrix.indptr[-1] + transpose.indptr[1:]]).astype(np.int64)
    indices = np.concatenate([matrix.indices + num_users, transpose.indices]).astype(np.int64)
    return indptr, indices


def _codebooks(labels: np.ndarray, second: np.ndarray, num_users: int,
               num_nodes: int) -> Tuple[np.ndarray, int, np.ndarray, int]:
    """Numbers the user labels and the item labels separately (secondary labels are user labels)."""
    user_labels = labels[:num_users]
    primary, num_user_codes = compact(user_labels)
    relabel = np.full(num_nodes, NO_CODE, np.int64)
    relabel[np.unique(user_labels)] = np.arange(num_user_codes)
    secondary = np.where(second == NO_CODE, NO_CODE, relabel[np.maximum(second, 0)])
    item_codes, num_item_codes = compact(labels[num_users:])
    return np.stack([primary, secondary], axis=1), num_user_codes, item_codes, num_item_codes
