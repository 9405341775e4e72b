"""`export_history_ranker`: a ranker with a behaviour history (GateSID) as a TF Serving SavedModel.

A request is a serialized `tf.Example` of raw values only; everything else is inside the SavedModel:

| feature     | type       | meaning                                                  | absent / unknown            |
|-------------|------------|----------------------------------------------------------|-----------------------------|
| `user`      | int64      | raw user id                                              | `OOV_ID` user (anonymous)   |
| `item`      | int64      | raw id of the item to score                              | required; unknown: `OOV_ID` |
| `history`   | int64 list | the user's past (liked) raw item ids, most recent *last* | empty: attends to nothing   |
| `timestamp` | int64      | the event time, integer seconds since the epoch          | required; < 0: invalid      |

Inside the graph (core TensorFlow ops only):

* raw item ids -> catalog ids (`ssr_keras.data.movielens_history`) through a hash table; an id outside
  the catalog maps to `OOV_ID` (its ID embedding is the OOV row, its semantic ID the fallback rows).
  Raw user ids -> user ids likewise;
* the history keeps its last `history_length` ids, reversed to most recent first and padded with -1,
  as the model was trained;
* the maturity features (`MATURITY_FEATURES`) and user statistics (`USER_STATS_FEATURES`) are
  computed *at the request's timestamp* from the training window's events (`EventLog`s frozen in the
  SavedModel): item age = timestamp - the item's first event before it (0 for an item never seen in
  training: it is cold), its events and likes in the `window_days` before it, and so on. The
  statistics do not grow after training: a new model version refreshes them.

A missing `item` or `timestamp`, a feature of the wrong type, or a negative timestamp fails with
InvalidArgumentError naming the feature (INVALID_ARGUMENT on a server, which stays up). Signatures,
method names and the warm-up file are the ranker's (`export_ranker`): `serving_default` / `predict`
(`examples` -> `probabilities` [B, 1]), `classification`, `regression`.

Example:

>>> path = export_history_ranker(model, "serving/gatesid/1", catalog_keys=data.catalog_keys,
...                              user_keys=data.user_keys, item_log=items, user_log=users,
...                              history_length=20)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from typing import Dict, Mapping, Sequence

import numpy as np
import tensorflow as tf
import tf_keras as keras

from ssr_keras.data.ids import OOV_ID, PADDING_ID
from ssr_keras.data.movielens_history import SECONDS_PER_DAY, EventLog
from ssr_keras.export.ranker import ranker_signatures
from ssr_keras.export.saved_model import check_new_version_dir, save_servable
from ssr_keras.export.signature_names import (
    PREDICT_OUTPUT,
    RANKER_METHOD_NAMES,
)
from ssr_keras.export.warmup import write_warmup_requests

logger = logging.getLogger(__name__)

USER_FEATURE = "user"
ITEM_FEATURE = "item"
HISTORY_FEATURE = "history"
TIMESTAMP_FEATURE = "timestamp"
REQUEST_FEATURES = (USER_FEATURE, ITEM_FEATURE, HISTORY_FEATURE, TIMESTAMP_FEATURE)
# A request without `user` is an anonymous user: this raw id is in no vocabulary, so it maps to OOV_ID.
ANONYMOUS_USER = -1


def history_example(item: int, timestamp: int, history: Sequence[int] = (), user: int | None = None
                    ) -> tf.train.Example:
    """The request `tf.Example` of one event: raw ids, history most recent last.

    >>> example = history_example(item=10, timestamp=86400, history=[3, 7], user=1)
    >>> example.features.feature["history"].int64_list.value
    [3, 7]
    """
    def ints(values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))

    feature = {ITEM_FEATURE: ints([item]), TIMESTAMP_FEATURE: ints([timestamp]), HISTORY_FEATURE: ints(history)}
    if user is not None:
        feature[USER_FEATURE] = ints([user])
    return tf.train.Example(features=tf.train.Features(feature=feature))


def _key_table(keys: np.ndarray, name: str) -> tf.lookup.StaticHashTable:
    """Raw key -> its index in `keys` (entries < 0 are not keys); anything else -> `OOV_ID`."""
    keys = np.asarray(keys, np.int64)
    index = np.flatnonzero(keys >= 0).astype(np.int64)
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(keys[index]), tf.constant(index)), default_value=OOV_ID,
        name=name)


class _FrozenEventLog(tf.Module):
    """An `EventLog` as constants; `past_counts` are the in-graph `maturity_at` / `user_stats_at` counts."""

    def __init__(self, log: EventLog, name: str):
        super().__init__(name=name)
        keys = np.asarray(log.keys, np.int64)
        # Row len(keys) is empty: unknown keys land there.
        self.rows = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(keys), tf.range(len(keys), dtype=tf.int64)),
            default_value=len(keys), name=f"{name}_rows")
        splits = np.concatenate([np.asarray(log.row_splits, np.int64), np.asarray(log.row_splits[-1:], np.int64)])
        self.row_splits = tf.Variable(splits, trainable=False, name=f"{name}_row_splits")
        self.times = tf.Variable(np.asarray(log.times, np.int64), trainable=False, name=f"{name}_times")
        self.liked = tf.Variable(np.asarray(log.liked, np.float64), trainable=False, name=f"{name}_liked")

    def past(self, keys: tf.Tensor, timestamps: tf.Tensor, window_seconds: int | None = None) -> Dict[str, tf.Tensor]:
        """Per query: events and likes before `timestamps` (and in the window before it), first event time."""
        rows = self.rows.lookup(keys)
        events = tf.gather(tf.RaggedTensor.from_row_splits(tf.range(tf.shape(self.times, tf.int64)[0]),
                                                           self.row_splits), rows)
        owner = events.value_rowids()
        event = events.flat_values
        times, liked = tf.gather(self.times, event), tf.gather(self.liked, event)
        query_time = tf.gather(timestamps, owner)
        before = tf.cast(times < query_time, tf.float64)
        batch = tf.shape(keys, tf.int64)[0]
        out = {"events": tf.math.unsorted_segment_sum(before, owner, batch),
               "likes": tf.math.unsorted_segment_sum(before * liked, owner, batch),
               "first": tf.math.unsorted_segment_min(tf.where(before > 0, times, tf.int64.max), owner, batch)}
        if window_seconds is not None:
            recent = before * tf.cast(times >= query_time - window_seconds, tf.float64)
            out["recent_events"] = tf.math.unsorted_segment_sum(recent, owner, batch)
            out["recent_likes"] = tf.math.unsorted_segment_sum(recent * liked, owner, batch)
        return out


class HistoryRequestParser(tf.Module):
    """Serialized history requests -> `GateSIDRankingModel` features (see the module docstring).

    Args:
        catalog_keys: raw item id of each catalog id (`-1` at `OOV_ID`), `HistoryCTRData.catalog_keys`.
        user_keys: raw user id of each user id (`-1` at `OOV_ID`), `HistoryCTRData.user_keys`.
        item_log / user_log: the training window's events by raw item / raw user id (`event_log`).
        history_length: N, the history width the model was trained with.
        window_days: the "recent" window of the exposure / click counts (as in the training data).
    """

    def __init__(self, catalog_keys: np.ndarray, user_keys: np.ndarray, item_log: EventLog, user_log: EventLog,
                 history_length: int, window_days: float = 30.0):
        super().__init__(name="history_request_parser")
        if isinstance(history_length, bool) or not isinstance(history_length, (int, np.integer)) \
                or history_length < 1:
            raise ValueError(f"history_length must be a positive integer. Received: {history_length!r}")
        if not window_days > 0:
            raise ValueError(f"window_days must be > 0. Received: {window_days!r}")
        self.history_length = int(history_length)
        self.window_seconds = int(window_days * SECONDS_PER_DAY)
        self.catalog = _key_table(catalog_keys, "catalog_ids")
        self.users = _key_table(user_keys, "user_ids")
        self.item_log = _FrozenEventLog(item_log, "item_events")
        self.user_log = _FrozenEventLog(user_log, "user_events")

    def _history(self, history: tf.SparseTensor) -> tf.Tensor:
        """Raw ids (ragged, most recent last) -> catalog ids `[B, N]`, most recent first, -1 padded."""
        ragged = tf.RaggedTensor.from_sparse(history)
        lengths = ragged.row_lengths()
        dense = tf.concat([ragged.to_tensor(PADDING_ID), tf.fill([tf.shape(lengths)[0], 1],
                                                                 tf.constant(PADDING_ID, tf.int64))], axis=1)
        source = lengths[:, tf.newaxis] - 1 - tf.range(self.history_length, dtype=tf.int64)[tf.newaxis, :]
        valid = source >= 0
        raw = tf.gather(dense, tf.where(valid, source, tf.shape(dense, tf.int64)[1] - 1), batch_dims=1)
        return tf.where(valid, self.catalog.lookup(raw), tf.constant(PADDING_ID, tf.int64))

    def __call__(self, serialized: tf.Tensor) -> Dict[str, tf.Tensor]:
        raw = tf.io.parse_example(serialized, {
            USER_FEATURE: tf.io.FixedLenFeature([], tf.int64, default_value=ANONYMOUS_USER),
            ITEM_FEATURE: tf.io.FixedLenFeature([], tf.int64),
            HISTORY_FEATURE: tf.io.VarLenFeature(tf.int64),
            TIMESTAMP_FEATURE: tf.io.FixedLenFeature([], tf.int64),
        })
        timestamp = raw[TIMESTAMP_FEATURE]
        with tf.control_dependencies([tf.debugging.assert_non_negative(
                timestamp, message=f"`{TIMESTAMP_FEATURE}` must be integer seconds since the epoch (>= 0)")]):
            timestamp = tf.identity(timestamp)
        items = self.item_log.past(raw[ITEM_FEATURE], timestamp, self.window_seconds)
        age = tf.where(items["events"] > 0, tf.cast(timestamp - items["first"], tf.float64) / SECONDS_PER_DAY, 0.0)
        maturity = tf.math.log1p(tf.stack([age, items["recent_events"], items["recent_likes"], items["events"]],
                                          axis=1))
        users = self.user_log.past(raw[USER_FEATURE], timestamp)
        user_stats = tf.stack([tf.math.log1p(users["events"]), (users["likes"] + 1.0) / (users["events"] + 2.0)],
                              axis=1)
        return {"user": self.users.lookup(raw[USER_FEATURE]), "item": self.catalog.lookup(raw[ITEM_FEATURE]),
                "history": self._history(raw[HISTORY_FEATURE]), "maturity": tf.cast(maturity, tf.float32),
                "user_stats": tf.cast(user_stats, tf.float32)}


def export_history_ranker(model: keras.Model, export_dir: str, *, catalog_keys: np.ndarray, user_keys: np.ndarray,
                          item_log: EventLog, user_log: EventLog, history_length: int, window_days: float = 30.0,
                          warmup_requests: Sequence[Mapping[str, int]] | None = None) -> str:
    """Writes a history ranker (e.g. `GateSIDRankingModel`) as a SavedModel taking raw history requests.

    Args:
        model: feature dict (`user`, `item`, `history`, `maturity`, `user_stats`) -> probabilities [B, 1].
        export_dir: the version directory to create (must not hold a SavedModel).
        catalog_keys / user_keys / item_log / user_log / history_length / window_days: see
            `HistoryRequestParser`; the logs must hold the training window's events only.
        warmup_requests: `{"user", "item", "timestamp"}` raw values recorded as warm-up requests (empty
            history). Default: the first catalog item at timestamp 0.

    Returns:
        `export_dir`.
    """
    check_new_version_dir(export_dir)
    parser = HistoryRequestParser(catalog_keys, user_keys, item_log, user_log, history_length, window_days)

    def probabilities(serialized: tf.Tensor) -> tf.Tensor:
        return tf.reshape(tf.cast(model(parser(serialized), training=False), tf.float32), [-1, 1])

    predict, signatures = ranker_signatures(probabilities)

    first_item = int(np.asarray(catalog_keys)[np.asarray(catalog_keys) >= 0][0])
    rows = [dict(row) for row in warmup_requests] if warmup_requests else [{ITEM_FEATURE: first_item,
                                                                            TIMESTAMP_FEATURE: 0}]
    scores = predict(tf.constant([history_example(**row).SerializeToString() for row in rows]))[PREDICT_OUTPUT]
    if scores.shape != (len(rows), 1):
        raise ValueError(f"Expected probabilities of shape {(len(rows), 1)}, got {scores.shape}.")
    save_servable(export_dir, {"model": model, "request_parser": parser}, signatures=signatures,
                  method_names=RANKER_METHOD_NAMES)
    # Scalar features only: a warm-up request's history is empty (absent), the documented fallback.
    write_warmup_requests(export_dir, [{k: str(v) for k, v in row.items()} for row in rows],
                          column_types={key: "int64" for row in rows for key in row})
    logger.info("Exported history ranker to %s (signatures %s).", export_dir, sorted(RANKER_METHOD_NAMES))
    return export_dir
