"""Semantic IDs (GateSID, arXiv 2603.22916): item content -> RQ-VAE codes -> per-level embeddings.

* `ResidualQuantizer`: the RQ-VAE trained offline on item content vectors (see
  `ssr_keras.data.item_content`), then frozen; `encode` maps every item to its `L` codes;
* `codebook_perplexity`, `collision_stats`, `disambiguate_collisions`: quality figures of the codes
  and the extra level that breaks collisions;
* `SemanticIdEmbedding`: the embedder that holds the item id -> SID table and embeds each level.

Example:

>>> import numpy as np
>>> from ssr_keras.embeddings.semantic_id import SemanticIdEmbedding
>>> SemanticIdEmbedding(np.array([[-1, -1], [0, 1]]), codebook_sizes=2, embedding_dim=4).output_dim
8
"""

from ssr_keras.embeddings.semantic_id.residual_quantizer import ResidualQuantizer
from ssr_keras.embeddings.semantic_id.semantic_id_embedding import SemanticIdEmbedding
from ssr_keras.embeddings.semantic_id.sid_metrics import (
    codebook_perplexity,
    collision_stats,
    disambiguate_collisions,
)

__all__ = [
    "ResidualQuantizer",
    "SemanticIdEmbedding",
    "codebook_perplexity",
    "collision_stats",
    "disambiguate_collisions",
]
