"""Distributed training on local process clusters (`ssr-train --strategy`, `LocalTfCluster`).

Each test starts real processes on 127.0.0.1 with their own TF_CONFIG, has a hard timeout and kills
every process it started (`LocalTfCluster.wait`/`stop` in a finally).
"""

import json
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from ssr_keras.data.layouts import get_layout
from ssr_keras.data.reader import make_dataset
from ssr_keras.data.vocabulary import Vocabularies
from ssr_keras.export.tf_example import layout_example
from ssr_keras.training import TrainConfig, build_ranking_model, run_experiment
from ssr_keras.training.local_cluster import ClusterTaskFailed, LocalTfCluster

CONFIG = {"backbone": "dnn", "backbone_config": {"hidden_units": [32]}, "embedding_normalization": None,
          "embedding_l2": 0.0, "batch_size": 256, "learning_rate": 0.003, "epochs": 2, "layout": "frappe"}
# 3000 train rows x 2 epochs at batch 256: 24 steps, enough for AUC well above chance on frappe.
ROWS = {"train.csv": 3000, "valid.csv": 1000, "test.csv": 1000}
ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


@pytest.fixture(scope="module")
def frappe_slice(tmp_path_factory, data_dir):
    folder = tmp_path_factory.mktemp("frappe")
    for name, rows in ROWS.items():
        with open(data_dir / "frappe-ctr" / name, encoding="utf-8") as f:
            (folder / name).write_text("".join(line for _, line in zip(range(rows + 1), f)), encoding="utf-8")
    return folder


def _ssr_train(data, output, strategy):
    return [sys.executable, "-m", "ssr_keras.cli.train", "--data", str(data), "--layout", "frappe",
            "--output", str(output), "--config", json.dumps(CONFIG), "--strategy", strategy, "--quiet"]


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_parameter_servers_train_like_one_process_and_restore_into_it(frappe_slice, tmp_path):
    output = tmp_path / "ps"
    cluster = LocalTfCluster({"chief": 1, "worker": 2, "ps": 2}, _ssr_train(frappe_slice, output, "parameter-server"),
                             env=ENV, log_dir=str(tmp_path))
    try:
        cluster.start().wait(timeout=360)
    finally:
        cluster.stop()
    metrics = json.loads((output / "metrics.json").read_text())
    # The item table (>= 64 KiB) is split over both ps tasks; small tables and kernels stay whole.
    assert max(metrics["variable_shards"].values()) == 2, metrics["variable_shards"]

    config = TrainConfig.from_dict(CONFIG)
    single = run_experiment(config, str(frappe_slice), verbose=0)
    assert metrics["test_auc"] > 0.75
    assert abs(metrics["test_auc"] - single.metrics["test_auc"]) < 0.05, (metrics["test_auc"], single.metrics)

    # The checkpoint restores into a one-process model: the same predictions as the exported SavedModel.
    layout = get_layout("frappe")
    vocabularies = Vocabularies.load(output / "vocabularies.json")
    model = build_ranking_model(config, vocabularies.field_specs(layout))
    features, _ = next(iter(make_dataset(layout, str(frappe_slice / "test.csv"), vocabularies, 64)))
    model(features)
    tf.train.Checkpoint(model=model).read(metrics["checkpoint"]).assert_existing_objects_matched().expect_partial()
    served = tf.saved_model.load(metrics["saved_model"]).signatures["serving_default"]
    with open(frappe_slice / "test.csv", encoding="utf-8") as f:
        header = f.readline().strip().split(",")
        rows = [dict(zip(header, next(f).strip().split(","))) for _ in range(64)]
    examples = tf.constant([layout_example(layout, row).SerializeToString() for row in rows])
    expected = next(iter(served(examples=examples).values())).numpy().reshape(-1)
    np.testing.assert_allclose(model(features).numpy().reshape(-1), expected, atol=1e-5)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_worker_killed_mid_training_stops_the_cluster_with_a_clear_error(frappe_slice, tmp_path):
    command = _ssr_train(frappe_slice, tmp_path / "mw", "multi-worker")
    command[command.index("--config") + 1] = json.dumps({**CONFIG, "epochs": 50})  # still training when killed
    cluster = LocalTfCluster({"worker": 2}, command, env=ENV, log_dir=str(tmp_path))
    try:
        cluster.start()
        deadline = time.monotonic() + 240
        while "Epoch 2/" not in cluster.log_tail("worker", 1):
            assert time.monotonic() < deadline, cluster.log_tail("worker", 1)
            assert all(p.poll() is None for p in cluster.processes.values()), cluster.log_tail("worker", 0)
            time.sleep(0.5)
        cluster.kill("worker", 1)
        killed_at = time.monotonic()
        with pytest.raises(ClusterTaskFailed, match=r"task worker-1 \(pid \d+\) was killed by signal 9"):
            cluster.wait(timeout=60)
        assert time.monotonic() - killed_at < 30
    finally:
        cluster.stop()
    assert all(p.poll() is not None for p in cluster.processes.values())
