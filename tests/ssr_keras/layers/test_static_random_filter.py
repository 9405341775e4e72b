import numpy as np
import pytest
import tf_keras as keras

from ssr_keras import StaticRandomFilter
from ssr_keras.layers.static_random_filter import draw_view_indices


def test_gathers_each_views_indices():
    layer = StaticRandomFilter(num_views=4, view_dim=6, seed=11)
    x = np.arange(2 * 20, dtype="float32").reshape(2, 20)
    y = layer(x).numpy()
    indices = layer.indices.numpy()
    assert y.shape == (2, 4, 6)
    np.testing.assert_array_equal(y, x[:, indices])
    # Batch-last in and out: a flat input as [1, D, B], or a previous block's [V_in, d_in, B] views
    # (input dimension v * d_in + k is views[v, k]).
    expected = np.transpose(x[:, indices], [1, 2, 0])
    np.testing.assert_array_equal(layer(x.T[np.newaxis], batch_last=True).numpy(), expected)
    views_in = np.transpose(x.reshape(2, 5, 4), [1, 2, 0])
    np.testing.assert_array_equal(layer(views_in, batch_last=True).numpy(), expected)


def test_indices_distinct_within_view_and_in_range():
    drawn = draw_view_indices(input_dim=50, num_views=16, view_dim=40, seed=3)
    for view in drawn:
        assert len(set(view.tolist())) == 40
        assert view.min() >= 0 and view.max() < 50


def test_indices_deterministic_by_seed_and_differ_across_seeds():
    def build(seed):
        layer = StaticRandomFilter(num_views=8, view_dim=10, seed=seed)
        layer.build((None, 64))
        return layer.indices.numpy()

    np.testing.assert_array_equal(build(5), build(5))
    assert not np.array_equal(build(5), build(6))
    views = build(5)
    assert not all(np.array_equal(views[0], v) for v in views[1:])  # views draw independently


def test_indices_are_not_trained():
    layer = StaticRandomFilter(num_views=2, view_dim=3, seed=0)
    layer.build((None, 8))
    assert layer.trainable_weights == []
    assert [w.name.split("/")[-1] for w in layer.non_trainable_weights] == ["indices:0"]


def test_full_width_view_is_a_permutation():
    layer = StaticRandomFilter(num_views=3, view_dim=9, seed=1)
    layer.build((None, 9))
    for view in layer.indices.numpy():
        np.testing.assert_array_equal(np.sort(view), np.arange(9))


@pytest.mark.parametrize("kwargs,name", [
    ({"num_views": 0, "view_dim": 3}, "num_views"),
    ({"num_views": -2, "view_dim": 3}, "num_views"),
    ({"num_views": 2.5, "view_dim": 3}, "num_views"),
    ({"num_views": 2, "view_dim": 0}, "view_dim"),
    ({"num_views": 2, "view_dim": True}, "view_dim"),
    ({"num_views": 2, "view_dim": 3, "seed": -1}, "seed"),
    ({"num_views": 2, "view_dim": 3, "seed": "a"}, "seed"),
])
def test_invalid_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        StaticRandomFilter(**kwargs)


def test_view_dim_larger_than_input_names_view_dim_and_width():
    with pytest.raises(ValueError, match=r"view_dim.*D=8.*view_dim=9"):
        StaticRandomFilter(num_views=2, view_dim=9)(np.zeros((1, 8), "float32"))


def test_unknown_input_width_raises():
    layer = StaticRandomFilter(num_views=2, view_dim=3)
    with pytest.raises(ValueError, match="D known"):
        layer(keras.Input(shape=(None,)))


def test_rejects_non_flat_input():
    with pytest.raises(ValueError, match=r"\[batch, D\]"):
        StaticRandomFilter(num_views=2, view_dim=3)(np.zeros((1, 2, 8), "float32"))
