"""Analyses and metrics: implicit sparsity of dense kernels, FLOPs and parameter counts, metrics.

* `implicit_sparsity` / `plotting`: how sparse a trained dense model already is (the SSR paper's
  motivation), with a histogram PNG;
* `flops`, `params`: FLOPs per example and embedding / non-embedding parameter counts of a model;
* `classification_metrics` (AUC, log loss) and `retrieval_metrics` (Recall@k, NDCG@k);
* `benchmark_records`: the records and tables the benchmarks write.

Example:

>>> from ssr_keras.analysis import roc_auc
>>> roc_auc([0, 1, 1, 0], [0.1, 0.8, 0.4, 0.5])
0.75
"""

from ssr_keras.analysis.classification_metrics import log_loss, roc_auc
from ssr_keras.analysis.flops import flops_per_example
from ssr_keras.analysis.implicit_sparsity import (
    KernelSparsity,
    SparsityReport,
    analyze_kernels,
    kernel_sparsity,
    load_dense_kernels,
    model_dense_kernels,
)
from ssr_keras.analysis.params import count_params
from ssr_keras.analysis.plotting import plot_implicit_sparsity
from ssr_keras.analysis.retrieval_metrics import evaluate_top_k, ndcg_at_k, recall_at_k, top_k_items

__all__ = [
    "KernelSparsity",
    "SparsityReport",
    "analyze_kernels",
    "count_params",
    "evaluate_top_k",
    "flops_per_example",
    "kernel_sparsity",
    "load_dense_kernels",
    "log_loss",
    "model_dense_kernels",
    "ndcg_at_k",
    "plot_implicit_sparsity",
    "recall_at_k",
    "roc_auc",
    "top_k_items",
]
