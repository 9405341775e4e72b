"""TFX Transform module file: raw typed columns -> model field ids (`ssr_keras.data.ids`), per layout.

TFX packages this file into a user-code wheel, so it imports installed packages only. The same
`preprocessing_fn` graph is embedded in the exported serving model, so the ids a served request gets
are the ids the model was trained on.

`custom_config` (set by `pipeline.pipeline.create_pipeline`):
    layout: the dataset layout (`ssr_keras.data.layouts.get_layout`: a name, or a layout file inline).
    label_key: the float 0/1 label feature written by the ExampleGen; passed through unchanged.
    min_count: a value needs this many training occurrences to get its own id (default 1).

Example (what the Transform component does with this file):

>>> outputs = preprocessing_fn({"label": label, "user": user, ...},  # doctest: +SKIP
...                            {"layout": "frappe", "label_key": "label"})  # doctest: +SKIP
>>> outputs["user"]  # int64 [B]: 0 is the OOV bucket, known values 1..n (the readers' ids exactly)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Union

import tensorflow as tf
import tensorflow_transform as tft

from ssr_keras.data import ids, layouts
from ssr_keras.data.raw_examples import raw_columns_as_text

InputTensor = Union[tf.Tensor, tf.SparseTensor, tf.RaggedTensor]
# TFT's ids (known 0..n-1, unknown -1) shifted onto the scheme's (known 1..n, OOV 0).
_ID_SHIFT = ids.OOV_ID + 1
# What a blank value of a single-valued field is counted and looked up as. TFT's text vocabulary files
# drop the empty string, which the readers' vocabularies keep as a value of its own; NUL sorts where ""
# does (below every other text), so the ids stay the readers' ids. (A TFRecord vocabulary keeps "", but
# a model holding its lookup table fails to save: "Attempting to capture an EagerTensor".)
BLANK_TOKEN = "\x00"
# Rank error of `tft.quantiles` for a layout's `bucketing: {quantiles: N}` columns.
QUANTILES_EPSILON = 0.01


def preprocessing_fn(inputs: Mapping[str, InputTensor], custom_config: Dict[str, Any]) -> Dict[str, tf.Tensor]:
    """Maps raw string columns to ids of the one id scheme, one vocabulary per model field.

    TFT gives known values 0..n-1 in its vocabulary order; unknown values get `default_value=-1`; the
    ids are then shifted by one, so the OOV bucket is 0 and known values are 1..n in the order
    `ssr_keras.data.Vocabularies` uses too: both paths give a raw value the same id.

    Args:
        inputs: raw features from the ExampleGen: every feature column of the layout, typed as the
            layout declares (dense [B] / [B, 1], or sparse for a column some rows lack), and the label.
        custom_config: `layout`, `label_key`, optional `min_count` (see the module docstring).

    Returns:
        One int64 tensor per model field ([B], or [B, max_len] with padding -1 for a multivalent
        field) and the label as float32 [B].
    """
    layout = layouts.get_layout(custom_config["layout"])
    label_key = custom_config["label_key"]
    min_count = int(custom_config.get("min_count", 1))
    missing = [c for c in layout.feature_columns + (label_key,) if c not in inputs and c not in layout.optional_columns]
    if missing:
        raise ValueError(f"preprocessing_fn: inputs lack column(s) {missing} of layout {layout.name!r}; "
                         f"got {sorted(inputs)}.")

    # Typed raw columns (int64 / float / bytes; sparse where the data has blanks) -> the CSV text, exactly
    # as the serving signature turns a request's features into text (`raw_columns_as_text`). An optional
    # column blank in every row is not in the schema at all: it reads as its default.
    batch = tf.shape(_to_vector(inputs[label_key]))[:1]
    raw = raw_columns_as_text(layout, {
        c: _dense_or_sparse(inputs[c]) if c in inputs else tf.fill(batch, layout.optional_columns[c])
        for c in layout.feature_columns})
    # The layout's own TF-op mapping (numeric discretisation, derived fields) runs inside the graph.
    fields = _with_quantile_edges(layout, raw).to_fields(raw)

    outputs: Dict[str, tf.Tensor] = {}
    for field in layout.fields:
        values = fields[field.name]
        vocab = dict(default_value=-1, num_oov_buckets=0, frequency_threshold=min_count,
                     vocab_filename=ids.vocabulary_name(field.name))
        if field.multivalent:
            # Padding ("") must neither enter the vocabulary nor get an id: go through a sparse tensor
            # whose implicit entries are exactly the padding, and densify the ids with the padding id.
            values = tf.ensure_shape(values, [None, field.max_len])
            sparse_ids = tft.compute_and_apply_vocabulary(tf.sparse.from_dense(values), **vocab)
            sparse_ids = sparse_ids.with_values(sparse_ids.values + _ID_SHIFT)
            dense_ids = tf.sparse.to_dense(sparse_ids, default_value=ids.PADDING_ID)
            outputs[field.name] = tf.ensure_shape(dense_ids, [None, field.max_len])
        else:
            values = tf.where(tf.equal(values, ""), BLANK_TOKEN, values)
            outputs[field.name] = tft.compute_and_apply_vocabulary(values, **vocab) + _ID_SHIFT
    outputs[label_key] = tf.cast(_to_vector(inputs[label_key]), tf.float32)
    return outputs


def _with_quantile_edges(layout: layouts.Layout, raw: Mapping[str, tf.Tensor]) -> layouts.Layout:
    """The layout with its quantile-bucketed columns' edges computed over the whole training split
    (`tft.quantiles`; blank values weigh nothing), so training and serving bucket alike."""
    if not layout.quantile_columns:
        return layout
    edges = {}
    for column, count in layout.quantile_columns.items():
        text = tf.strings.strip(raw[column])
        present = tf.not_equal(text, "")
        values = tf.strings.to_number(tf.where(present, text, "0"), tf.float32)
        edges[column] = tft.quantiles(values, num_buckets=count, epsilon=QUANTILES_EPSILON,
                                      weights=tf.cast(present, tf.float32))
    return layout.with_quantile_edges(edges)


def _dense_or_sparse(tensor: InputTensor) -> Union[tf.Tensor, tf.SparseTensor]:
    """A raw feature column as SchemaGen gives it: dense `[B, 1]`, or sparse where some rows lack it."""
    if isinstance(tensor, tf.RaggedTensor):
        return tensor.to_sparse()
    return tensor


def _to_vector(tensor: InputTensor) -> tf.Tensor:
    """A single-valued feature as a dense [B] tensor ([B, 1] with the shape SchemaGen infers)."""
    if isinstance(tensor, (tf.SparseTensor, tf.RaggedTensor)):
        # The ExampleGen writes the label of every row, so SchemaGen(infer_feature_shape=True) makes it
        # dense; a sparse label means the schema was not inferred from this pipeline's data.
        raise ValueError("preprocessing_fn expects a dense single-valued label; got a "
                         f"{type(tensor).__name__}. Use SchemaGen(infer_feature_shape=True).")
    if tensor.shape.rank == 2:
        return tensor[:, 0]
    return tensor
