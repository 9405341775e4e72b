"""The TensorFlow ops a layout file's column kinds stand for: raw CSV strings -> model field strings.

Each function maps a `[B]` string tensor of raw CSV text to category strings with TensorFlow ops only,
so the same code runs eagerly in a reader, inside `tf.data` and inside a `tf.Transform` graph. A blank
numeric or datetime value stays blank (its own category).

Example:

>>> import tensorflow as tf
>>> [v.decode() for v in log_squared(tf.constant(["", "2", "100"])).numpy()]
['', '2', '21']
>>> [v.decode() for v in bucketize(tf.constant(["0.5", "5", ""]), [1.0, 10.0]).numpy()]
['0', '1', '']
"""

from __future__ import annotations

from typing import Callable, Dict, Mapping, Sequence

import tensorflow as tf

from ssr_keras.data.layout_file import LOG_SQUARED, ColumnSpec, LabelSpec

SECONDS_PER_DAY = 86400
SECONDS_PER_YEAR = 31556952  # the mean Gregorian year
UNIX_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday: (days + 3) % 7 gives Monday = 0
YYMMDDHH_OFFSETS = {"year": 0, "month": 2, "day": 4, "hour": 6}  # two digits each


def _blank_and_value(raw: tf.Tensor, dtype: tf.DType):
    raw = tf.strings.strip(raw)
    blank = tf.equal(raw, "")
    return blank, tf.strings.to_number(tf.where(blank, "0", raw), dtype)


def log_squared(raw: tf.Tensor) -> tf.Tensor:
    """Numeric -> category string: `int(log(v)^2)` for v > 2, else the integer itself (SSR paper, Criteo)."""
    blank, value = _blank_and_value(raw, tf.float64)
    squashed = tf.where(value > 2.0, tf.floor(tf.square(tf.math.log(tf.maximum(value, 1.0)))), tf.floor(value))
    return tf.where(blank, "", tf.strings.as_string(tf.cast(squashed, tf.int64)))


def bucketize(raw: tf.Tensor, edges) -> tf.Tensor:
    """Numeric -> bucket index string: the number of `edges` (increasing; a list or a tensor) <= the value."""
    blank, value = _blank_and_value(raw, tf.float32)
    edges = tf.cast(tf.reshape(edges, [-1]), tf.float32)
    index = tf.searchsorted(edges, tf.reshape(value, [-1]), side="right")
    return tf.where(blank, "", tf.strings.as_string(tf.reshape(index, tf.shape(value))))


def split_multivalent(raw: tf.Tensor, separator: str, max_len: int) -> tf.Tensor:
    """`"a|b"` -> `[B, max_len]` strings padded with "" (longer lists are cut at `max_len`)."""
    values = tf.strings.split(tf.strings.strip(raw), separator)
    return values.to_tensor(default_value="", shape=[None, max_len])


def datetime_parts(raw: tf.Tensor, fmt: str, parts: Sequence[tuple]) -> Dict[str, tf.Tensor]:
    """A datetime column -> `{field: part string}` (formats and parts: `layout_file.DATETIME_PARTS`)."""
    raw = tf.strings.strip(raw)
    if fmt == "yymmddhh":
        return {field: tf.strings.substr(raw, YYMMDDHH_OFFSETS[part], 2) for field, part in parts}
    seconds = tf.strings.to_number(raw, tf.int64)
    per_day = tf.constant(SECONDS_PER_DAY, tf.int64)
    values = {"weekday": lambda: (seconds // per_day + UNIX_EPOCH_WEEKDAY) % 7,
              "hour": lambda: (seconds % per_day) // 3600,
              "year": lambda: 1970 + seconds // SECONDS_PER_YEAR}
    return {field: tf.strings.as_string(values[part]()) for field, part in parts}


def column_fields(column: ColumnSpec, raw: tf.Tensor, edges: Mapping[str, object]) -> Dict[str, tf.Tensor]:
    """The model fields one raw column gives (`edges`: quantile edges by column, see `to_fields_fn`)."""
    if column.kind == "categorical":
        return {column.name: tf.strings.strip(raw)}
    if column.kind == "multivalent":
        return {column.name: split_multivalent(raw, column.separator, column.max_len)}
    if column.kind == "datetime":
        return datetime_parts(raw, column.format, column.parts)
    if column.bucketing == LOG_SQUARED:
        return {column.name: log_squared(raw)}
    if column.bucketing == "edges":
        return {column.name: bucketize(raw, list(column.edges))}
    if column.name not in edges:
        raise ValueError(f"Column {column.name!r} is bucketed by quantiles ({column.quantiles}) but its edges were "
                         "not computed: the pipeline's Transform computes them (tft.quantiles); in ssr-train and "
                         "the readers use `Layout.with_quantile_edges` (computed from the training file).")
    return {column.name: bucketize(raw, edges[column.name])}


def to_fields_fn(columns: Sequence[ColumnSpec], edges: Mapping[str, object] | None = None
                 ) -> Callable[[Mapping[str, tf.Tensor]], Dict[str, tf.Tensor]]:
    """`to_fields` of a layout: raw string columns -> model field string tensors."""
    used = tuple(c for c in columns if c.kind not in ("label", "ignored"))
    edges = dict(edges or {})

    def to_fields(raw: Mapping[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
        fields: Dict[str, tf.Tensor] = {}
        for column in used:
            fields.update(column_fields(column, raw[column.name], edges))
        return fields

    return to_fields


def to_label_fn(label: LabelSpec) -> Callable[[tf.Tensor], tf.Tensor]:
    """`to_label` of a layout: the raw label column (strings) -> float32 0/1."""

    def to_label(raw: tf.Tensor) -> tf.Tensor:
        if label.is_text:
            text = tf.strings.strip(raw)[..., None]
            return tf.cast(tf.reduce_any(tf.equal(text, tf.constant(label.positive_values)), -1), tf.float32)
        value = tf.strings.to_number(raw, tf.float32)
        if label.threshold is not None:
            positive = value >= label.threshold
        elif label.positive_values is not None:
            positive = tf.reduce_any(tf.equal(value[..., None], tf.constant(label.positive_values, tf.float32)), -1)
        else:
            positive = value > 0.5
        return tf.cast(positive, tf.float32)

    return to_label
