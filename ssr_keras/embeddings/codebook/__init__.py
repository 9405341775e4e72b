"""Shared-codebook embedding assignments: which embedding row every user and item uses.

Every method takes the same inputs (training edges `[E, 2]` of 0-based user and item ids, the id counts, a
row budget as rows or a fraction of `num_users + num_items`, a seed) and returns a `CodebookAssignment`:

* `fit_baco`: BACO's balanced co-clustering (arXiv:2604.18351);
* `fit_random_hash`, `fit_frequency_hash`, `fit_louvain`: the baselines at the same row budget.

`fit_codebook(method, ...)` dispatches by name (`METHODS`). `CodebookEmbedding` is the Keras layer that embeds
ids through an assignment's codebook (`CodebookEmbedding.from_assignment`).
"""

from ssr_keras.embeddings.codebook.assignment import NO_CODE, CodebookAssignment
from ssr_keras.embeddings.codebook.baco import fit_baco
from ssr_keras.embeddings.codebook.baselines import (
    METHODS,
    fit_codebook,
    fit_frequency_hash,
    fit_louvain,
    fit_random_hash,
)
from ssr_keras.embeddings.codebook.codebook_embedding import CodebookEmbedding

__all__ = [
    "METHODS",
    "NO_CODE",
    "CodebookAssignment",
    "CodebookEmbedding",
    "fit_baco",
    "fit_codebook",
    "fit_frequency_hash",
    "fit_louvain",
    "fit_random_hash",
]
