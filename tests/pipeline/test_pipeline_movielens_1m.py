"""The pipeline end to end on a MovieLens-1M slice: 8 fields, `genres_all` multivalent, served raw rows."""


import numpy as np
import pytest
import tensorflow as tf

from pipeline import cli
from pipeline.run_summary import summarize_last_run
from ssr_keras.data import csv_files, layouts
from ssr_keras.export import layout_example

from .slices import run_args, slice_splits

pytestmark = pytest.mark.slow

LAYOUT = layouts.get_layout("movielens-1m")


@pytest.fixture(scope="module")
def run(tmp_path_factory, data_dir):
    data = slice_splits(data_dir / "movielens-1m", tmp_path_factory.mktemp("movielens_1m"), 3000, 600)
    output = tmp_path_factory.mktemp("run")
    assert cli.main(run_args(data, output, "movielens-1m", model_name="ml1m")) == 0
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
