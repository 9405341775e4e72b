"""The time-split CTR task: split, leakage, histories, maturity, cold rule, id scheme, bad timestamps."""

import numpy as np
import pytest

from ssr_keras.data.ids import PADDING_ID
from ssr_keras.data.movielens_history import build_history_ctr, parse_timestamps, read_movielens_history

DAY = 86400


def _events():
    # user, item, rating, day
    rows = [(1, 10, 5, 0), (1, 20, 4, 1), (2, 10, 2, 2), (1, 30, 5, 3), (2, 20, 5, 4), (3, 10, 4, 5),
            (2, 40, 5, 6), (1, 40, 1, 7), (3, 50, 5, 8), (2, 10, 4, 9)]
    u, i, r, d = zip(*rows)
    return {"user": list(u), "item": list(i), "rating": list(r), "timestamp": [x * DAY for x in d]}


def _build(events=None, **kwargs):
    config = dict(catalog=[10, 20, 30, 40, 50, 60], valid_time=6 * DAY, test_time=8 * DAY, history_length=2,
                  cold_days=2, window_days=3, min_item_count=1)
    config.update(kwargs)
    return build_history_ctr(events or _events(), **config)


def test_time_split_and_no_future_in_training():
    data = _build()
    train, valid, test = (data.splits[k] for k in ("train", "valid", "test"))
    assert train["timestamp"].max() < data.valid_time <= valid["timestamp"].min()
    assert valid["timestamp"].max() < data.test_time <= test["timestamp"].min()
    # Changing or adding interactions at/after the cut leaves every training example unchanged.
    events = _events()
    events["rating"][6:] = [1, 5, 1, 1]
    events["item"][6:] = [50, 10, 30, 20]
    for key, value in (("user", 3), ("item", 30), ("rating", 5), ("timestamp", 6 * DAY)):
        events[key].append(value)
    changed = _build(events)
    for key in train:
        np.testing.assert_array_equal(changed.splits["train"][key], train[key])


def test_histories_are_past_likes_most_recent_first():
    data = _build()
    train = data.splits["train"]
    catalog = {int(k): i for i, k in enumerate(data.catalog_keys)}
    # user 2 at day 4 (rates item 20): liked before: nothing (rated 10 with 2) -> empty
    row = np.flatnonzero(train["timestamp"] == 4 * DAY)[0]
    assert (train["history"][row] == PADDING_ID).all()
    # user 1 at day 3: liked 10 (day 0), 20 (day 1) -> [20, 10]
    row = np.flatnonzero(train["timestamp"] == 3 * DAY)[0]
    assert train["history"][row].tolist() == [catalog[20], catalog[10]]
    test = data.splits["test"]
    # user 2 at day 9: liked 20 (day 4), 40 (day 6): history keeps the last 2
    row = np.flatnonzero(test["timestamp"] == 9 * DAY)[0]
    assert test["history"][row].tolist() == [catalog[40], catalog[20]]


def test_maturity_from_strictly_past_interactions():
    data = _build()
    test = data.splits["test"]
    row = np.flatnonzero(test["timestamp"] == 9 * DAY)[0]  # item 10 at day 9: past at days 0, 2, 5
    age, recent, clicks, past = np.expm1(test["maturity"][row])
    np.testing.assert_allclose([age, recent, clicks, past], [9, 0, 0, 3], atol=1e-5)  # window 3 d: (6, 9] empty
    first = data.splits["train"]
    row = np.flatnonzero(first["timestamp"] == 0)[0]
    np.testing.assert_array_equal(first["maturity"][row], 0.0)  # first ever event: nothing before it
    row = np.flatnonzero(first["timestamp"] == 5 * DAY)[0]  # item 10 at day 5: days 0 (5), 2 (2) in the past
    np.testing.assert_allclose(np.expm1(first["maturity"][row]), [5, 1, 0, 2], atol=1e-5)


def test_cold_rule_and_catalog_ids():
    data = _build()
    # training window items: 10 (x3), 20 (x2), 30 (x1); 40, 50 first rated after the cut; 60 content-only
    assert data.num_known_items == 3
    assert data.catalog_keys.tolist() == [-1, 10, 20, 30, 40, 50, 60]
    test = data.splits["test"]
    by_day = dict(zip((test["timestamp"] // DAY).tolist(), test["is_cold"].tolist()))
    assert by_day == {8: True, 9: False}  # item 50 never in training; item 10 is 9 days old
    valid = data.splits["valid"]
    assert valid["is_cold"].tolist() == [True, True]  # item 40 is new (day 6), again 1 day old at day 7
    # min_item_count: items rated once in training (30) have no ID of their own.
    assert _build(min_item_count=2).num_known_items == 2
    assert _build(min_item_count=2).catalog_keys.tolist()[:3] == [-1, 10, 20]


@pytest.mark.parametrize("bad,match", [("yesterday", "'yesterday'"), (-5, "precede the epoch"),
                                       (1.5, "integer seconds"), (None, "None"), (float("nan"), "nan")])
def test_bad_timestamps_raise_clear_errors(bad, match):
    events = _events()
    events["timestamp"][3] = bad
    with pytest.raises(ValueError, match=match):
        _build(events)


def test_other_bad_input():
    with pytest.raises(ValueError, match="missing from it"):
        _build(catalog=[10, 20])
    with pytest.raises(ValueError, match="history_length=0"):
        _build(history_length=0)
    with pytest.raises(ValueError, match="valid_time"):
        _build(valid_time=9 * DAY, test_time=8 * DAY)
    assert parse_timestamps(["12", 13.0]).tolist() == [12, 13]


def test_real_movielens(data_dir):
    data = read_movielens_history(data_dir / "movielens-latest-small")
    sizes = {k: len(v["label"]) for k, v in data.splits.items()}
    assert sum(sizes.values()) == 100836 and sizes["train"] == 80668
    train = data.splits["train"]
    assert train["timestamp"].max() < data.valid_time
    assert train["history"].shape[1] == 20 and train["maturity"].shape[1] == 4
    assert 0.4 < train["label"].mean() < 0.6
    test = data.splits["test"]
    assert 0 < test["is_cold"].sum() < len(test["label"])
