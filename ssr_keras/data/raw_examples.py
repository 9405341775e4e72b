"""Serialized raw `tf.Example`s -> model ids: the one parsing step of every exported ranking model.

A serving request carries a layout's raw feature columns (`layout.feature_columns`), each typed as
TFX's CsvExampleGen types it (`layout.column_type`: `int64_list`, `float_list` or `bytes_list`), so
a TFX user's existing client works unchanged. A column the layout declares optional
(`layout.optional_columns`) may be absent (CsvExampleGen writes a blank CSV value so) and then reads
as its default text; any other missing column, a wrong type or several values fail the request with
TensorFlow's parse error naming the feature (INVALID_ARGUMENT in a server). Only core TensorFlow ops
are used, so the real TF Serving binary runs the parser.

`RawExampleParser` parses the typed features, turns them back into the CSV text `layout.to_fields`
expects (`column_as_text`) and hands the string columns to a *raw-columns-to-ids* step, which is either

* `VocabularyIds`: `layout.to_fields` + the `Vocabularies` lookup (models trained by `ssr-train`), or
* the TFX Transform graph (models trained by the pipeline; see `pipeline/trainer.py`),

and both give the same ids (`ssr_keras.data.ids`), so the two kinds of model accept the same requests.

Example:

>>> from ssr_keras.data import Vocabularies, get_layout
>>> layout = get_layout("frappe")
>>> vocabularies = Vocabularies({f: ["1"] for f in layout.field_names}, layout_name="frappe")
>>> parser = RawExampleParser(layout, VocabularyIds(layout, vocabularies))
>>> row = {c: tf.train.Feature(int64_list=tf.train.Int64List(value=[1])) for c in ("user", "item", "city")}
>>> row.update({c: tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"1"]))
...             for c in layout.feature_columns if c not in row})
>>> example = tf.train.Example(features=tf.train.Features(feature=row))
>>> parser(tf.constant([example.SerializeToString()]))["user"].numpy().tolist()
[1]
"""

from __future__ import annotations

from typing import Dict, Mapping, Union

import tensorflow as tf
import tf_keras as keras

from ssr_keras.data.layouts import Layout
from ssr_keras.data.vocabulary import Vocabularies

FeatureSpec = Union[tf.io.FixedLenFeature, tf.io.VarLenFeature]
ParsedColumn = Union[tf.Tensor, tf.SparseTensor]

# `Layout.column_type` -> the dtype `tf.io.parse_example` reads the feature with (TFX's float is float32).
FEATURE_DTYPES: Dict[str, tf.DType] = {"int64": tf.int64, "float": tf.float32, "bytes": tf.string}
# Significant digits that give a float32 back exactly (FLT_DECIMAL_DIG).
_FLOAT32_DIGITS = 9
# Below this magnitude an integral float is written as an integer, exactly (2^53: float64's exact range).
_EXACT_INTEGRAL = 2.0 ** 53


def feature_dtype(layout: Layout, column: str) -> tf.DType:
    """The dtype a raw column's request feature carries (`tf.int64`, `tf.float32` or `tf.string`)."""
    return FEATURE_DTYPES[layout.column_type(column)]


def raw_feature_spec(layout: Layout) -> Dict[str, FeatureSpec]:
    """The `tf.io.parse_example` spec of a layout's raw request features, typed as CsvExampleGen types them.

    A required column is a `FixedLenFeature([])` without default (missing -> "Feature: item (data
    type: int64) is required but could not be found."); an optional one a `VarLenFeature`.
    """
    return {column: tf.io.VarLenFeature(feature_dtype(layout, column)) if column in layout.optional_columns
            else tf.io.FixedLenFeature([], feature_dtype(layout, column))
            for column in layout.feature_columns}


def column_as_text(values: tf.Tensor) -> tf.Tensor:
    """Typed raw values -> the CSV text a layout's `to_fields` reads (strings pass through).

    int64 -> decimal text. float32 -> an integer's exact decimal text when the value is integral
    (CSV "260.0" -> "260"), else 9 significant digits (which give the float32 back): the layouts'
    numeric rules (`to_number`, Criteo's log-squared) give the same result as for the CSV text,
    short of a float32 rounding that lands exactly on a bucket edge.

    >>> column_as_text(tf.constant([260.0, 0.5, -1.0])).numpy().tolist()
    [b'260', b'0.5', b'-1']
    """
    if values.dtype == tf.string:
        return values
    if values.dtype == tf.int64:
        return tf.strings.as_string(values)
    if values.dtype != tf.float32:
        raise TypeError(f"Raw columns are int64, float32 or string tensors. Received: {values.dtype}")
    integral = tf.logical_and(tf.equal(values, tf.floor(values)), tf.abs(values) < _EXACT_INTEGRAL)
    as_integer = tf.strings.as_string(tf.cast(tf.where(integral, values, 0.0), tf.int64))
    return tf.where(integral, as_integer, tf.strings.as_string(values, precision=_FLOAT32_DIGITS, shortest=True))


def raw_columns_as_text(layout: Layout, parsed: Mapping[str, ParsedColumn]) -> Dict[str, tf.Tensor]:
    """Parsed raw columns (typed; dense `[B]` / `[B, 1]` or sparse) -> CSV text `tf.string [B]`.

    A sparse column (an optional one) reads as its `layout.optional_columns` default where absent; it
    must hold at most one value per example (InvalidArgument naming the feature otherwise).
    """
    text = {}
    for column in layout.feature_columns:
        value = parsed[column]
        if isinstance(value, tf.SparseTensor):
            text[column] = _single_valued(column, value, layout.optional_columns.get(column, ""))
        else:
            value = value[:, 0] if value.shape.rank == 2 else value
            text[column] = column_as_text(value)
    return text


def _single_valued(column: str, value: tf.SparseTensor, default: str) -> tf.Tensor:
    """`[B, n]` sparse -> `[B]` text, `default` where absent; n > 1 is an error naming the feature."""
    width = value.dense_shape[1]
    check = tf.debugging.assert_less_equal(
        width, tf.constant(1, tf.int64),
        message=f"Feature: {column} must hold at most one value per example; an example holds more (values:")
    with tf.control_dependencies([check]):
        batch = value.dense_shape[0]
    single = tf.SparseTensor(value.indices, column_as_text(value.values), tf.stack([batch, tf.constant(1, tf.int64)]))
    return tf.reshape(tf.sparse.to_dense(single, default_value=default), [-1])


def present_count(layout: Layout, parsed: Mapping[str, ParsedColumn]) -> tf.Tensor:
    """How many of the layout's feature columns each parsed example carries, int64 `[B]`."""
    counts = []
    for column in layout.feature_columns:
        value = parsed[column]
        if isinstance(value, tf.SparseTensor):
            rows = value.indices[:, 0]
            counts.append(tf.math.unsorted_segment_sum(tf.ones_like(rows), rows, value.dense_shape[0]))
        else:
            counts.append(tf.ones(tf.shape(value)[:1], tf.int64))
    return tf.add_n(counts)


class VocabularyIds(keras.layers.Layer):
    """Raw string columns `[B]` -> model ids, with a layout's `to_fields` and its vocabularies.

    Args:
        layout: the data set's layout.
        vocabularies: the vocabularies the model was trained with.
    """

    def __init__(self, layout: Layout, vocabularies: Vocabularies, **kwargs) -> None:
        super().__init__(trainable=False, **kwargs)
        self.layout = layout
        self.lookup = vocabularies.lookup_layer(layout)

    def call(self, raw: Mapping[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
        return self.lookup(self.layout.to_fields(raw))


class RawExampleParser(keras.layers.Layer):
    """Parses TFX-typed raw-feature `tf.Example`s and maps the columns to model ids with `raw_to_ids`.

    Args:
        layout: the data set's layout (which features a request carries, their types, which are optional).
        raw_to_ids: a trackable layer or `tf.Module` mapping `{column: tf.string [B]}` (CSV text) to the
            model's id features (`VocabularyIds`, or the pipeline's Transform step); its tables are
            saved with any model export that holds this parser.

    Call args:
        serialized: `tf.string [B]` serialized `tf.Example`s.
    """

    def __init__(self, layout: Layout, raw_to_ids: tf.Module, **kwargs) -> None:
        super().__init__(trainable=False, **kwargs)
        self.layout = layout
        self.raw_to_ids = raw_to_ids
        self._spec = raw_feature_spec(layout)
        # With every column optional, parsing alone would take an empty example: say so instead.
        self._all_optional = all(c in layout.optional_columns for c in layout.feature_columns)

    def call(self, serialized: tf.Tensor) -> Dict[str, tf.Tensor]:
        parsed = tf.io.parse_example(serialized, self._spec)
        if self._all_optional:
            check = tf.debugging.assert_positive(
                present_count(self.layout, parsed),
                message=f"An example carries none of the feature columns of layout {self.layout.name!r} "
                        "(an empty tf.Example?); per example, the number it carries:")
            with tf.control_dependencies([check]):  # every column is sparse: its ops are made here
                return self.raw_to_ids(raw_columns_as_text(self.layout, parsed))
        return self.raw_to_ids(raw_columns_as_text(self.layout, parsed))
