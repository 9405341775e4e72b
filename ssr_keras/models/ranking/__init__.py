"""Ranking models: a per-field embedding front, a backbone from the registry, a `Dense(1)` logit head.

Example:

>>> from ssr_keras.data import FieldSpec
>>> from ssr_keras.models.ranking import RankingModel
>>> model = RankingModel([FieldSpec("user", 1000), FieldSpec("item", 500)], backbone="ssr-d")
"""

from ssr_keras.models.ranking.backbones import BACKBONES, DCNv2Backbone, MLPBackbone, build_backbone
from ssr_keras.models.ranking.feature_embedding import FeatureEmbedding
from ssr_keras.models.ranking.ranking_model import RankingModel

__all__ = ["BACKBONES", "DCNv2Backbone", "FeatureEmbedding", "MLPBackbone", "RankingModel", "build_backbone"]
