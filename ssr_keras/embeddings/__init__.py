"""Every way to embed one field: the embedder protocol and its implementations.

An *embedder* maps one field's int64 ids (`[B]`, or `[B, L]` padded with -1; see
`ssr_keras.data.ids`) to a float `[B, E]` tensor, and is what `RankingModel(embedders={...})` and the
retrieval models take per field (see `ssr_keras.embeddings.embedder` for the full protocol).

* `PooledEmbedding`: one table row per id, multivalent ids mean-pooled (the default);
* shared codebooks (BACO), top-k sparse high-dimensional rows (Compressed ELSA) and semantic IDs
  (GateSID) live in their own modules of this package.

Example:

>>> from ssr_keras.embeddings import PooledEmbedding
>>> PooledEmbedding(vocab_size=10, embedding_dim=4).compute_output_shape([None, 3])
TensorShape([None, 4])
"""

from ssr_keras.embeddings.embedder import call_embedder, side_inputs_of
from ssr_keras.embeddings.pooled import PooledEmbedding

__all__ = ["PooledEmbedding", "call_embedder", "side_inputs_of"]
