"""Small-data pipeline runs shared by the end-to-end tests: a slice of a data set, small-data settings."""

import json
import pathlib
from typing import Sequence

# Small-data settings: BatchNorm's moving statistics need more steps than a few thousand rows give.
SMALL_DATA_CONFIG = {"backbone_config": {"num_layers": 1, "num_views": 2, "view_dim": 16},
                     "embedding_normalization": None, "embedding_l2": 0.0}


def copy_head(source: pathlib.Path, target: pathlib.Path, rows: int) -> None:
    """Writes the header and the first `rows` data rows of `source` to `target`."""
    with open(source, encoding="utf-8") as f:
        target.write_text("".join(line for _, line in zip(range(rows + 1), f)), encoding="utf-8")


def slice_splits(source: pathlib.Path, target: pathlib.Path, train_rows: int, eval_rows: int) -> pathlib.Path:
    """`train.csv` and `valid.csv` of `source`, cut to the given rows, in `target`."""
    copy_head(source / "train.csv", target / "train.csv", train_rows)
    copy_head(source / "valid.csv", target / "valid.csv", eval_rows)
    return target


def run_args(data: pathlib.Path, output: pathlib.Path, layout: str, *extra: str, epochs: int = 3,
             model_name: str = "ssr") -> Sequence[str]:
    """`ssr-pipeline run` arguments for an SSR-D on a slice with the small-data settings."""
    return ["run", "--data", str(data), "--layout", layout, "--model", "ssr-d", "--output", str(output),
            "--model-name", model_name, "--epochs", str(epochs), "--batch-size", "256", "--learning-rate", "0.003",
            "--config", json.dumps(SMALL_DATA_CONFIG), *extra]
