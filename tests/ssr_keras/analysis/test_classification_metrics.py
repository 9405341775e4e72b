"""AUC and log loss against their definitions."""

import numpy as np
import pytest

from ssr_keras.analysis.classification_metrics import log_loss, roc_auc


def test_roc_auc_matches_pairwise_definition():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    scores = np.round(rng.random(200), 1)  # many ties
    positives, negatives = scores[labels == 1], scores[labels == 0]
    pairwise = np.mean((positives[:, None] > negatives[None, :]) + 0.5 * (positives[:, None] == negatives[None, :]))
    assert roc_auc(labels, scores) == pytest.approx(pairwise)
    assert np.isnan(roc_auc(np.ones(3), np.arange(3.0)))
    assert log_loss([1, 0], [0.9, 0.1]) == pytest.approx(-np.log(0.9))
