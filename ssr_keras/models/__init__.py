"""Models: `ranking/` (CTR models over per-field embeddings) and `retrieval/` (top-k item retrieval).

Example:

>>> from ssr_keras.data import FieldSpec
>>> from ssr_keras.models import RankingModel
>>> model = RankingModel([FieldSpec("user", 1000), FieldSpec("item", 500)], backbone="dnn")
"""

from ssr_keras.data.field_spec import FieldSpec
from ssr_keras.models.ranking import (
    BACKBONES,
    DCNv2Backbone,
    FeatureEmbedding,
    MLPBackbone,
    RankingModel,
    build_backbone,
)

__all__ = [
    "BACKBONES",
    "DCNv2Backbone",
    "FeatureEmbedding",
    "FieldSpec",
    "MLPBackbone",
    "RankingModel",
    "build_backbone",
]
