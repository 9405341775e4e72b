"""Retrieval models: user (or user history) -> top-k items, scored and evaluated the same way.

* `MatrixFactorization`, `LightGCN` (BPR, `bpr_training.train_bpr`), with swappable user and item
  embedders (e.g. BACO's `CodebookEmbedding`);
* `ELSA` (dense or top-k sparse item matrix) and the closed-form `EASE` baseline;
* `segments`: Compressed ELSA's inverted-index segments.

Every model is evaluated with `ssr_keras.analysis.retrieval_metrics` and exported with
`ssr_keras.export.export_user_retriever` / `export_history_retriever`.
"""

from ssr_keras.models.retrieval.ease import EASE
from ssr_keras.models.retrieval.elsa import ELSA
from ssr_keras.models.retrieval.lightgcn import LightGCN
from ssr_keras.models.retrieval.matrix_factorization import MatrixFactorization

__all__ = ["EASE", "ELSA", "LightGCN", "MatrixFactorization"]
