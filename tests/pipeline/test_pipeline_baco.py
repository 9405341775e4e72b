"""`ssr-pipeline run --embedding baco` on a frappe slice: codebooks clustered on the train split, inside the push."""

import json
import pathlib

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import trackable_object_graph_pb2

from pipeline import cli
from pipeline.run_summary import summarize_last_run
from ssr_keras.data import csv_files, layouts
from ssr_keras.export import layout_example

from .slices import run_args, slice_splits

pytestmark = pytest.mark.slow

LAYOUT = layouts.get_layout("frappe")


@pytest.fixture(scope="module")
def run(tmp_path_factory, data_dir):
    data = slice_splits(data_dir / "frappe-ctr", tmp_path_factory.mktemp("frappe_baco"), 3000, 600)
    output = tmp_path_factory.mktemp("run")
    extra = ("--embedding", "baco", "--embedding-budget", "0.25")
    assert cli.main(run_args(data, output, "frappe", *extra, model_name="baco")) == 0
    return data, output, summarize_last_run(str(output / "metadata.sqlite"), "baco")


def test_codebooks_are_trained_in_the_pipeline_and_pushed(run):
    data, output, summary = run
    assert summary.blessed and summary.pushed_path
    model_config = json.loads(next(pathlib.Path(output, "Trainer", "model_run").glob("*/model_config.json"))
                              .read_text())
    assert model_config["training"]["embedding"] == "baco"
    reader = tf.train.load_checkpoint(str(pathlib.Path(summary.pushed_path, "variables", "variables")))
    graph = trackable_object_graph_pb2.TrackableObjectGraph.FromString(
        reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    names = [attribute.full_name for node in graph.nodes for attribute in node.attributes]
    # The codebooks and the id -> code maps travel inside the SavedModel.
    for field in ("user", "item"):
        assert any(f"{field}_codebook/code_map" in name for name in names), names
        assert any(f"{field}_codebook/codebook" in name for name in names), names


def test_pushed_model_scores_raw_rows_and_unseen_users(run):
    data, _, summary = run
    rows = list(csv_files.iter_dict_rows(LAYOUT, str(data / "valid.csv"), max_rows=16))
    rows[0]["user"] = "987654321"  # an int64 user id the clustering never saw
    serialized = tf.constant([layout_example(LAYOUT, row).SerializeToString() for row in rows])
    probabilities = tf.saved_model.load(summary.pushed_path).signatures["serving_default"](
        examples=serialized)["probabilities"].numpy()
    assert probabilities.shape == (16, 1) and np.all((probabilities > 0) & (probabilities < 1))
