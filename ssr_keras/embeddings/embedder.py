"""The embedder protocol: what any layer must do to embed one field of a model.

An embedder is a Keras layer that

1. maps one field's int64 ids, `[B]` for a single-valued field or `[B, L]` padded with
   `ssr_keras.data.ids.PADDING_ID` (-1) for a multivalent one, to a float tensor `[B, E]`;
2. owns its weights (they count as *embedding* parameters in `ssr_keras.analysis.count_params`) and
   any id -> row map it needs (as non-trainable weights), so an exported SavedModel needs nothing
   outside itself;
3. is config-serializable (`get_config`, registered with `keras.saving.register_keras_serializable`),
   so a model holding it round-trips through `keras.layers.serialize` / `deserialize`;
4. may declare *side inputs*: a `side_inputs` attribute naming other features it reads besides its
   own ids (e.g. an item's first-seen timestamp for a maturity gate). It is then called as
   `embedder(ids, side_inputs={name: tensor})` with those features taken from the model's input.

Example:

>>> import tf_keras as keras
>>> class Doubled(keras.layers.Layer):
...     side_inputs = ("age",)
...     def call(self, ids, side_inputs):
...         return tf.stack([tf.cast(ids, tf.float32), side_inputs["age"]], axis=-1) * 2.0
>>> call_embedder(Doubled(), tf.constant([1, 2]), {"age": tf.constant([3.0, 4.0])}).numpy().tolist()
[[2.0, 6.0], [4.0, 8.0]]
"""

from __future__ import annotations

from typing import Mapping, Tuple

import tensorflow as tf
import tf_keras as keras


def side_inputs_of(embedder: keras.layers.Layer) -> Tuple[str, ...]:
    """The feature names `embedder` reads besides its field's ids (empty for most embedders)."""
    names = getattr(embedder, "side_inputs", ())
    if isinstance(names, str):
        raise ValueError(f"{type(embedder).__name__}.side_inputs must be a sequence of feature names, "
                         f"not a string. Received: {names!r}")
    return tuple(names)


def call_embedder(embedder: keras.layers.Layer, ids: tf.Tensor, features: Mapping[str, tf.Tensor],
                  training: bool | None = None) -> tf.Tensor:
    """Embeds `ids` with `embedder`, passing the side inputs it declares from `features`.

    Args:
        embedder: a layer following the protocol above.
        ids: the field's int64 ids.
        features: the model's whole input dict (side inputs are looked up here).
        training: forwarded when the layer's `call` accepts it (Keras does this itself).

    Raises:
        KeyError: a declared side input is not among `features`.
    """
    names = side_inputs_of(embedder)
    if not names:
        return embedder(ids, training=training)
    missing = [name for name in names if name not in features]
    if missing:
        raise KeyError(f"{embedder.name}: side inputs {missing} are missing from the features; "
                       f"received {sorted(features)}.")
    return embedder(ids, side_inputs={name: features[name] for name in names}, training=training)
