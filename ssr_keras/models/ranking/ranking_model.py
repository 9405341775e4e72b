"""`RankingModel`: a TFRS ranking model = feature front -> backbone -> `Dense(1)` logit."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence, Tuple

import tensorflow as tf
import tensorflow_recommenders as tfrs
import tf_keras as keras

from ssr_keras.data.field_spec import FieldSpec
from ssr_keras.layers import SSRBackbone
from ssr_keras.models.ranking.backbones import BACKBONES, build_backbone
from ssr_keras.models.ranking.feature_embedding import FeatureEmbedding
from ssr_keras.models.traced_model import TracedStepsModel


class RankingModel(TracedStepsModel):
    """A click-through-rate model with interchangeable backbones, trained with `tfrs.tasks.Ranking`.

    Every backbone sees the same `FeatureEmbedding` front (one embedder per field, all
    `embedding_dim` wide unless overridden) and is scored by the same `Dense(1)` logit head, so
    comparisons between backbones differ only in the backbone. The task uses binary cross-entropy on
    logits and tracks `auc` and `logloss`.

    Args:
        fields: the categorical input fields.
        backbone: a name of the backbone registry `BACKBONES` ("ssr-d", "ssr-s", "dnn", "dcnv2").
        embedding_dim: width of the default per-field embeddings.
        backbone_config: keyword arguments of the backbone (see `build_backbone`).
        embedders: optional per-field embedder overrides (see `FeatureEmbedding`).
        embedding_normalization: None, "batch" or "layer" normalisation of the concatenated embeddings.
        embedding_l2: L2 penalty on the default embedding tables (see `FeatureEmbedding`).

    Call args:
        features: dict `field name -> int64 ids` (`[B]`, or `[B, max_len]` padded with -1).

    Returns:
        click probabilities, float32 `[B, 1]`.

    Example:

    >>> model = RankingModel([FieldSpec("user", 1000), FieldSpec("item", 500)], backbone="dnn",
    ...                      backbone_config={"hidden_units": [64, 32]})
    >>> model.compile(optimizer=keras.optimizers.Adam(1e-3))
    >>> # model.fit(dataset_of_features_and_labels, validation_data=..., epochs=...)
    """

    def __init__(self, fields: Sequence[FieldSpec], backbone: str = "ssr-d", embedding_dim: int = 16,
                 backbone_config: Mapping[str, Any] | None = None,
                 embedders: Mapping[str, keras.layers.Layer] | None = None,
                 embedding_normalization: str | None = None, embedding_l2: float = 0.0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if backbone not in BACKBONES:
            raise ValueError(f"Unknown backbone; expected one of {list(BACKBONES)}. Received: {backbone!r}")
        self.field_specs = tuple(fields)
        self.backbone_name = backbone
        self.embedding_dim = embedding_dim
        self.backbone_config = dict(backbone_config or {})
        self.embedding_normalization = embedding_normalization
        self.embedding_l2 = embedding_l2

        self.feature_embedding = FeatureEmbedding(
            self.field_specs, embedding_dim, embedders=embedders, normalization=embedding_normalization,
            embedding_l2=embedding_l2, name="feature_embedding")
        self.backbone = build_backbone(backbone, **self.backbone_config)
        self.head = keras.layers.Dense(1, name="logit")
        # Per-example losses, averaged in `compute_loss` over the global batch: the one reduction that is
        # right under every tf.distribute strategy (Keras refuses its AUTO reduction under them).
        self.task = tfrs.tasks.Ranking(
            loss=keras.losses.BinaryCrossentropy(from_logits=True, reduction=keras.losses.Reduction.NONE),
            metrics=[keras.metrics.AUC(name="auc", from_logits=True),
                     keras.metrics.BinaryCrossentropy(name="logloss", from_logits=True)],
        )

    def logits(self, features: Mapping[str, tf.Tensor], training: bool | None = None,
               report_sparsity: bool = True) -> tf.Tensor:
        """Returns the click logits `[B, 1]` (the head before the sigmoid).

        `report_sparsity=False` skips an SSR-D backbone's ICS sparsity metrics (`call`, i.e. predict
        and serving, does: only fit and evaluate report them).
        """
        embedded = self.feature_embedding(features, training=training)
        extra = {"report_sparsity": report_sparsity} if isinstance(self.backbone, SSRBackbone) else {}
        return self.head(self.backbone(embedded, training=training, **extra))

    def call(self, features: Mapping[str, tf.Tensor], training: bool | None = None) -> tf.Tensor:
        return tf.sigmoid(self.logits(features, training=training, report_sparsity=False))

    def compute_loss(self, inputs: Tuple[Mapping[str, tf.Tensor], tf.Tensor],
                     training: bool = False) -> tf.Tensor:
        features, labels = inputs
        logits = self.logits(features, training=training)
        labels = tf.reshape(tf.cast(labels, logits.dtype), [-1, 1])
        return tf.nn.compute_average_loss(self.task(labels=labels, predictions=logits, training=training))


    def describe(self) -> Dict[str, Any]:
        """A JSON-friendly summary of how the model was configured."""
        return {
            "backbone": self.backbone_name,
            "embedding_dim": self.embedding_dim,
            "backbone_config": self.backbone_config,
            "embedding_normalization": self.embedding_normalization,
            "embedding_l2": self.embedding_l2,
            "fields": [{"name": f.name, "vocab_size": f.vocab_size, "max_len": f.max_len}
                       for f in self.field_specs],
        }
