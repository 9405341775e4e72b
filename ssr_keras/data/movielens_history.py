"""A time-split CTR task with user histories and item maturity from MovieLens ml-latest-small.

Every rating is an *event*: the user was exposed to the movie (chose and watched it). Its label is
`rating >= positive_threshold` (default 4, i.e. the user liked it; about 48 % of ml-latest-small's
ratings), so negatives are real exposures the user did not like, not sampled unseen items.

Split: events before `valid_time` train, those in `[valid_time, test_time)` validate, the rest test
(defaults: the 80 % and 90 % quantiles of the timestamps; an event at a cut time goes to the later
split, as in `ssr_keras.data.movielens`). Every feature of an event is computed from interactions
strictly *before* that event's timestamp, so no training example sees anything at or after
`valid_time`.

Features of an event at time `t` by user `u` on item `i`:

* `user`: the user id (training-window vocabulary, most frequent first, `OOV_ID` 0 for new users);
* `item`: the item's *catalog id* (below);
* `history`: the catalog ids of `u`'s last `history_length` liked items before `t`, most recent
  first, padded with `PADDING_ID` -1 (the "clicks" a CTR ranker conditions on). Default N = 20: on
  ml-latest-small the median training event has 67 earlier likes and 75 % have at least 22, so 20
  fills the history for most events while keeping the attention cheap and focused on recent taste;
* `maturity` float32 `[4]`: `log1p` of (days since `i`'s first interaction before `t`, 0 if none;
  `i`'s interactions in the `window_days` before `t` (exposures); `i`'s likes in that window
  (clicks); all of `i`'s interactions before `t`);
* `user_stats` float32 `[2]`: `log1p(u's events before t)` and `u`'s smoothed past like rate
  `(likes + 1) / (events + 2)` (users differ a lot in how often they like what they rate, and most
  users of the later splits are new: this is the part of "who is the user" that transfers);
* `is_cold`: `i` has no interaction in the training window, or its first interaction is less than
  `cold_days` days before `t` (ml-latest-small has only ~100k ratings over 22 years, so the cohort
  window is in days of the item's own history, like GateSID's "listed under 20 days");
* `label`, `timestamp`.

Catalog ids (the one id scheme of `ssr_keras.data.ids`, extended to content-only items): the items
rated at least `min_item_count` times in the training window get ids `1..num_known_items`, most
frequent first (ties by movie id); every other catalogue movie (rarer, or known by its content only)
gets `num_known_items + 1 ..` by movie id. An ID-embedding table has `num_known_items + 1` rows and
maps larger ids to `OOV_ID`, whose row is thus trained on the rare items (default `min_item_count`
2: 2,445 items rated once in the training window); a semantic-ID table covers all catalog ids.

Example:

>>> events = {"user": [1, 1, 2, 2], "item": [10, 20, 10, 30], "rating": [5, 2, 4, 5],
...           "timestamp": [0, 86400, 2 * 86400, 3 * 86400]}
>>> data = build_history_ctr(events, catalog=[10, 20, 30], valid_time=2 * 86400, test_time=3 * 86400,
...                          history_length=2, min_item_count=1)
>>> {name: len(split["label"]) for name, split in data.splits.items()}
{'train': 2, 'valid': 1, 'test': 1}
>>> data.catalog_keys.tolist(), data.num_known_items
([-1, 10, 20, 30], 2)
"""

from __future__ import annotations

import csv
import dataclasses
import os
from typing import Dict, Mapping, Sequence, Tuple

import numpy as np

from ssr_keras.data.ids import OOV_ID, PADDING_ID

SPLITS = ("train", "valid", "test")
MATURITY_FEATURES = ("log_age_days", "log_recent_exposures", "log_recent_clicks", "log_past_exposures")
USER_STATS_FEATURES = ("log_past_events", "past_like_rate")
SECONDS_PER_DAY = 86400


@dataclasses.dataclass(frozen=True)
class HistoryCTRData:
    """The task's three splits and id maps.

    Attributes:
        splits: `"train"`, `"valid"`, `"test"` -> dict of arrays `user` int64 `[n]`, `item` int64 `[n]`
            (catalog ids), `history` int64 `[n, history_length]`, `maturity` float32 `[n, 4]`,
            `user_stats` float32 `[n, 2]`,
            `label` float32 `[n]`, `is_cold` bool `[n]`, `timestamp` int64 `[n]`.
        catalog_keys: int64 `[num_catalog_ids]`: the movie id of each catalog id (`-1` at `OOV_ID`).
        num_known_items: catalog ids `1..num_known_items` were rated in the training window.
        num_users: rows of a user table (training-window users + the OOV bucket).
        valid_time / test_time: the cut timestamps.
        user_keys: int64 `[num_users]`: the raw user id of each user id (`-1` at `OOV_ID`).
    """

    splits: Dict[str, Dict[str, np.ndarray]]
    catalog_keys: np.ndarray
    num_known_items: int
    num_users: int
    valid_time: int
    test_time: int
    user_keys: np.ndarray = dataclasses.field(default_factory=lambda: np.array([-1], np.int64))


@dataclasses.dataclass(frozen=True)
class EventLog:
    """Every event of each key (a raw movie or user id), by key: what a served model counts maturity from.

    Built from the training window only (`event_log`), it is frozen into an export
    (`ssr_keras.export.export_history_ranker`), which computes `MATURITY_FEATURES` / `USER_STATS_FEATURES`
    of a request at its timestamp from it, as `maturity_at` / `user_stats_at` do here.

    Attributes:
        keys: int64 `[K]` sorted unique keys.
        row_splits: int64 `[K + 1]`: key `keys[k]` owns events `row_splits[k]:row_splits[k + 1]`.
        times: int64 `[E]` event timestamps, sorted within each key.
        liked: bool `[E]` whether each event is positive.
    """

    keys: np.ndarray
    row_splits: np.ndarray
    times: np.ndarray
    liked: np.ndarray


def event_log(keys: Sequence[int], times: Sequence[int], liked: Sequence[bool]) -> EventLog:
    """Groups events by key, each key's events sorted by time.

    >>> log = event_log([7, 3, 7], [50, 10, 20], [True, False, False])
    >>> log.keys.tolist(), log.row_splits.tolist(), log.times.tolist()
    ([3, 7], [0, 1, 3], [10, 20, 50])
    """
    keys, times = np.asarray(keys, np.int64), parse_timestamps(np.asarray(times))
    liked = np.asarray(liked, bool)
    order = np.lexsort((times, keys))
    unique, counts = np.unique(keys, return_counts=True)
    return EventLog(unique, np.concatenate([[0], np.cumsum(counts)]).astype(np.int64), times[order], liked[order])


def _past_events(log: EventLog, keys: Sequence[int], times: Sequence[int]):
    """Per query `(key, t)`: its key's event times and liked flags strictly before `t`."""
    keys, times = np.asarray(keys, np.int64), np.asarray(times, np.int64)
    rows = np.searchsorted(log.keys, keys)
    found = (rows < len(log.keys)) & (log.keys[np.minimum(rows, len(log.keys) - 1)] == keys) if len(log.keys) \
        else np.zeros(len(keys), bool)
    for key_found, row, t in zip(found, rows, times):
        if not key_found:
            yield np.zeros(0, np.int64), np.zeros(0, bool), t
            continue
        event_times = log.times[log.row_splits[row]:log.row_splits[row + 1]]
        event_liked = log.liked[log.row_splits[row]:log.row_splits[row + 1]]
        before = event_times < t
        yield event_times[before], event_liked[before], t


def maturity_at(log: EventLog, keys: Sequence[int], times: Sequence[int], window_days: float = 30.0) -> np.ndarray:
    """`MATURITY_FEATURES` float32 `[n, 4]` of items `keys` at `times`, from the events in `log` before each time.

    On a training event, with `log` the training window's item events, this equals the task's own
    `maturity` feature (all its past events are in the window).
    """
    window = int(window_days * SECONDS_PER_DAY)
    rows = []
    for past_times, past_liked, t in _past_events(log, keys, times):
        recent = past_times >= t - window
        age = (t - past_times.min()) / SECONDS_PER_DAY if len(past_times) else 0.0
        rows.append([age, recent.sum(), past_liked[recent].sum(), len(past_times)])
    return np.log1p(np.asarray(rows, np.float64).reshape(-1, len(MATURITY_FEATURES))).astype(np.float32)


def user_stats_at(log: EventLog, keys: Sequence[int], times: Sequence[int]) -> np.ndarray:
    """`USER_STATS_FEATURES` float32 `[n, 2]` of users `keys` at `times`, from the events in `log` before each time."""
    rows = [[np.log1p(len(past_times)), (past_liked.sum() + 1.0) / (len(past_times) + 2.0)]
            for past_times, past_liked, _ in _past_events(log, keys, times)]
    return np.asarray(rows, np.float64).reshape(-1, len(USER_STATS_FEATURES)).astype(np.float32)


def training_users(train_users: Sequence[int]) -> np.ndarray:
    """`user_keys` (raw user id of each user id, `-1` at `OOV_ID`) of the training window's users.

    >>> training_users([5, 9, 9]).tolist()
    [-1, 9, 5]
    """
    user_ids = _frequency_vocabulary(np.asarray(train_users, np.int64))
    user_keys = np.full(len(user_ids) + 1, -1, np.int64)
    for key, index in user_ids.items():
        user_keys[index] = key
    return user_keys


def training_catalog(train_items: Sequence[int], catalog: Sequence[int], min_item_count: int = 2
                     ) -> Tuple[np.ndarray, int]:
    """Catalog ids from the training window's rated items (`catalog_keys`, `num_known_items`; module docstring).

    >>> keys, known = training_catalog([30, 10, 30], catalog=[10, 20, 30], min_item_count=1)
    >>> keys.tolist(), known
    ([-1, 30, 10, 20], 2)
    """
    train_items = np.asarray(train_items, np.int64)
    catalog = np.unique(np.asarray(catalog, np.int64))
    train_keys, train_counts = np.unique(train_items, return_counts=True)
    frequent = train_keys[train_counts >= min_item_count]
    item_ids = _frequency_vocabulary(train_items[np.isin(train_items, frequent)])
    num_known = len(item_ids)
    for key in catalog[~np.isin(catalog, frequent)]:
        item_ids[int(key)] = len(item_ids) + 1
    catalog_keys = np.full(len(item_ids) + 1, -1, np.int64)
    for key, index in item_ids.items():
        catalog_keys[index] = key
    return catalog_keys, num_known


def parse_timestamps(values: Sequence, name: str = "timestamp") -> np.ndarray:
    """Integer seconds since the epoch as int64; raises ValueError on unparsable or negative values.

    >>> parse_timestamps(["964982703", 5]).tolist()
    [964982703, 5]
    """
    out = np.empty(len(values), np.int64)
    for row, value in enumerate(values):
        try:
            number = float(value)
            if not np.isfinite(number) or number != int(number):
                raise ValueError
            out[row] = int(number)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"`{name}` must hold integer seconds since the epoch. Received: {value!r} "
                             f"at row {row}") from None
        if out[row] < 0:
            raise ValueError(f"`{name}` must not precede the epoch (1970-01-01). Received: {value!r} at row {row}")
    return out


def time_cuts(timestamps: np.ndarray, valid_quantile: float = 0.8, test_quantile: float = 0.9) -> Tuple[int, int]:
    """The cut timestamps at the given quantiles of `timestamps` (events at a cut go to the later split)."""
    if not 0 < valid_quantile < test_quantile < 1:
        raise ValueError(f"quantiles must satisfy 0 < valid_quantile < test_quantile < 1. Received: "
                         f"valid_quantile={valid_quantile!r}, test_quantile={test_quantile!r}")
    ordered = np.sort(np.asarray(timestamps, np.int64))
    return int(ordered[int(valid_quantile * len(ordered))]), int(ordered[int(test_quantile * len(ordered))])


def _frequency_vocabulary(values: np.ndarray) -> Dict[int, int]:
    """value -> id 1..n, most frequent first, ties by value (`ssr_keras.data.ids`)."""
    uniques, counts = np.unique(values, return_counts=True)
    order = np.lexsort((uniques, -counts))
    return {int(uniques[i]): rank + 1 for rank, i in enumerate(order)}


def _maturity(item: np.ndarray, time: np.ndarray, liked: np.ndarray, window: int) -> np.ndarray:
    """`MATURITY_FEATURES` of every event from the same item's strictly earlier events."""
    features = np.zeros((len(item), len(MATURITY_FEATURES)), np.float32)
    order = np.lexsort((time, item))
    bounds = np.flatnonzero(np.diff(item[order])) + 1
    for group in np.split(order, bounds):
        times = time[group]  # sorted
        liked_cum = np.concatenate([[0], np.cumsum(liked[group])])
        past = np.searchsorted(times, times, side="left")  # events strictly before
        recent_start = np.searchsorted(times, times - window, side="left")
        age = np.where(past > 0, (times - times[0]) / SECONDS_PER_DAY, 0.0)
        features[group] = np.log1p(np.stack(
            [age, past - recent_start, liked_cum[past] - liked_cum[recent_start], past], axis=1))
    return features


def _user_stats(user: np.ndarray, time: np.ndarray, liked: np.ndarray) -> np.ndarray:
    """`USER_STATS_FEATURES` of every event from the same user's strictly earlier events."""
    stats = np.zeros((len(user), len(USER_STATS_FEATURES)), np.float32)
    order = np.lexsort((time, user))
    bounds = np.flatnonzero(np.diff(user[order])) + 1
    for group in np.split(order, bounds):
        times = time[group]
        liked_cum = np.concatenate([[0], np.cumsum(liked[group])])
        past = np.searchsorted(times, times, side="left")
        stats[group] = np.stack([np.log1p(past), (liked_cum[past] + 1.0) / (past + 2.0)], axis=1)
    return stats


def _histories(user: np.ndarray, item: np.ndarray, time: np.ndarray, liked: np.ndarray,
               length: int) -> np.ndarray:
    """Each event's user's last `length` liked catalog items strictly before it, most recent first."""
    history = np.full((len(user), length), PADDING_ID, np.int64)
    order = np.lexsort((item, time, user))
    bounds = np.flatnonzero(np.diff(user[order])) + 1
    for group in np.split(order, bounds):
        positives = group[liked[group]]
        pos_items, pos_times = item[positives], time[positives]
        count = np.searchsorted(pos_times, time[group], side="left")
        for event, n in zip(group, count):
            recent = pos_items[max(0, n - length):n][::-1]
            history[event, :len(recent)] = recent
    return history


def build_history_ctr(events: Mapping[str, Sequence], catalog: Sequence[int], valid_time: int | None = None,
                      test_time: int | None = None, history_length: int = 20, cold_days: float = 30.0,
                      window_days: float = 30.0, positive_threshold: float = 4.0,
                      min_item_count: int = 2) -> HistoryCTRData:
    """Builds the task from rating events.

    Args:
        events: `user`, `item` (raw movie ids), `rating`, `timestamp` (integer seconds) sequences.
        catalog: raw ids of every item with content (movies.csv); every rated item must be in it.
        valid_time / test_time: cut timestamps (default `time_cuts` at 80 % / 90 %).
        history_length: N, the liked items kept per history.
        cold_days: D of the cold-item rule.
        window_days: the "recent" window of the exposure/click counts.
        positive_threshold: ratings at or above it are positive.
        min_item_count: training-window ratings an item needs for an ID of its own (`1..num_known_items`).

    Raises:
        ValueError: unequal lengths, a bad timestamp (unparsable, fractional, before the epoch),
            `valid_time > test_time`, a non-positive `history_length`, or a rated item missing from `catalog`.
    """
    missing = [k for k in ("user", "item", "rating", "timestamp") if k not in events]
    if missing:
        raise ValueError(f"`events` must have user, item, rating and timestamp. Received keys: {sorted(events)}")
    time = parse_timestamps(events["timestamp"])
    user = np.asarray(events["user"], np.int64)
    item = np.asarray(events["item"], np.int64)
    rating = np.asarray(events["rating"], np.float64)
    if not len(user) == len(item) == len(rating) == len(time) > 0:
        raise ValueError(f"`events` columns must be non-empty and of equal length. Received lengths: "
                         f"{[len(user), len(item), len(rating), len(time)]}")
    if isinstance(history_length, bool) or not isinstance(history_length, (int, np.integer)) or history_length < 1:
        raise ValueError(f"`history_length` must be a positive integer. Received: history_length={history_length!r}")
    for name, value in (("cold_days", cold_days), ("window_days", window_days)):
        if not value > 0:
            raise ValueError(f"`{name}` must be > 0. Received: {name}={value!r}")
    default_cuts = time_cuts(time)
    valid_time = default_cuts[0] if valid_time is None else int(parse_timestamps([valid_time], "valid_time")[0])
    test_time = default_cuts[1] if test_time is None else int(parse_timestamps([test_time], "test_time")[0])
    if valid_time > test_time:
        raise ValueError(f"`valid_time` must not exceed `test_time`. Received: valid_time={valid_time}, "
                         f"test_time={test_time}")
    catalog = np.unique(np.asarray(catalog, np.int64))
    unknown = np.setdiff1d(item, catalog)
    if len(unknown):
        raise ValueError(f"every rated item must be in `catalog`. Received items missing from it: "
                         f"{unknown[:5].tolist()}")

    if isinstance(min_item_count, bool) or not isinstance(min_item_count, (int, np.integer)) or min_item_count < 1:
        raise ValueError(f"`min_item_count` must be a positive integer. Received: min_item_count={min_item_count!r}")
    train = time < valid_time
    train_keys = np.unique(item[train])
    catalog_keys, num_known = training_catalog(item[train], catalog, min_item_count)
    item_ids = {int(key): index for index, key in enumerate(catalog_keys) if index != OOV_ID}
    user_keys = training_users(user[train])
    user_ids = {int(key): index for index, key in enumerate(user_keys) if index != OOV_ID}

    catalog_item = np.array([item_ids[int(k)] for k in item], np.int64)
    liked = rating >= positive_threshold
    maturity = _maturity(catalog_item, time, liked, int(window_days * SECONDS_PER_DAY))
    history = _histories(user, catalog_item, time, liked, history_length)
    user_stats = _user_stats(user, time, liked)
    first_seen = {}
    for key, t in zip(catalog_item[np.argsort(time, kind="stable")], np.sort(time, kind="stable")):
        first_seen.setdefault(int(key), int(t))
    age_days = (time - np.array([first_seen[int(k)] for k in catalog_item])) / SECONDS_PER_DAY
    is_cold = ~np.isin(item, train_keys) | (age_days < cold_days)

    splits = {}
    for name, rows in zip(SPLITS, (train, (time >= valid_time) & (time < test_time), time >= test_time)):
        index = np.flatnonzero(rows)
        index = index[np.argsort(time[index], kind="stable")]
        splits[name] = {
            "user": np.array([user_ids.get(int(u), OOV_ID) for u in user[index]], np.int64),
            "item": catalog_item[index], "history": history[index], "maturity": maturity[index],
            "user_stats": user_stats[index],
            "label": liked[index].astype(np.float32), "is_cold": is_cold[index], "timestamp": time[index]}
    return HistoryCTRData(splits, catalog_keys, num_known, len(user_ids) + 1, valid_time, test_time, user_keys)


def read_movielens_history(data_dir: str | os.PathLike, **kwargs) -> HistoryCTRData:
    """`build_history_ctr` on `ratings.csv` with `movies.csv` as the catalogue of an ml-latest-small folder.

    Example:

    >>> data = read_movielens_history("../shared/data/movielens-latest-small")  # doctest: +SKIP
    """
    data_dir = os.fspath(data_dir)
    paths = {name: os.path.join(data_dir, f"{name}.csv") for name in ("ratings", "movies")}
    for path in paths.values():
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} not found: expected an unzipped ml-latest-small folder.")
    with open(paths["ratings"], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with open(paths["movies"], newline="", encoding="utf-8") as f:
        catalog = [int(r["movieId"]) for r in csv.DictReader(f)]
    events = {"user": [int(r["userId"]) for r in rows], "item": [int(r["movieId"]) for r in rows],
              "rating": [float(r["rating"]) for r in rows], "timestamp": [r["timestamp"] for r in rows]}
    return build_history_ctr(events, catalog, **kwargs)
