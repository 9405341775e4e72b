"""TFX Transform module file: raw CSV columns -> model field ids (`ssr_keras.data.ids`), per layout.

TFX packages this file into a user-code wheel, so it imports installed packages only. The same
`preprocessing_fn` graph is embedded in the exported serving model, so the ids a served request gets
are the ids the model was trained on.

`custom_config` (set by `pipeline.pipeline.create_pipeline`):
    layout: dataset layout name (`ssr_keras.data.layouts`).
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

InputTensor = Union[tf.Tensor, tf.SparseTensor, tf.RaggedTensor]
# TFT's ids (known 0..n-1, unknown -1) shifted onto the scheme's (known 1..n, OOV 0).
_ID_SHIFT = ids.OOV_ID + 1


def preprocessing_fn(inputs: Mapping[str, InputTensor], custom_config: Dict[str, Any]) -> Dict[str, tf.Tensor]:
    """Maps raw string columns to ids of the one id scheme, one vocabulary per model field.

    TFT gives known values 0..n-1 in its vocabulary order; unknown values get `default_value=-1`; the
    ids are then shifted by one, so the OOV bucket is 0 and known values are 1..n in the order
    `ssr_keras.data.Vocabularies` uses too: both paths give a raw value the same id.

    Args:
        inputs: raw features from the ExampleGen: every feature column of the layout as a dense
            string tensor ([B] or [B, 1]) and the label.
        custom_config: `layout`, `label_key`, optional `min_count` (see the module docstring).

    Returns:
        One int64 tensor per model field ([B], or [B, max_len] with padding -1 for a multivalent
        field) and the label as float32 [B].
    """
    layout = layouts.get_layout(custom_config["layout"])
    label_key = custom_config["label_key"]
    min_count = int(custom_config.get("min_count", 1))
    missing = [c for c in layout.feature_columns + (label_key,) if c not in inputs]
    if missing:
        raise ValueError(f"preprocessing_fn: inputs lack column(s) {missing} of layout {layout.name!r}; "
                         f"got {sorted(inputs)}.")

    raw = {c: _to_vector(inputs[c]) for c in layout.feature_columns}
    # The layout's own TF-op mapping (numeric discretisation, derived fields) runs inside the graph.
    fields = layout.to_fields(raw)

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
            outputs[field.name] = tft.compute_and_apply_vocabulary(values, **vocab) + _ID_SHIFT
    outputs[label_key] = tf.cast(_to_vector(inputs[label_key]), tf.float32)
    return outputs


def _to_vector(tensor: InputTensor) -> tf.Tensor:
    """A single-valued feature as a dense [B] tensor ([B, 1] with the shape SchemaGen infers)."""
    if isinstance(tensor, (tf.SparseTensor, tf.RaggedTensor)):
        # The ExampleGen writes every column of every row, so SchemaGen(infer_feature_shape=True) makes
        # them dense; a sparse column means the schema was not inferred from this pipeline's data.
        raise ValueError("preprocessing_fn expects dense single-valued raw columns; got a "
                         f"{type(tensor).__name__}. Use SchemaGen(infer_feature_shape=True).")
    if tensor.shape.rank == 2:
        return tensor[:, 0]
    return tensor
