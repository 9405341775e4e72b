"""`FieldLookup`: model-field strings -> integer ids of the one id scheme, as one Keras layer.

The same layer runs in the tf.data reader and inside exported serving graphs, so training and serving
map strings to ids identically. The scheme (`ssr_keras.data.ids`): id 0 is the out-of-vocabulary
bucket, known values get 1..n in vocabulary order, and the padding `""` of a multivalent field is -1.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence

import tensorflow as tf
import tf_keras as keras

from ssr_keras.data.ids import NUM_OOV_BUCKETS, PADDING_ID, PADDING_VALUE


def _free_token(values: Sequence[str]) -> str:
    """An OOV token that is not a real value (StringLookup rejects a vocabulary containing it)."""
    token, known = "[UNK]", set(values)
    while token in known:
        token = f"[{token}]"
    return token


@keras.saving.register_keras_serializable(package="ssr_keras")
class FieldLookup(keras.layers.Layer):
    """Maps a dict of model-field string tensors to int64 ids, one `StringLookup` per field.

    Usually built by `Vocabularies.lookup_layer(layout)`; its input is `layout.to_fields(raw)`.

    Args:
        vocabularies: field name -> known values in id order (value `i` gets id `i + 1`).
        multivalent_fields: fields whose `""` entries are padding (id -1) rather than a value.
        **kwargs: `keras.layers.Layer` arguments (`name`, ...).

    Example:

    >>> lookup = FieldLookup({"city": ["Paris", "Rome"], "tags": ["a", "b"]}, multivalent_fields=["tags"])
    >>> ids = lookup({"city": tf.constant(["Rome", "Oslo"]), "tags": tf.constant([["b", ""], ["a", "z"]])})
    >>> ids["city"].numpy().tolist(), ids["tags"].numpy().tolist()
    ([2, 0], [[2, -1], [1, 0]])
    """

    def __init__(self, vocabularies: Mapping[str, Sequence[str]], multivalent_fields: Sequence[str] = (),
                 **kwargs: Any):
        super().__init__(trainable=False, **kwargs)
        unknown = sorted(set(multivalent_fields) - set(vocabularies))
        if unknown:
            raise ValueError(f"multivalent_fields {unknown} have no vocabulary; known fields: {sorted(vocabularies)}.")
        self._vocabularies = {name: list(values) for name, values in vocabularies.items()}
        self._multivalent_fields = tuple(multivalent_fields)
        # A Keras layer tracks layers kept in a dict attribute: the lookup tables are saved with it.
        self.lookups = {
            name: keras.layers.StringLookup(vocabulary=values, num_oov_indices=NUM_OOV_BUCKETS, output_mode="int",
                                            oov_token=_free_token(values), name=f"{name}_lookup")
            for name, values in self._vocabularies.items()
        }

    def call(self, fields: Mapping[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
        return self._lookup(fields)

    # Plain TensorFlow ops without Python control flow on tensors: AutoGraph would only spend seconds
    # converting Keras' lookup internals the first time the layer is traced.
    @tf.autograph.experimental.do_not_convert
    def _lookup(self, fields: Mapping[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
        missing = sorted(set(self.lookups) - set(fields))
        if missing:
            raise ValueError(f"{self.name}: input fields {missing} are missing; received {sorted(fields)}.")
        ids = {}
        for name, lookup in self.lookups.items():
            values = fields[name]
            if values.dtype != tf.string:
                raise ValueError(f"{self.name}: field {name!r} must be a tf.string tensor, received {values.dtype}.")
            field_ids = lookup(values)
            if name in self._multivalent_fields:
                field_ids = tf.where(tf.equal(values, PADDING_VALUE), tf.constant(PADDING_ID, tf.int64), field_ids)
            ids[name] = field_ids
        return ids

    def vocab_size(self, name: str) -> int:
        """Number of ids of `name` (known values + the OOV bucket)."""
        return len(self._vocabularies[name]) + NUM_OOV_BUCKETS

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.pop("trainable", None)
        config.update(vocabularies=self._vocabularies, multivalent_fields=list(self._multivalent_fields))
        return config
