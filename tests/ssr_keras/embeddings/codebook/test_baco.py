import math

import numpy as np
import pytest

from ssr_keras.embeddings.codebook import NO_CODE, fit_baco
from ssr_keras.embeddings.codebook.baco import node_weights


def _random_graph(seed, num_users=40, num_items=30, num_edges=200):
    rng = np.random.default_rng(seed)
    edges = np.stack([rng.integers(0, num_users, num_edges), rng.integers(0, num_items, num_edges)], axis=1)
    return edges, num_users, num_items


def _reference(edges, num_users, num_items, budget, gamma, iterations, seed):
    """Plain-Python BACO sweeps (dicts and loops), the same visiting orders, no early stop inside a sweep."""
    pairs = sorted({(int(u), int(i)) for u, i in edges})
    num_nodes = num_users + num_items
    neighbours = [[] for _ in range(num_nodes)]
    for u, i in pairs:
        neighbours[u].append(num_users + i)
        neighbours[num_users + i].append(u)
    neighbours = [sorted(n) for n in neighbours]
    user_degree = np.array([len(neighbours[u]) for u in range(num_users)])
    item_degree = np.array([len(neighbours[num_users + i]) for i in range(num_items)])
    weights = node_weights(user_degree, item_degree, "baco")
    labels = list(range(num_nodes))
    for side in (range(num_users), range(num_users, num_nodes)):
        isolated = [x for x in side if not neighbours[x]]
        for x in isolated:
            labels[x] = isolated[0]
    vol_u = [0.0] * num_nodes
    vol_i = [0.0] * num_nodes
    for x in range(num_nodes):
        (vol_u if x < num_users else vol_i)[labels[x]] += weights[x]
        (vol_i if x < num_users else vol_u)[x] += weights[x]  # the reference code's "both" initialisation

    def rows():
        return len({labels[u] for u in range(num_users)}) + len({labels[num_users + i] for i in range(num_items)})

    def q():
        inside = sum(labels[u] == labels[num_users + i] for u, i in pairs)
        return inside - gamma * sum(a * b for a, b in zip(vol_u, vol_i))

    trace = [q()]
    rng = np.random.default_rng(seed)
    for _ in range(iterations):
        if rows() <= budget:
            break
        for x in rng.permutation(num_nodes):
            if not neighbours[x]:
                continue
            counts = {}
            for y in neighbours[x]:
                counts[labels[y]] = counts.get(labels[y], 0) + 1
            opposite = vol_i if x < num_users else vol_u
            own = vol_u if x < num_users else vol_i
            best = labels[x]
            best_gain = counts.get(best, 0) - gamma * weights[x] * opposite[best]
            for label, count in counts.items():
                gain = count - gamma * weights[x] * opposite[label]
                if gain > best_gain:
                    best, best_gain = label, gain
            own[labels[x]] -= weights[x]
            own[best] += weights[x]
            labels[x] = best
        trace.append(q())
    user_labels = {labels[u] for u in range(num_users)}
    secondary = []
    for x in range(num_users):
        counts = {}
        for y in neighbours[x]:
            counts[labels[y]] = counts.get(labels[y], 0) + 1
        best, best_gain = -1, -np.inf
        for label, count in counts.items():
            gain = count - gamma * weights[x] * (vol_i[label] - vol_i[labels[x]])
            if label != labels[x] and label in user_labels and gain > best_gain:
                best, best_gain = label, gain
        secondary.append(best)
    return labels, trace, secondary


def test_matches_a_plain_python_reference():
    edges, num_users, num_items = _random_graph(0)
    result = fit_baco(edges, num_users, num_items, budget=30, gamma=0.5, iterations=3, stop_within_sweep=False,
                      seed=7)
    labels, trace, secondary = _reference(edges, num_users, num_items, 30, 0.5, 3, seed=7)
    assert result.params["sweeps"] == 3 and result.params["folded"] == 0
    np.testing.assert_allclose(result.objective, trace, rtol=1e-9, atol=1e-9)
    # Same partition of users and of items (codes are renumbered).
    _, expected_users = np.unique(labels[:num_users], return_inverse=True)
    _, expected_items = np.unique(labels[num_users:], return_inverse=True)
    np.testing.assert_array_equal(result.user_codes[:, 0], expected_users)
    np.testing.assert_array_equal(result.item_codes, expected_items)
    user_label_values = np.unique(labels[:num_users])
    expected_secondary = [-1 if s < 0 else int(np.searchsorted(user_label_values, s)) for s in secondary]
    assert result.user_codes[:, 1].tolist() == expected_secondary
    assert result.num_secondary > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_deterministic_for_a_seed(seed):
    edges, num_users, num_items = _random_graph(3)
    first = fit_baco(edges, num_users, num_items, budget=0.3, gamma=0.2, seed=seed)
    second = fit_baco(edges, num_users, num_items, budget=0.3, gamma=0.2, seed=seed)
    assert first == second
    assert first.objective == second.objective


@pytest.mark.parametrize("budget", [2, 10, 25, 0.5])
def test_respects_the_budget_and_codes_every_id(budget):
    edges, num_users, num_items = _random_graph(4)
    result = fit_baco(edges, num_users, num_items, budget=budget, gamma=0.3, iterations=2, seed=0)
    rows = budget if isinstance(budget, int) else int(budget * (num_users + num_items))
    assert result.num_rows <= rows
    assert result.user_codes.shape == (num_users, 2) and result.item_codes.shape == (num_items,)
    assert np.all(result.user_codes[:, 0] >= 0) and np.all(result.item_codes >= 0)
    # Every code is used as a primary code.
    assert np.unique(result.user_codes[:, 0]).size == result.num_user_codes
    assert np.unique(result.item_codes).size == result.num_item_codes


def test_secondary_codes_differ_from_primary():
    edges, num_users, num_items = _random_graph(5)
    result = fit_baco(edges, num_users, num_items, budget=0.4, gamma=0.2, seed=0)
    secondary = result.user_codes[:, 1]
    has = secondary != NO_CODE
    assert has.any()
    assert np.all(secondary[has] != result.user_codes[has, 0])
    assert np.all(secondary[has] < result.num_user_codes)


def test_two_disconnected_bicliques_give_two_blocks():
    block = np.array([(u, i) for u in range(5) for i in range(4)])
    edges = np.concatenate([block, block + [5, 4]])
    result = fit_baco(edges, num_users=10, num_items=8, budget=4, gamma=0.1, seed=3)
    assert result.num_user_codes == 2 and result.num_item_codes == 2
    users, items = result.user_codes[:, 0], result.item_codes
    assert len(set(users[:5])) == 1 and len(set(users[5:])) == 1 and users[0] != users[5]
    assert len(set(items[:4])) == 1 and len(set(items[4:])) == 1 and items[0] != items[4]
    # No other block of users is reachable: no secondary code.
    assert np.all(result.user_codes[:, 1] == NO_CODE)


def test_objective_rises_over_the_sweeps():
    edges, num_users, num_items = _random_graph(6, 80, 60, 600)
    result = fit_baco(edges, num_users, num_items, budget=10, gamma=0.1, iterations=6, seed=0)
    trace = np.array(result.objective)
    assert len(trace) >= 3
    assert np.all(np.diff(trace) >= -1e-9)
    assert trace[-1] > trace[0]


def test_isolated_ids_share_one_code_per_side():
    edges = np.array([[0, 0], [1, 0], [1, 1]])
    result = fit_baco(edges, num_users=5, num_items=4, budget=8, gamma=0.1, seed=0)
    assert len(set(result.user_codes[2:, 0])) == 1
    assert len(set(result.item_codes[2:])) == 1


@pytest.mark.parametrize("kwargs,match", [
    (dict(edges=[[-1, 0]]), r"edges\[0, 0\]=-1"),
    (dict(edges=[[0, 9]]), r"item ids must be in \[0, 3\).*edges\[0, 1\]=9"),
    (dict(edges=np.zeros((0, 2), np.int64)), r"at least one .*shape \(0, 2\)"),
    (dict(edges=[[0, 1, 2]]), r"\[num_edges, 2\].*shape \(1, 3\)"),
    (dict(budget=1), r"budget=1"),
    (dict(budget=0.01), r"budget=0.01"),
    (dict(budget=2.5), r"budget=2.5"),
    (dict(gamma=math.nan), r"gamma=nan"),
    (dict(gamma=math.inf), r"gamma=inf"),
    (dict(gamma=-1.0), r"gamma=-1.0"),
    (dict(num_users=0), r"num_users=0"),
    (dict(iterations=-1), r"iterations=-1"),
    (dict(weighting="tf-idf"), r"weighting='tf-idf'"),
    (dict(volume_init="none"), r"volume_init='none'"),
    (dict(seed=-3), r"seed=-3"),
    (dict(head_fraction=1.0), r"head_fraction=1.0"),
    (dict(head_fraction=-0.1), r"head_fraction=-0.1"),
])
def test_bad_input_raises_naming_argument_and_value(kwargs, match):
    arguments = dict(edges=[[0, 0], [1, 2]], num_users=2, num_items=3, budget=3, gamma=0.1)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        fit_baco(**arguments)


@pytest.mark.parametrize("budget", [10, 0.3])
def test_head_fraction_gives_the_most_frequent_ids_their_own_rows_and_clusters_the_tail(budget):
    edges, num_users, num_items = _random_graph(6)
    result = fit_baco(edges, num_users, num_items, budget=budget, gamma=0.3, head_fraction=0.5, seed=0)
    rows = budget if isinstance(budget, int) else int(budget * (num_users + num_items))
    assert result.num_rows <= rows
    head_users, head_items = result.params["head_users"], result.params["head_items"]
    assert head_users >= 1 and head_items >= 1
    unique = np.unique(edges, axis=0)
    user_degree = np.bincount(unique[:, 0], minlength=num_users)
    item_degree = np.bincount(unique[:, 1], minlength=num_items)
    # The head is the most frequent ids (ties by id), each alone on its row; no tail id shares those rows.
    top_users = np.lexsort((np.arange(num_users), -user_degree))[:head_users]
    top_items = np.lexsort((np.arange(num_items), -item_degree))[:head_items]
    assert sorted(result.user_codes[top_users, 0].tolist()) == list(range(head_users))
    assert sorted(result.item_codes[top_items].tolist()) == list(range(head_items))
    tail_users = np.setdiff1d(np.arange(num_users), top_users)
    assert np.all(result.user_codes[tail_users, 0] >= head_users)
    secondary = result.user_codes[tail_users, 1]
    assert np.all((secondary == NO_CODE) | (secondary >= head_users))
    assert np.all(np.delete(result.item_codes, top_items) >= head_items)


def test_head_fraction_zero_is_the_paper_form():
    edges, num_users, num_items = _random_graph(6)
    assert fit_baco(edges, num_users, num_items, budget=12, gamma=0.3, head_fraction=0.0, seed=1) == \
        fit_baco(edges, num_users, num_items, budget=12, gamma=0.3, seed=1)
