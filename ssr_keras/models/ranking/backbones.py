"""The backbone registry: `[B, D]` flat embeddings -> `[B, H]` hidden representation, by name.

`BACKBONES` maps each name to the layer class it builds (every CLI's `--model` choices come from it):

* `"ssr-d"` / `"ssr-s"`: `ssr_keras.layers.SSRBackbone` (explicitly sparse multi-view layers);
* `"dnn"`: `MLPBackbone`, a plain ReLU MLP (optionally BatchNorm / dropout);
* `"dcnv2"`: `DCNv2Backbone`, `tfrs.layers.dcn.Cross` layers (optionally low-rank) with a deep tower,
  stacked or in parallel.

The ranking head (a `Dense(1)` logit) lives in `RankingModel`, so every backbone is scored the same way.
"""

from __future__ import annotations

import functools
from typing import Callable, Dict, Sequence

import tensorflow as tf
import tensorflow_recommenders as tfrs
import tf_keras as keras

from ssr_keras.layers import SSRBackbone


@keras.saving.register_keras_serializable(package="ssr_keras")
class MLPBackbone(keras.layers.Layer):
    """A dense MLP: `Dense(units) -> [BatchNorm] -> activation -> [Dropout]` per hidden layer.

    Args:
        hidden_units: width of each hidden layer, input side first.
        activation: activation of every hidden layer.
        batch_norm: insert BatchNormalization before each activation.
        dropout: dropout rate after each activation (0 disables it).

    Example:

    >>> MLPBackbone(hidden_units=(64, 32))(tf.zeros([2, 10])).shape
    TensorShape([2, 32])
    """

    def __init__(self, hidden_units: Sequence[int] = (400, 400, 400), activation: str = "relu",
                 batch_norm: bool = False, dropout: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        hidden_units = tuple(int(u) for u in hidden_units)
        if not hidden_units or min(hidden_units) < 1:
            raise ValueError(f"MLPBackbone.hidden_units must be a non-empty list of ints >= 1, "
                             f"got {hidden_units!r}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLPBackbone.dropout must be in [0, 1), got {dropout!r}.")
        self.hidden_units = hidden_units
        self.activation = activation
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.tower = keras.Sequential(name="tower")
        for units in hidden_units:
            # The bias is redundant right before BatchNorm's own shift.
            self.tower.add(keras.layers.Dense(units, use_bias=not batch_norm))
            if batch_norm:
                self.tower.add(keras.layers.BatchNormalization())
            self.tower.add(keras.layers.Activation(activation))
            if dropout:
                self.tower.add(keras.layers.Dropout(dropout))

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        return self.tower(inputs, training=training)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(hidden_units=list(self.hidden_units), activation=self.activation,
                      batch_norm=self.batch_norm, dropout=self.dropout)
        return config


@keras.saving.register_keras_serializable(package="ssr_keras")
class DCNv2Backbone(keras.layers.Layer):
    """DCN-V2 (Wang et al. 2021): `num_cross_layers` x `tfrs.layers.dcn.Cross` plus a deep ReLU tower.

    Args:
        num_cross_layers: number of cross layers `x_{l+1} = x0 * (W x_l + b) + x_l`.
        projection_dim: None for full-rank cross kernels, else the low-rank (mixture-free) dimension.
        deep_units: widths of the deep tower (may be empty for a cross-only network).
        structure: "stacked" (cross network, then the deep tower on its output) or "parallel" (both
            read the embeddings; their outputs are concatenated).
        batch_norm / dropout: as in `MLPBackbone`, for the deep tower.

    Example:

    >>> DCNv2Backbone(num_cross_layers=2, deep_units=(32,))(tf.zeros([2, 10])).shape
    TensorShape([2, 32])
    """

    def __init__(self, num_cross_layers: int = 3, projection_dim: int | None = None,
                 deep_units: Sequence[int] = (400, 400), structure: str = "stacked",
                 batch_norm: bool = False, dropout: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        if structure not in ("stacked", "parallel"):
            raise ValueError(f"DCNv2Backbone.structure must be 'stacked' or 'parallel', got {structure!r}.")
        if num_cross_layers < 1:
            raise ValueError(f"DCNv2Backbone.num_cross_layers must be >= 1, got {num_cross_layers!r}.")
        self.num_cross_layers = num_cross_layers
        self.projection_dim = projection_dim
        self.deep_units = tuple(int(u) for u in deep_units)
        self.structure = structure
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.cross_layers = [
            tfrs.layers.dcn.Cross(projection_dim=projection_dim, kernel_initializer="glorot_uniform",
                                  name=f"cross_{i}")
            for i in range(num_cross_layers)
        ]
        self.deep = (MLPBackbone(self.deep_units, batch_norm=batch_norm, dropout=dropout, name="deep")
                     if self.deep_units else None)

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        crossed = inputs
        for cross in self.cross_layers:
            crossed = cross(inputs, crossed)
        if self.deep is None:
            return crossed
        if self.structure == "stacked":
            return self.deep(crossed, training=training)
        return tf.concat([crossed, self.deep(inputs, training=training)], axis=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(num_cross_layers=self.num_cross_layers, projection_dim=self.projection_dim,
                      deep_units=list(self.deep_units), structure=self.structure,
                      batch_norm=self.batch_norm, dropout=self.dropout)
        return config


def _ssr_backbone(variant: str, **config) -> SSRBackbone:
    if "variant" in config and config["variant"] != variant:
        raise ValueError(f"backbone {variant!r} conflicts with backbone_config variant. "
                         f"Received: {config['variant']!r}")
    config = {k: v for k, v in config.items() if k != "variant"}
    return SSRBackbone(variant=variant, **config)


# name -> builder(**backbone_config); the one list of backbones.
BACKBONES: Dict[str, Callable[..., keras.layers.Layer]] = {
    "ssr-d": functools.partial(_ssr_backbone, "ssr-d"),
    "ssr-s": functools.partial(_ssr_backbone, "ssr-s"),
    "dnn": MLPBackbone,
    "dcnv2": DCNv2Backbone,
}


def build_backbone(name: str, **config) -> keras.layers.Layer:
    """Builds the backbone called `name` (a key of `BACKBONES`) from its keyword config.

    Args:
        name: which backbone.
        **config: constructor arguments of that backbone (`SSRBackbone` for SSR, else `MLPBackbone`
            or `DCNv2Backbone`).

    Example:

    >>> build_backbone("dnn", hidden_units=[256, 128]).hidden_units
    (256, 128)
    """
    if name not in BACKBONES:
        raise ValueError(f"Unknown backbone; expected one of {list(BACKBONES)}. Received: {name!r}")
    return BACKBONES[name](name="backbone", **config)
