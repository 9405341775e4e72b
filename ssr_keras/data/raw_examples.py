"""Serialized raw `tf.Example`s -> model ids: the one parsing step of every exported ranking model.

A serving request carries a layout's raw feature columns (`layout.feature_columns`), each a `bytes`
feature holding the CSV text (blank allowed; a missing feature reads as blank). `RawExampleParser`
parses them and hands the string columns to a *raw-columns-to-ids* step, which is either

* `VocabularyIds`: `layout.to_fields` + the `Vocabularies` lookup (models trained by `ssr-train`), or
* the TFX Transform graph (models trained by the pipeline; see `pipeline/trainer.py`),

and both give the same ids (`ssr_keras.data.ids`), so the two kinds of model accept the same requests.

Example:

>>> from ssr_keras.data import Vocabularies, get_layout
>>> layout = get_layout("frappe")
>>> vocabularies = Vocabularies({f: ["1"] for f in layout.field_names}, layout_name="frappe")
>>> parser = RawExampleParser(layout, VocabularyIds(layout, vocabularies))
>>> example = tf.train.Example(features=tf.train.Features(feature={
...     "user": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"1"]))}))
>>> parser(tf.constant([example.SerializeToString()]))["user"].numpy().tolist()
[1]
"""

from __future__ import annotations

from typing import Dict, Mapping

import tensorflow as tf
import tf_keras as keras

from ssr_keras.data.layouts import Layout
from ssr_keras.data.vocabulary import Vocabularies


def raw_feature_spec(layout: Layout) -> Dict[str, tf.io.FixedLenFeature]:
    """The `tf.io.parse_example` spec of a layout's raw request features: `bytes`, default blank."""
    return {column: tf.io.FixedLenFeature([], tf.string, default_value="") for column in layout.feature_columns}


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
    """Parses raw-feature `tf.Example`s and maps the columns to model ids with `raw_to_ids`.

    Args:
        layout: the data set's layout (which features a request carries).
        raw_to_ids: a trackable layer or `tf.Module` mapping `{column: tf.string [B]}` to the model's
            id features (`VocabularyIds`, or the pipeline's Transform step); its tables are saved
            with any model export that holds this parser.

    Call args:
        serialized: `tf.string [B]` serialized `tf.Example`s.
    """

    def __init__(self, layout: Layout, raw_to_ids: tf.Module, **kwargs) -> None:
        super().__init__(trainable=False, **kwargs)
        self.layout = layout
        self.raw_to_ids = raw_to_ids
        self._spec = raw_feature_spec(layout)

    def call(self, serialized: tf.Tensor) -> Dict[str, tf.Tensor]:
        return self.raw_to_ids(tf.io.parse_example(serialized, self._spec))
