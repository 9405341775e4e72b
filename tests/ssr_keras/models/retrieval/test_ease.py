"""EASE against its constrained ridge regression, column by column."""

import numpy as np
import pytest
import scipy.sparse as sp

from ssr_keras.models.retrieval.ease import EASE


def constrained_ridge(x: np.ndarray, l2: float) -> np.ndarray:
    """Each column j regressed on the other columns (B_jj = 0): B_-j,j = (X_-jᵀX_-j + λI)⁻¹ X_-jᵀ x_j."""
    n = x.shape[1]
    weights = np.zeros((n, n))
    for j in range(n):
        others = [i for i in range(n) if i != j]
        xo = x[:, others]
        weights[others, j] = np.linalg.solve(xo.T @ xo + l2 * np.eye(n - 1), xo.T @ x[:, j])
    return weights


@pytest.mark.parametrize("l2", [0.5, 3.0, 50.0])
def test_ease_equals_its_closed_form(l2):
    x = np.random.RandomState(0).binomial(1, 0.4, size=(30, 7)).astype(float)
    model = EASE(l2=l2).fit(sp.csr_matrix(x))
    np.testing.assert_allclose(model.weights, constrained_ridge(x, l2), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(np.diag(model.weights), 0.0)
    np.testing.assert_allclose(model.score(sp.csr_matrix(x[:3])), x[:3] @ model.weights)


def test_ease_bad_input():
    with pytest.raises(ValueError, match="l2=0"):
        EASE(l2=0)
    with pytest.raises(ValueError, match="all-zero"):
        EASE().fit(sp.csr_matrix((3, 4)))
    with pytest.raises(ValueError, match="fit"):
        EASE().score(np.zeros((1, 4)))
    model = EASE(l2=1.0).fit(np.eye(4))
    with pytest.raises(ValueError, match="4 item columns"):
        model.score(np.zeros((1, 5)))
    assert model.get_config() == {"l2": 1.0}
