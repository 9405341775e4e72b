"""Raw rows as request `tf.Example`s, typed as TFX's CsvExampleGen types them.

A column of type `"int64"` becomes an `int64_list`, `"float"` a `float_list`, anything else a
`bytes_list` holding the CSV text; a blank value becomes an *absent* feature, as CsvExampleGen
writes it. `layout_example` takes the types from the layout (`Layout.column_types`), so requests
built here are what a TFX user's client sends, and what `ssr_keras.data.raw_examples` parses.
"""

from __future__ import annotations

from typing import Any, Mapping

import tensorflow as tf

from ssr_keras.data.layouts import Layout


def make_feature(column: str, value: Any, column_type: str = "bytes") -> tf.train.Feature:
    """One single-valued `tf.train.Feature` of type `column_type` (`"int64"`, `"float"` or `"bytes"`).

    Raises:
        ValueError: the value does not parse as `column_type` (the message names the column).

    >>> make_feature("user", "7", "int64").int64_list.value
    [7]
    """
    try:
        if column_type == "int64":
            return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(str(value).strip())]))
        if column_type == "float":
            return tf.train.Feature(float_list=tf.train.FloatList(value=[float(str(value).strip())]))
    except ValueError:
        raise ValueError(f"Column {column!r} is {column_type}; its value {value!r} is not.") from None
    if column_type != "bytes":
        raise ValueError(f"Column {column!r}: column type must be int64, float or bytes. Received: {column_type!r}")
    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[data]))


def make_example(row: Mapping[str, Any], column_types: Mapping[str, str] | None = None) -> tf.train.Example:
    """Builds the request `tf.Example` of one raw row, typed as CsvExampleGen would type it.

    Args:
        row: raw column -> value as found in the CSV (blank allowed: the feature is left out).
        column_types: column -> `"int64"`, `"float"` or `"bytes"`; unlisted columns are bytes.

    Example:

    >>> example = make_example({"user": "7", "item": "", "city": "Rome"}, {"user": "int64"})
    >>> example.features.feature["user"].int64_list.value, sorted(example.features.feature)
    ([7], ['city', 'user'])
    """
    column_types = column_types or {}
    return tf.train.Example(features=tf.train.Features(feature={
        column: make_feature(column, value, column_types.get(column, "bytes"))
        for column, value in row.items() if not _blank(value)
    }))


def layout_example(layout: Layout, row: Mapping[str, Any]) -> tf.train.Example:
    """The request `tf.Example` of a layout's raw row: its feature columns only (no label, no ignored id).

    Example:

    >>> from ssr_keras.data import get_layout
    >>> frappe = get_layout("frappe")
    >>> example = layout_example(frappe, {c: "1" for c in frappe.columns})
    >>> sorted(example.features.feature)[:3], "label" in example.features.feature
    (['city', 'cost', 'country'], False)
    >>> example.features.feature["user"].WhichOneof("kind"), example.features.feature["cost"].WhichOneof("kind")
    ('int64_list', 'bytes_list')
    """
    return make_example({column: row[column] for column in layout.feature_columns}, layout.column_types)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, (str, bytes)) and not value.strip())
