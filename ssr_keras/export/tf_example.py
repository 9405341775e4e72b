"""Raw rows as request `tf.Example`s: every raw column a `bytes` feature holding its CSV text."""

from __future__ import annotations

from typing import Mapping

import tensorflow as tf

from ssr_keras.data.layouts import Layout


def make_example(row: Mapping[str, str]) -> tf.train.Example:
    """Builds the request `tf.Example` of one raw row: every column a `bytes` feature.

    Args:
        row: raw column -> value as found in the CSV (blank allowed).

    Example:

    >>> make_example({"user": "7", "item": ""}).features.feature["user"].bytes_list.value
    [b'7']
    """
    return tf.train.Example(features=tf.train.Features(feature={
        column: tf.train.Feature(bytes_list=tf.train.BytesList(value=[str(value).encode("utf-8")]))
        for column, value in row.items()
    }))


def layout_example(layout: Layout, row: Mapping[str, str]) -> tf.train.Example:
    """The request `tf.Example` of a layout's raw row: its feature columns only (no label, no ignored id).

    Example:

    >>> from ssr_keras.data import get_layout
    >>> example = layout_example(get_layout("frappe"), {"label": "1", **{c: "x" for c in get_layout("frappe").columns}})
    >>> sorted(example.features.feature)[:3], "label" in example.features.feature
    (['city', 'cost', 'country'], False)
    """
    return make_example({column: row[column] for column in layout.feature_columns})
