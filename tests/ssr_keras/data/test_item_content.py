"""Item content vectors: shapes, blocks, tag time filter (no future tags), bad input, real MovieLens."""

import numpy as np
import pytest

from ssr_keras.data.item_content import build_item_content, read_movielens_content, split_title

MOVIES = [(1, "Toy Story (1995)", "Adventure|Animation|Children"), (2, "Toy Story 2 (1999)", "Adventure|Animation"),
          (3, "Heat (1995)", "Action|Crime|Thriller"), (4, "Heat Wave (2010)", "Drama"),
          (5, "Untitled", "(no genres listed)"), (6, "Alien (1979)", "Horror|Sci-Fi")]


def test_titles_and_years():
    assert split_title("City of God (Cidade de Deus) (2002)") == ("City of God (Cidade de Deus)", 2002)
    assert split_title("Cosmos (1980-1981)") == ("Cosmos", 1980)
    assert split_title("Untitled") == ("Untitled", None)


def test_shape_order_and_similar_items_closer():
    content = build_item_content(MOVIES, dim=4)
    assert content.vectors.shape == (6, 4) and content.vectors.dtype == np.float32
    assert content.item_keys.tolist() == [1, 2, 3, 4, 5, 6]
    v = content.vectors
    cos = lambda a, b: a @ b / np.linalg.norm(a) / np.linalg.norm(b)  # noqa: E731
    assert cos(v[0], v[1]) > cos(v[0], v[5])  # the Toy Story films share title words and genres
    np.testing.assert_allclose(content.lookup([3, 1]), v[[2, 0]])


def test_tags_after_max_timestamp_are_ignored():
    tags = [(1, "pixar", 10), (6, "space", 20), (3, "pixar", 1000)]
    base = build_item_content(MOVIES, tags[:2], dim=4).vectors
    cut = build_item_content(MOVIES, tags, dim=4, max_timestamp=1000).vectors
    np.testing.assert_array_equal(base, cut)  # the tag at t = 1000 never reaches the vectors
    assert not np.allclose(build_item_content(MOVIES, tags, dim=4).vectors, base)


@pytest.mark.parametrize("kwargs,match", [({"dim": 6}, "dim=6"), ({"dim": 0}, "dim=0"),
                                          ({"block_weights": {"plot": 1.0}}, "'plot'"),
                                          ({"block_weights": {"tags": -1.0}}, "tags=-1.0")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_item_content(MOVIES, **{"dim": 4, **kwargs})


def test_bad_tag_timestamp_and_duplicates():
    with pytest.raises(ValueError, match="timestamp='soon'"):
        build_item_content(MOVIES, [(1, "x", "soon")], dim=4)
    with pytest.raises(ValueError, match="unique movie ids"):
        build_item_content(MOVIES + [(1, "Again (2000)", "Drama")], dim=4)
    with pytest.raises(ValueError, match="unknown keys"):
        build_item_content(MOVIES, dim=4).lookup([42])


def test_real_movielens(data_dir):
    content = read_movielens_content(data_dir / "movielens-latest-small", dim=32, max_timestamp=1458635171)
    assert content.vectors.shape == (9742, 32)
    assert np.isfinite(content.vectors).all()
    np.testing.assert_allclose(content.vectors.mean(0), 0.0, atol=1e-4)
