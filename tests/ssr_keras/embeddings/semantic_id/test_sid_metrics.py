"""Codebook perplexity, collision counts and collision breaking on crafted code sets."""

import numpy as np
import pytest

from ssr_keras.embeddings.semantic_id import codebook_perplexity, collision_stats, disambiguate_collisions


def test_collision_count_on_crafted_set():
    codes = np.array([[0, 1, 2], [0, 1, 2], [0, 1, 2], [1, 1, 2], [1, 1, 3], [1, 1, 3], [4, 0, 0]])
    stats = collision_stats(codes)
    assert stats == {"num_items": 7, "num_unique_sids": 4, "num_colliding_items": 5,
                     "collision_rate": 5 / 7, "max_group_size": 3}


def test_no_collisions_and_empty():
    assert collision_stats(np.eye(3, dtype=int))["num_colliding_items"] == 0
    assert collision_stats(np.zeros((0, 2), int))["collision_rate"] == 0.0


def test_disambiguation_makes_ids_unique_and_keeps_prefix():
    codes = np.array([[0, 1], [0, 1], [2, 3], [0, 1], [2, 3]])
    unique = disambiguate_collisions(codes)
    np.testing.assert_array_equal(unique[:, :2], codes)
    np.testing.assert_array_equal(unique[:, 2], [0, 1, 0, 2, 1])
    assert collision_stats(unique)["num_colliding_items"] == 0


def test_perplexity_matches_numpy_entropy():
    codes = np.array([[0, 0], [0, 1], [1, 2], [1, 3], [0, 3], [0, 3]])
    p0 = np.array([4, 2]) / 6
    p1 = np.array([1, 1, 1, 3]) / 6
    expected = [np.exp(-(p0 * np.log(p0)).sum()), np.exp(-(p1 * np.log(p1)).sum())]
    np.testing.assert_allclose(codebook_perplexity(codes, 4), expected)
    np.testing.assert_allclose(codebook_perplexity(np.zeros((5, 1), int), 4), [1.0])


def test_bad_codes():
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        codebook_perplexity(np.array([[5]]), 4)
    with pytest.raises(ValueError, match="integer array"):
        collision_stats(np.zeros(3))
