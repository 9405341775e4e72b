"""Quantile bucket edges of a layout's `bucketing: {quantiles: N}` columns, from a training file.

The pipeline computes them in Transform (`tft.quantiles`, approximate); the readers of `ssr-train` and
the benchmarks compute them here, exactly, from the training rows they use (`numpy.quantile`; blanks
are left out). The two are close but not identical, so a model's ids come from one path only.

Example:

>>> import os, tempfile
>>> from ssr_keras.data.layouts import layout_from_text
>>> layout = layout_from_text('{"name": "toy", "label": "y", "columns": [{"name": "y"}, '
...                           '{"name": "v", "kind": "numeric", "bucketing": {"quantiles": 2}}]}')
>>> path = os.path.join(tempfile.mkdtemp(), "train.csv")
>>> _ = open(path, "w").write("y,v\\n1,1\\n0,2\\n1,3\\n0,\\n")
>>> quantile_edges(layout, path)
{'v': [2.0]}
"""

from __future__ import annotations

from typing import Dict, List

import numpy as np

from ssr_keras.data import csv_files
from ssr_keras.data.layouts import Layout


def quantile_edges(layout: Layout, path: str, max_rows: int | None = None) -> Dict[str, List[float]]:
    """`{column: increasing edges}` at the 1/N, ..., (N-1)/N quantiles of each quantile column's values.

    Raises:
        ValueError: a quantile column has no value in the file's rows.
    """
    values: Dict[str, List[float]] = {column: [] for column in layout.quantile_columns}
    for row in csv_files.iter_dict_rows(layout, path, max_rows=max_rows):
        for column, column_values in values.items():
            text = row[column].strip()
            if text:
                column_values.append(float(text))
    edges = {}
    for column, count in layout.quantile_columns.items():
        if not values[column]:
            raise ValueError(f"{path}: column {column!r} (bucketing: quantiles) has no values to compute edges from.")
        points = np.quantile(np.asarray(values[column], np.float64), np.arange(1, count) / count)
        edges[column] = sorted({float(p) for p in points})
    return edges


def with_training_quantiles(layout: Layout, train_path: str, max_rows: int | None = None) -> Layout:
    """The layout with its quantile columns' edges computed from `train_path` (itself when it has none)."""
    if not layout.quantile_columns:
        return layout
    return layout.with_quantile_edges(quantile_edges(layout, train_path, max_rows))
