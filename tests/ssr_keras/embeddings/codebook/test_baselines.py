import numpy as np
import pytest

from ssr_keras.embeddings.codebook import METHODS, NO_CODE, fit_codebook, fit_frequency_hash, fit_louvain


def _graph(seed=0, num_users=50, num_items=30, num_edges=300):
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, num_users, num_edges), rng.integers(0, num_items, num_edges)], 1), \
        num_users, num_items


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("budget", [2, 16, 0.25])
def test_every_method_respects_the_budget_and_codes_every_id(method, budget):
    edges, num_users, num_items = _graph()
    result = fit_codebook(method, edges, num_users, num_items, budget=budget, seed=0)
    rows = budget if isinstance(budget, int) else int(budget * (num_users + num_items))
    assert result.method == method
    assert 2 <= result.num_rows <= rows
    assert result.user_codes.shape == (num_users, 2) and result.item_codes.shape == (num_items,)
    assert result.user_codes[:, 0].min() >= 0 and result.item_codes.min() >= 0
    has = result.user_codes[:, 1] != NO_CODE
    assert np.all(result.user_codes[has, 1] != result.user_codes[has, 0])


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_is_deterministic_for_a_seed(method):
    edges, num_users, num_items = _graph(1)
    assert fit_codebook(method, edges, num_users, num_items, budget=20, seed=3) == \
        fit_codebook(method, edges, num_users, num_items, budget=20, seed=3)


def test_hashing_fills_the_budget_in_proportion_to_the_ids():
    edges, num_users, num_items = _graph()
    result = fit_codebook("random-hash", edges, num_users, num_items, budget=16)
    assert (result.num_user_codes, result.num_item_codes) == (10, 6)
    # Balanced buckets: sizes differ by at most one.
    sizes = np.bincount(result.user_codes[:, 0])
    assert sizes.max() - sizes.min() <= 1


def test_frequency_hash_keeps_the_most_frequent_ids_apart():
    edges = np.array([[0, 0]] * 5 + [[1, 1]] * 1 + [[2, 1], [3, 2], [4, 2], [4, 1], [5, 0]])
    result = fit_frequency_hash(edges, num_users=6, num_items=3, budget=6, head_fraction=0.5)
    users = result.user_codes[:, 0]
    # User rows: 6 * 6/9 = 4, two for the head: user 4 (3 edges... after dedup 2) keeps its own row.
    head = [u for u in range(6) if np.sum(users == users[u]) == 1]
    assert 4 in head


def test_louvain_separates_two_bicliques():
    block = np.array([(u, i) for u in range(5) for i in range(4)])
    edges = np.concatenate([block, block + [5, 4]])
    result = fit_louvain(edges, num_users=10, num_items=8, budget=4, seed=0)
    users, items = result.user_codes[:, 0], result.item_codes
    assert result.num_rows == 4
    assert len(set(users[:5])) == 1 and users[0] != users[5] and len(set(items[:4])) == 1 and items[0] != items[4]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_bad_input_names_argument_and_value(method):
    with pytest.raises(ValueError, match=r"budget=1\b"):
        fit_codebook(method, [[0, 0]], 2, 2, budget=1)
    with pytest.raises(ValueError, match=r"edges\[1, 0\]=-2"):
        fit_codebook(method, [[0, 0], [-2, 1]], 2, 2, budget=2)
    with pytest.raises(ValueError, match=r"shape \(0, 2\)"):
        fit_codebook(method, np.zeros((0, 2), int), 2, 2, budget=2)


def test_unknown_method():
    with pytest.raises(ValueError, match="method='leiden'"):
        fit_codebook("leiden", [[0, 0]], 1, 1, budget=2)
