"""`FeatureEmbedding`: the ranking models' feature front, one embedder per field, concatenated.

Each field is embedded by a layer following the embedder protocol (`ssr_keras.embeddings.embedder`):
by default a `PooledEmbedding`; pass `embedders={"item": MyCompressedEmbedding(...)}` to swap how one
field is embedded (shared codebooks, top-k sparse rows, semantic IDs, ...) without touching the backbone.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Mapping, Sequence

import tensorflow as tf
import tf_keras as keras

from ssr_keras.data.field_spec import FieldSpec
from ssr_keras.embeddings import PooledEmbedding, call_embedder


@keras.saving.register_keras_serializable(package="ssr_keras")
class FeatureEmbedding(keras.layers.Layer):
    """Embeds every field with its own embedder and concatenates the results to `[B, sum_f E_f]`.

    Args:
        fields: the model's fields, in the order their embeddings are concatenated.
        embedding_dim: width of the default `PooledEmbedding` of each field.
        embedders: optional per-field overrides, `field name -> layer` following the embedder protocol
            (ids -> `[B, E_f]`); fields not listed get a `PooledEmbedding(vocab_size, embedding_dim)`.
        normalization: None, "batch" (BatchNormalization of the concatenated vector, as the official
            SSR code does) or "layer".
        embedding_l2: L2 penalty on the default embedding tables (`l2 * sum(w^2)` per table, added
            to the training loss); 0 disables it. Custom embedders bring their own regularisation.

    Call args:
        features: dict `field name -> int64 ids`, plus the side inputs custom embedders declare
            (other keys are ignored).

    Example:

    >>> front = FeatureEmbedding([FieldSpec("user", 100), FieldSpec("item", 50)], embedding_dim=8)
    >>> front({"user": tf.constant([3]), "item": tf.constant([7])}).shape
    TensorShape([1, 16])
    """

    def __init__(self, fields: Sequence[FieldSpec], embedding_dim: int = 16,
                 embedders: Mapping[str, keras.layers.Layer] | None = None,
                 normalization: str | None = None, embedding_l2: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        fields = [f if isinstance(f, FieldSpec) else FieldSpec(**f) for f in fields]
        if not fields:
            raise ValueError("FeatureEmbedding needs at least one FieldSpec, got none.")
        names = [f.name for f in fields]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"FeatureEmbedding: duplicate field names {duplicates}.")
        no_range = [f.name for f in fields if f.vocab_size is None and f.name not in (embedders or {})]
        if no_range:
            raise ValueError(f"FeatureEmbedding: fields {no_range} have no vocab_size (build the specs with "
                             "Vocabularies.field_specs) and no custom embedder.")
        embedders = {name: keras.layers.deserialize(e) if isinstance(e, dict) else e
                     for name, e in (embedders or {}).items()}
        unknown = sorted(set(embedders) - set(names))
        if unknown:
            raise ValueError(f"embedders given for unknown fields {unknown}; the fields are {names}.")
        if normalization not in (None, "batch", "layer"):
            raise ValueError(f"normalization must be None, 'batch' or 'layer', got {normalization!r}.")
        if embedding_l2 < 0:
            raise ValueError(f"embedding_l2 must be >= 0, got {embedding_l2!r}.")
        if isinstance(embedding_dim, bool) or not isinstance(embedding_dim, int) or embedding_dim < 1:
            raise ValueError(f"embedding_dim must be an int >= 1, got {embedding_dim!r}.")

        self.fields = fields
        self.embedding_dim = embedding_dim
        self.normalization = normalization
        self.embedding_l2 = float(embedding_l2)
        regularizer = keras.regularizers.L2(self.embedding_l2) if self.embedding_l2 else None
        self.embedders: Dict[str, keras.layers.Layer] = {
            f.name: embedders.get(f.name) or PooledEmbedding(
                f.vocab_size, embedding_dim, embeddings_regularizer=regularizer,
                name=f"{f.name}_embedding")
            for f in fields
        }
        self._custom_embedders = sorted(embedders)
        if normalization == "batch":
            self.norm = keras.layers.BatchNormalization(name="embedding_batch_norm")
        elif normalization == "layer":
            self.norm = keras.layers.LayerNormalization(name="embedding_layer_norm")
        else:
            self.norm = None

    def call(self, features: Mapping[str, tf.Tensor], training: bool | None = None) -> tf.Tensor:
        missing = [f.name for f in self.fields if f.name not in features]
        if missing:
            raise KeyError(f"FeatureEmbedding: features {missing} are missing; got {sorted(features)}.")
        outputs = []
        for field in self.fields:
            vectors = call_embedder(self.embedders[field.name], features[field.name], features, training)
            if vectors.shape.rank != 2:
                raise ValueError(
                    f"The embedder of field {field.name!r} must return [batch, dim], got shape "
                    f"{vectors.shape}.")
            outputs.append(tf.cast(vectors, self.compute_dtype))
        flat = tf.concat(outputs, axis=-1)
        if self.norm is not None:
            flat = self.norm(flat, training=training)
        return flat

    def embedding_weights(self) -> list:
        """The weights owned by the embedders (the "embedding" parameters)."""
        return [w for e in self.embedders.values() for w in e.weights]

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(fields=[dataclasses.asdict(f) for f in self.fields],
                      embedding_dim=self.embedding_dim, normalization=self.normalization,
                      embedding_l2=self.embedding_l2,
                      # Custom embedders travel as Keras layer configs (registered classes only).
                      embedders={name: keras.layers.serialize(self.embedders[name])
                                 for name in self._custom_embedders})
        return config

