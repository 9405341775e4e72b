"""`EASE`: the closed-form linear item-item autoencoder (Steck, WWW '19), the accuracy anchor for ELSA.

`B = argmin ||X − X B||² + λ ||B||²` subject to `diag(B) = 0` has the closed form
`P = (XᵀX + λI)⁻¹`, `B = −P / diag(P)` (column-wise), `diag(B) = 0`; a user's scores are `x B`.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp


class EASE:
    """Embarrassingly shallow autoencoder: a dense item-item weight matrix fitted in closed form.

    Args:
        l2: the L2 penalty λ (> 0) on the weights.

    Reference: H. Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019.

    Example:

    >>> X = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [1, 1, 1]], dtype=float))
    >>> model = EASE(l2=0.5).fit(X)
    >>> bool(np.allclose(np.diag(model.weights), 0.0))
    True
    >>> model.score(X).shape
    (3, 3)
    """

    def __init__(self, l2: float = 500.0) -> None:
        if isinstance(l2, bool) or not isinstance(l2, (int, float, np.floating)) or not l2 > 0:
            raise ValueError(f"`l2` must be a positive number. Received: l2={l2!r}")
        self.l2 = float(l2)
        self.weights: np.ndarray | None = None

    def fit(self, interactions) -> EASE:
        """Fits `B` on `interactions` `[num_users, num_items]` (dense or `scipy.sparse`, non-zeros = 1)."""
        matrix = sp.csr_matrix(interactions, dtype=np.float64)
        if matrix.nnz == 0:
            raise ValueError("`interactions` must hold at least one interaction. Received: an all-zero matrix")
        matrix.data[:] = 1.0
        gram = (matrix.T @ matrix).toarray()
        gram[np.diag_indices_from(gram)] += self.l2
        precision = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
        weights = precision / -np.diag(precision)[np.newaxis, :]
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights = weights
        return self

    def score(self, inputs) -> np.ndarray:
        """Scores `x B` of interaction rows `[b, num_items]` (dense or sparse)."""
        if self.weights is None:
            raise ValueError("EASE.score needs a fitted model; call fit(interactions) first.")
        if inputs.shape[-1] != self.weights.shape[0]:
            raise ValueError(f"`inputs` must have {self.weights.shape[0]} item columns. Received: shape {inputs.shape}")
        return np.asarray(inputs @ self.weights)

    def get_config(self) -> dict:
        return {"l2": self.l2}
