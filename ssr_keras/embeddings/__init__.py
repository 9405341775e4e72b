"""Every way to embed one field: the embedder protocol and its implementations.

An *embedder* maps one field's int64 ids (`[B]`, or `[B, L]` padded with -1; see
`ssr_keras.data.ids`) to a float `[B, E]` tensor, and is what `RankingModel(embedders={...})` and the
retrieval models take per field (see `ssr_keras.embeddings.embedder` for the full protocol).

* `PooledEmbedding`: one table row per id, multivalent ids mean-pooled (the default);
* `CodebookEmbedding` (`codebook/`): BACO's shared codebook rows, with the co-clustering and baselines;
* `TopKSparseEmbedding`: Compressed ELSA's top-k sparse high-dimensional rows;
* `SemanticIdEmbedding` (`semantic_id/`): GateSID's RQ-VAE semantic IDs, with the quantiser.

Example:

>>> from ssr_keras.embeddings import PooledEmbedding
>>> PooledEmbedding(vocab_size=10, embedding_dim=4).compute_output_shape([None, 3])
TensorShape([None, 4])
"""

from ssr_keras.embeddings.codebook import CodebookEmbedding
from ssr_keras.embeddings.embedder import call_embedder, side_inputs_of
from ssr_keras.embeddings.pooled import PooledEmbedding
from ssr_keras.embeddings.semantic_id import SemanticIdEmbedding
from ssr_keras.embeddings.topk_sparse import TopKSparseEmbedding

__all__ = ["CodebookEmbedding", "PooledEmbedding", "SemanticIdEmbedding", "TopKSparseEmbedding", "call_embedder",
           "side_inputs_of"]
