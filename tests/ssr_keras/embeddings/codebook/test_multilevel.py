import numpy as np
import pytest
import scipy.sparse as sp

from ssr_keras.embeddings.codebook import NO_CODE, fit_baco
from ssr_keras.embeddings.codebook._multilevel import contract, sweep_super_nodes


def _random_graph(seed, num_users=60, num_items=40, num_edges=300):
    rng = np.random.default_rng(seed)
    edges = np.stack([rng.integers(0, num_users, num_edges), rng.integers(0, num_items, num_edges)], axis=1)
    return edges, num_users, num_items


def _random_super_graph(seed, size=12):
    """A symmetric weighted graph without self-loops and random per-node volumes and member counts."""
    rng = np.random.default_rng(seed)
    dense = np.triu(rng.integers(0, 3, (size, size)) * (rng.random((size, size)) < 0.4), 1).astype(float)
    dense = dense + dense.T
    vol_u, vol_i = rng.random(size), rng.random(size)
    count_u, count_i = rng.integers(0, 3, size), rng.integers(0, 3, size)
    count_u[(count_u == 0) & (count_i == 0)] = 1
    return dense, vol_u, vol_i, count_u, count_i


def _q(dense, labels, vol_u, vol_i, gamma):
    """Q from scratch: edges inside a label (each once) - gamma * sum_l vU(l) vI(l)."""
    inside = sum(dense[x, y] for x in range(len(labels)) for y in range(x + 1, len(labels))
                 if labels[x] == labels[y])
    return inside - gamma * sum(vol_u[labels == label].sum() * vol_i[labels == label].sum()
                                for label in np.unique(labels))


def test_contract_matches_a_dense_numpy_reference():
    dense, vol_u, vol_i, count_u, count_i = _random_super_graph(0, size=9)
    labels = np.array([4, 4, 0, 7, 0, 4, 2, 7, 2])
    label_vol_u, label_vol_i = np.zeros(9), np.zeros(9)
    np.add.at(label_vol_u, labels, vol_u)
    np.add.at(label_vol_i, labels, vol_i)
    label_count_u, label_count_i = np.bincount(labels, count_u, 9), np.bincount(labels, count_i, 9)
    graph, super_of_node = contract(sp.csr_matrix(dense), labels, label_vol_u, label_vol_i,
                                    label_count_u.astype(int), label_count_i.astype(int))
    unique = [0, 2, 4, 7]
    assert super_of_node.tolist() == [unique.index(label) for label in labels]
    expected = np.array([[dense[np.ix_(labels == a, labels == b)].sum() for b in unique] for a in unique])
    np.fill_diagonal(expected, 0.0)
    adjacency = sp.csr_matrix((graph.data, graph.indices, graph.indptr), shape=(4, 4)).toarray()
    np.testing.assert_allclose(adjacency, expected)
    np.testing.assert_allclose(graph.vol_u, [vol_u[labels == label].sum() for label in unique])
    np.testing.assert_allclose(graph.vol_i, [vol_i[labels == label].sum() for label in unique])
    assert graph.count_u.tolist() == [int(count_u[labels == label].sum()) for label in unique]
    assert graph.count_i.tolist() == [int(count_i[labels == label].sum()) for label in unique]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_super_node_sweep_matches_a_plain_python_reference_and_raises_q(seed):
    dense, vol_u, vol_i, count_u, count_i = _random_super_graph(seed)
    size, gamma = len(vol_u), 0.7
    order = np.random.default_rng(seed).permutation(size)
    # Plain Python: move each node to the label maximising Q, computed from scratch (strict improvements).
    expected = np.arange(size)
    for x in order:
        best, best_q = expected[x], _q(dense, expected, vol_u, vol_i, gamma)
        for label in sorted({expected[y] for y in np.flatnonzero(dense[x])}):
            trial = expected.copy()
            trial[x] = label
            value = _q(dense, trial, vol_u, vol_i, gamma)
            if value > best_q + 1e-12:
                best, best_q = label, value
        expected[x] = best
    matrix = sp.csr_matrix(dense)
    labels = np.arange(size, dtype=np.int64)
    label_vol_u, label_vol_i = vol_u.copy(), vol_i.copy()
    label_count_u, label_count_i = count_u.astype(np.int64), count_i.astype(np.int64)
    rows = int(np.count_nonzero(label_count_u) + np.count_nonzero(label_count_i))
    rows, moves = sweep_super_nodes(matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64), matrix.data,
                                    order.astype(np.int64), labels, vol_u, vol_i, count_u.astype(np.int64),
                                    count_i.astype(np.int64), label_vol_u, label_vol_i, label_count_u,
                                    label_count_i, rows, gamma, np.zeros(size), np.zeros(size, np.int64), -1)
    assert moves > 0
    # Both pick the best label by the same objective (the gains differ from Q only by a per-node constant).
    _, ours = np.unique(labels, return_inverse=True)
    _, theirs = np.unique(expected, return_inverse=True)
    np.testing.assert_array_equal(ours, theirs)
    # The incrementally kept volumes, counts and rows equal their values from scratch.
    np.testing.assert_allclose(label_vol_u, np.bincount(labels, vol_u, size), atol=1e-12)
    np.testing.assert_allclose(label_vol_i, np.bincount(labels, vol_i, size), atol=1e-12)
    assert label_count_u.tolist() == np.bincount(labels, count_u, size).astype(int).tolist()
    assert rows == np.unique(labels[count_u > 0]).size + np.unique(labels[count_i > 0]).size
    assert _q(dense, labels, vol_u, vol_i, gamma) > _q(dense, np.arange(size), vol_u, vol_i, gamma)


@pytest.mark.parametrize("seed", [0, 1])
def test_objective_never_decreases_across_levels(seed):
    edges, num_users, num_items = _random_graph(seed)
    result = fit_baco(edges, num_users, num_items, budget=12, gamma=8.0, iterations=3, levels=4, seed=seed)
    assert result.params["levels_used"] >= 2
    assert len(result.objective) == result.params["sweeps"] + 1
    assert np.all(np.diff(result.objective) >= -1e-9)
    assert result.objective[-1] > result.objective[0]


def test_multilevel_reaches_a_budget_the_single_level_stalls_above():
    edges, num_users, num_items = _random_graph(7, 200, 150, 1500)
    single = fit_baco(edges, num_users, num_items, budget=0.2, gamma=0.5, iterations=20, seed=0)
    multi = fit_baco(edges, num_users, num_items, budget=0.2, gamma=0.5, iterations=20, levels=5, seed=0)
    assert single.params["folded"] > 0  # single-node moves stalled: the rest was folded at random
    assert multi.params["folded"] == 0 and multi.params["levels_used"] >= 2
    assert multi.num_rows == 70  # stops at the move that meets the budget (0.2 of 350 ids)


@pytest.mark.parametrize("budget", [2, 9, 30, 0.4])
def test_multilevel_respects_the_budget_and_codes_every_id(budget):
    edges, num_users, num_items = _random_graph(4)
    result = fit_baco(edges, num_users, num_items, budget=budget, gamma=2.0, iterations=3, levels=6, seed=0)
    rows = budget if isinstance(budget, int) else int(budget * (num_users + num_items))
    assert result.num_rows <= rows
    assert np.unique(result.user_codes[:, 0]).size == result.num_user_codes
    assert np.unique(result.item_codes).size == result.num_item_codes
    secondary = result.user_codes[:, 1]
    assert np.all(secondary[secondary != NO_CODE] != result.user_codes[secondary != NO_CODE, 0])


def test_multilevel_finds_two_disconnected_bicliques():
    block = np.array([(u, i) for u in range(5) for i in range(4)])
    edges = np.concatenate([block, block + [5, 4]])
    # One sweep per level: the first leaves 5 rows, the second level merges the last super-node into its block.
    result = fit_baco(edges, num_users=10, num_items=8, budget=4, gamma=0.1, iterations=1, levels=5, seed=3)
    users, items = result.user_codes[:, 0], result.item_codes
    assert result.params["sweeps_per_level"] == [1, 1] and result.params["folded"] == 0
    assert result.num_user_codes == 2 and result.num_item_codes == 2
    assert len(set(users[:5])) == 1 and len(set(users[5:])) == 1 and users[0] != users[5]
    assert len(set(items[:4])) == 1 and len(set(items[4:])) == 1 and items[0] != items[4]


def test_multilevel_is_deterministic_and_one_level_is_the_paper_form():
    edges, num_users, num_items = _random_graph(5)
    first = fit_baco(edges, num_users, num_items, budget=15, gamma=4.0, levels=3, seed=2)
    again = fit_baco(edges, num_users, num_items, budget=15, gamma=4.0, levels=3, seed=2)
    assert first == again and first.objective == again.objective
    default = fit_baco(edges, num_users, num_items, budget=15, gamma=4.0, seed=2)
    assert fit_baco(edges, num_users, num_items, budget=15, gamma=4.0, levels=1, seed=2) == default
    assert default.params["levels_used"] == 1


@pytest.mark.parametrize("levels", [0, -2, 1.5])
def test_bad_levels_raise_naming_the_value(levels):
    with pytest.raises(ValueError, match=f"levels={levels}"):
        fit_baco([[0, 0], [1, 1]], 2, 2, budget=2, levels=levels)
