"""`LightGCN`: ego embeddings propagated over the normalised user-item graph, layer outputs averaged."""

from __future__ import annotations

from typing import Tuple

import numpy as np
import scipy.sparse as sp
import tensorflow as tf

from ssr_keras.models.retrieval.bpr_model import BPRRetrievalModel
from ssr_keras.validation import check_non_negative_int


def normalized_adjacency(interactions: sp.spmatrix) -> sp.coo_matrix:
    """`D^{-1/2} A D^{-1/2}` of the bipartite graph `A = [[0, R], [R^T, 0]]` (users first, then items).

    Args:
        interactions: `[num_users, num_items]` training interactions (non-zeros are edges, counted once).
    """
    matrix = sp.csr_matrix(interactions, dtype=np.float64)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    adjacency = sp.bmat([[None, matrix], [matrix.T, None]], format="csr")
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    inverse_sqrt = np.zeros_like(degree)
    inverse_sqrt[degree > 0] = degree[degree > 0] ** -0.5
    scale = sp.diags(inverse_sqrt)
    return (scale @ adjacency @ scale).tocoo()


class LightGCN(BPRRetrievalModel):
    """LightGCN: `E_{k+1} = D^{-1/2} A D^{-1/2} E_k` for `num_layers` layers, final `mean(E_0, ..., E_L)`.

    The ego embeddings `E_0` come from the user and item embedders (full tables, or `CodebookEmbedding`s so
    that ids sharing a codebook row diverge only through propagation, as in BACO). Propagation is a
    `tf.sparse.sparse_dense_matmul` over the whole training graph at every step.

    Args:
        interactions: scipy sparse `[num_users, num_items]` training interactions (the graph).
        num_layers: propagation layers (>= 0; 0 is MF).
        embedding_dim, user_embedder, item_embedder: as `BPRRetrievalModel`.

    Reference: He et al., "LightGCN: Simplifying and Powering Graph Convolution Network for
    Recommendation", SIGIR 2020.

    Example:

    >>> interactions = sp.csr_matrix(np.array([[1, 0, 1], [0, 1, 0]]))
    >>> model = LightGCN(interactions, num_layers=2, embedding_dim=4)
    >>> [t.shape for t in model.embeddings()]
    [TensorShape([2, 4]), TensorShape([3, 4])]
    """

    def __init__(self, interactions: sp.spmatrix, num_layers: int = 2, embedding_dim: int = 64,
                 user_embedder=None, item_embedder=None, **kwargs) -> None:
        if not sp.issparse(interactions):
            raise ValueError("`interactions` must be a scipy.sparse matrix [num_users, num_items]. Received: "
                             f"{type(interactions).__name__}")
        num_layers = check_non_negative_int("num_layers", num_layers)
        num_users, num_items = interactions.shape
        super().__init__(int(num_users), int(num_items), embedding_dim, user_embedder, item_embedder, **kwargs)
        self.num_layers = num_layers
        coo = normalized_adjacency(interactions)
        self.adjacency = tf.sparse.reorder(tf.SparseTensor(
            indices=np.stack([coo.row, coo.col], axis=1).astype(np.int64), values=coo.data.astype(np.float32),
            dense_shape=coo.shape))

    def propagate(self, users: tf.Tensor, items: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
        layer = tf.concat([users, items], axis=0)
        total = layer
        for _ in range(self.num_layers):
            layer = tf.sparse.sparse_dense_matmul(self.adjacency, layer)
            total += layer
        final = total / float(self.num_layers + 1)
        return final[:self.num_users], final[self.num_users:]
