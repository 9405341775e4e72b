"""The pipeline end to end on a MovieLens-1M slice: 8 fields, `genres_all` multivalent, served raw rows."""

import json

import numpy as np
import pytest
import tensorflow as tf

from pipeline import cli
from pipeline.run_summary import summarize_last_run
from ssr_keras.data import csv_files, layouts
from ssr_keras.export import layout_example

pytestmark = pytest.mark.slow

LAYOUT = layouts.get_layout("movielens-1m")


def _copy_head(source, target, rows):
    with open(source, encoding="utf-8") as f:
        target.write_text("".join(line for _, line in zip(range(rows + 1), f)), encoding="utf-8")


@pytest.fixture(scope="module")
def run(tmp_path_factory, data_dir):
    data = tmp_path_factory.mktemp("movielens_1m")
    _copy_head(data_dir / "movielens-1m" / "train.csv", data / "train.csv", 3000)
    _copy_head(data_dir / "movielens-1m" / "valid.csv", data / "valid.csv", 600)
    output = tmp_path_factory.mktemp("run")
    config = {"backbone_config": {"num_layers": 1, "num_views": 2, "view_dim": 16},
              "embedding_normalization": None, "embedding_l2": 0.0}
    assert cli.main(["run", "--data", str(data), "--layout", "movielens-1m", "--model", "ssr-d", "--output",
                     str(output), "--model-name", "ml1m", "--epochs", "3", "--batch-size", "256",
                     "--learning-rate", "0.003", "--config", json.dumps(config)]) == 0
    return data, summarize_last_run(str(output / "metadata.sqlite"), "ml1m")


def test_movielens_1m_is_trained_blessed_and_pushed(run):
    _, summary = run
    assert summary.blessed and summary.pushed_path
    assert summary.metrics["example_count"] == 600 and summary.metrics["auc"] > 0.5


def test_pushed_model_scores_raw_rows_with_their_genre_lists(run):
    data, summary = run
    rows = list(csv_files.iter_dict_rows(LAYOUT, str(data / "valid.csv"), max_rows=32))
    rows[0]["genres_all"] = "Comedy"  # one genre: five padding positions
    rows[1]["genres_all"] = "Film-Noir|Sci-Fi|Thriller|War|Western|Horror|Drama"  # more than 6: cut at 6
    serialized = tf.constant([layout_example(LAYOUT, row).SerializeToString() for row in rows])
    served = tf.saved_model.load(summary.pushed_path).signatures
    probabilities = served["serving_default"](examples=serialized)["probabilities"].numpy()
    assert probabilities.shape == (32, 1) and np.all((probabilities > 0) & (probabilities < 1))
    scores = served["classification"](inputs=serialized)["scores"].numpy()
    np.testing.assert_allclose(scores[:, 1:], probabilities, rtol=1e-6)
