"""Baseline codebook assignments at a row budget, behind the same interface as `fit_baco`.

* `fit_random_hash`: every id hashed (a seeded random balanced assignment) into its side's rows;
* `fit_frequency_hash`: the most frequent ids keep their own rows, the tail is hashed into the rest;
* `fit_louvain`: Louvain communities of the bipartite graph (`networkx.community.louvain_communities`),
  with the resolution searched so the communities fit the budget (GraphHash-style).

The rows are split between users and items in proportion to their id counts (hashing methods); graph
methods let the clustering decide. `fit_codebook(method, ...)` dispatches by name.

Example:

>>> import numpy as np
>>> edges = np.array([[0, 0], [0, 1], [1, 1], [2, 2], [3, 2]])
>>> result = fit_codebook("frequency-hash", edges, num_users=4, num_items=3, budget=4, seed=0)
>>> result.num_rows <= 4, result.user_codes.shape
(True, (4, 2))
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict

import networkx as nx
import numpy as np

from ssr_keras.embeddings.codebook._budget import compact, fold_to_budget
from ssr_keras.embeddings.codebook._head import check_head_fraction, frequent_head
from ssr_keras.embeddings.codebook._inputs import (
    check_count,
    check_edges,
    check_seed,
    interaction_matrix,
    resolve_budget,
    split_budget,
)
from ssr_keras.embeddings.codebook.assignment import NO_CODE, CodebookAssignment
from ssr_keras.embeddings.codebook.baco import fit_baco

# Share of a side's rows that frequency hashing gives to its most frequent ids (the rest hash the tail).
HEAD_FRACTION = 0.5
# Louvain's resolution is searched geometrically in [low, high] for the most communities within budget.
LOUVAIN_RESOLUTION_RANGE = (1e-3, 1e3)
LOUVAIN_SEARCH_STEPS = 12


def _inputs(edges, num_users, num_items, budget, seed):
    num_users = check_count("num_users", num_users)
    num_items = check_count("num_items", num_items)
    edges = check_edges(edges, num_users, num_items)
    return edges, num_users, num_items, resolve_budget(budget, num_users, num_items), check_seed(seed)


def _balanced_hash(count: int, buckets: int, rng: np.random.Generator) -> np.ndarray:
    """A seeded random assignment of `count` ids to `buckets` codes, every code used (sizes differ by <= 1)."""
    return (rng.permutation(count) % buckets).astype(np.int64)


def fit_random_hash(edges: Any, num_users: int, num_items: int, budget: float = 0.25,
                    seed: int = 0) -> CodebookAssignment:
    """Random ID hashing: each side's ids spread uniformly at random over its share of the rows.

    Args:
        edges: int `[E, 2]` training (user id, item id) pairs (only validated: hashing ignores the graph).
        num_users: user id count.
        num_items: item id count.
        budget: rows (int >= 2) or a fraction in (0, 1) of `num_users + num_items`.
        seed: seeds the hash.
    """
    started = time.perf_counter()
    edges, num_users, num_items, rows, seed = _inputs(edges, num_users, num_items, budget, seed)
    rng = np.random.default_rng(seed)
    user_rows, item_rows = split_budget(rows, num_users, num_items)
    users = _balanced_hash(num_users, user_rows, rng)
    items = _balanced_hash(num_items, item_rows, rng)
    params = {"budget": rows, "seed": seed, "seconds": time.perf_counter() - started}
    return CodebookAssignment("random-hash", users, items, user_rows, item_rows, [], params)


def _frequency_codes(counts: np.ndarray, rows: int, head_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """The head's most frequent ids get codes 0..head-1, the others hash into the remaining rows."""
    if rows >= counts.size:
        return np.arange(counts.size, dtype=np.int64)
    head, tail = frequent_head(counts, rows, head_fraction)
    codes = np.empty(counts.size, np.int64)
    codes[head] = np.arange(head.size)
    codes[tail] = head.size + _balanced_hash(tail.size, rows - head.size, rng)
    return codes


def fit_frequency_hash(edges: Any, num_users: int, num_items: int, budget: float = 0.25, seed: int = 0,
                       head_fraction: float = HEAD_FRACTION) -> CodebookAssignment:
    """Frequency hashing: the most frequent ids of each side keep their own rows, the tail shares the rest.

    Args:
        edges: int `[E, 2]` training (user id, item id) pairs (frequencies are counted on them).
        num_users: user id count.
        num_items: item id count.
        budget: rows (int >= 2) or a fraction in (0, 1) of `num_users + num_items`.
        seed: seeds the tail hash.
        head_fraction: share in [0, 1) of each side's rows for the head ids.
    """
    started = time.perf_counter()
    edges, num_users, num_items, rows, seed = _inputs(edges, num_users, num_items, budget, seed)
    head_fraction = check_head_fraction(head_fraction)
    rng = np.random.default_rng(seed)
    matrix = interaction_matrix(edges, num_users, num_items)
    user_rows, item_rows = split_budget(rows, num_users, num_items)
    users = _frequency_codes(np.diff(matrix.indptr), user_rows, head_fraction, rng)
    items = _frequency_codes(np.bincount(matrix.indices, minlength=num_items), item_rows, head_fraction, rng)
    params = {"budget": rows, "seed": seed, "head_fraction": float(head_fraction),
              "seconds": time.perf_counter() - started}
    return CodebookAssignment("frequency-hash", users, items, int(users.max()) + 1, int(items.max()) + 1, [],
                              params)


def _louvain_labels(graph: nx.Graph, num_nodes: int, resolution: float, seed: int) -> np.ndarray:
    labels = np.empty(num_nodes, np.int64)
    for community, members in enumerate(nx.community.louvain_communities(graph, resolution=resolution,
                                                                         seed=seed)):
        labels[list(members)] = community
    return labels


def _side_rows(labels: np.ndarray, num_users: int) -> int:
    return int(np.unique(labels[:num_users]).size + np.unique(labels[num_users:]).size)


def fit_louvain(edges: Any, num_users: int, num_items: int, budget: float = 0.25, seed: int = 0,
                resolution: float | None = None) -> CodebookAssignment:
    """Louvain communities of the user-item graph (networkx), one code per community and side.

    Isolated users share one code, as do isolated items. With `resolution=None` the resolution is searched
    (geometric bisection, `LOUVAIN_SEARCH_STEPS` Louvain runs) for the most codebook rows within the budget;
    any excess left is folded away like `fit_baco` does.

    Args:
        edges: int `[E, 2]` training (user id, item id) pairs.
        num_users: user id count.
        num_items: item id count.
        budget: rows (int >= 2) or a fraction in (0, 1) of `num_users + num_items`.
        seed: seeds Louvain and the fallback fold.
        resolution: a fixed Louvain resolution (> 0) instead of the search.
    """
    started = time.perf_counter()
    edges, num_users, num_items, rows, seed = _inputs(edges, num_users, num_items, budget, seed)
    if resolution is not None and (isinstance(resolution, bool) or not isinstance(resolution, (int, float))
                                   or not np.isfinite(resolution) or resolution <= 0):
        raise ValueError(f"`resolution` must be a finite number > 0 or None. Received: resolution={resolution!r}")
    matrix = interaction_matrix(edges, num_users, num_items)
    users, items = matrix.nonzero()
    num_nodes = num_users + num_items
    graph = nx.Graph()
    graph.add_nodes_from(range(num_nodes))
    graph.add_edges_from(zip(users.tolist(), (items + num_users).tolist()))
    isolated = np.concatenate([np.diff(matrix.indptr), np.bincount(matrix.indices, minlength=num_items)]) == 0
    graph.remove_nodes_from(np.flatnonzero(isolated).tolist())

    def labels_at(value: float) -> np.ndarray:
        labels = np.full(num_nodes, -1, np.int64)
        nodes = np.flatnonzero(~isolated)
        found = _louvain_labels(graph, num_nodes, value, seed)
        labels[nodes] = found[nodes]
        # Isolated users share one label, isolated items another.
        labels[np.flatnonzero(isolated[:num_users])] = num_nodes
        labels[num_users + np.flatnonzero(isolated[num_users:])] = num_nodes + 1
        return labels

    trials = []
    if resolution is not None:
        best = labels_at(float(resolution))
        trials.append((float(resolution), _side_rows(best, num_users)))
    else:
        low, high = LOUVAIN_RESOLUTION_RANGE
        best, best_rows = None, -1
        for _ in range(LOUVAIN_SEARCH_STEPS):
            middle = float(np.sqrt(low * high))
            labels = labels_at(middle)
            found_rows = _side_rows(labels, num_users)
            trials.append((middle, found_rows))
            if found_rows <= rows:
                if found_rows > best_rows:
                    best, best_rows = labels, found_rows
                low = middle
            else:
                high = middle
            if best_rows == rows:
                break
        if best is None:
            best = labels_at(low)
    user_codes, num_user_codes = compact(best[:num_users])
    item_codes, num_item_codes = compact(best[num_users:])
    user_codes = np.stack([user_codes, np.full(num_users, NO_CODE, np.int64)], axis=1)
    user_codes, num_user_codes, item_codes, num_item_codes, folded = fold_to_budget(
        user_codes, num_user_codes, item_codes, num_item_codes, rows, np.random.default_rng(seed))
    params = {"budget": rows, "seed": seed, "resolution_trials": trials, "folded": folded,
              "seconds": time.perf_counter() - started}
    return CodebookAssignment("louvain", user_codes, item_codes, num_user_codes, num_item_codes, [], params)


METHODS: Dict[str, Callable[..., CodebookAssignment]] = {
    "baco": fit_baco,
    "random-hash": fit_random_hash,
    "frequency-hash": fit_frequency_hash,
    "louvain": fit_louvain,
}


def fit_codebook(method: str, edges: Any, num_users: int, num_items: int, budget: float = 0.25, seed: int = 0,
                 **kwargs) -> CodebookAssignment:
    """Runs codebook method `method` (a key of `METHODS`) with its own extra `kwargs`."""
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {sorted(METHODS)}. Received: method={method!r}")
    return METHODS[method](edges, num_users, num_items, budget=budget, seed=seed, **kwargs)
