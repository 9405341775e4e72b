"""A user's own CSV with no code: `ssr-layout infer` -> edit-free layout file -> `ssr-train` -> served scores.

The CSV has column names none of the built-in layouts use. The run goes through a pipe, as under CI:
its output has no TensorFlow start-up noise and no line longer than a few hundred characters.
"""

from __future__ import annotations

import csv
import json
import os
import pathlib
import random
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from ssr_keras.analysis.classification_metrics import roc_auc
from ssr_keras.cli import layout as layout_cli
from ssr_keras.data.layout_file import read_layout_file
from ssr_keras.data.layouts import get_layout
from ssr_keras.export.tf_example import layout_example

pytestmark = pytest.mark.slow

COLUMNS = ("clicked", "customer_id", "sku", "price", "tags", "ts", "row_id")
TAGS = ("sale", "new", "gift", "sale|new", "gift|new", "new|gift|sale", "")
TF_NOISE = ("oneDNN", "cuda", "cuFFT", "cuDNN", "cuBLAS", "cpu_feature_guard", "TF-TRT", "FutureWarning")


def _rows(count: int, seed: int):
    rng = random.Random(seed)
    for index in range(count):
        tags = rng.choice(TAGS)
        clicked = int("sale" in tags or rng.random() < 0.1)
        yield {"clicked": clicked, "customer_id": rng.randint(1, 50), "sku": f"s{rng.randint(1, 40)}",
               "price": f"{rng.uniform(1, 100):.2f}", "tags": tags, "ts": 1_600_000_000 + rng.randint(0, 10 ** 7),
               "row_id": f"{seed}-{index}"}


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> pathlib.Path:
    folder = tmp_path_factory.mktemp("shop")
    for name, count, seed in (("train.csv", 1200, 0), ("valid.csv", 300, 1), ("test.csv", 300, 2)):
        with open(folder / name, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, COLUMNS)
            writer.writeheader()
            writer.writerows(_rows(count, seed))
    return folder


def test_infer_proposes_every_kind_and_check_accepts_it(shop, tmp_path, capsys):
    output = tmp_path / "shop.yaml"
    assert layout_cli.main(["infer", str(shop / "train.csv"), "-o", str(output)]) == 0
    spec = read_layout_file(str(output))
    kinds = {c.name: (c.kind, c.dtype) for c in spec.columns}
    assert kinds == {"clicked": ("label", "int64"), "customer_id": ("categorical", "int64"),
                     "sku": ("categorical", "bytes"), "price": ("numeric", "float"),
                     "tags": ("multivalent", "bytes"), "ts": ("datetime", "int64"), "row_id": ("ignored", "bytes")}
    assert (spec.user, spec.item, spec.timestamp, spec.name) == ("customer_id", "sku", "ts", "shop0")
    assert spec.column("price").bucketing == "quantiles" and spec.column("tags").max_len == 3
    assert spec.column("tags").optional  # blank tag lists in the sample
    text = output.read_text(encoding="utf-8")
    assert "# check:" in text
    assert layout_cli.main(["check", str(output), "--csv", str(shop / "test.csv")]) == 0
    assert "OK: layout 'shop0'" in capsys.readouterr().out
    assert layout_cli.main(["infer", str(shop / "train.csv"), "-o", str(output)]) == 2  # never overwrites
    assert "exists" in capsys.readouterr().err


def test_infer_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "headless.csv").write_text("1,2,3\n0,4,5\n", encoding="utf-8")
    assert layout_cli.main(["infer", str(tmp_path / "headless.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ssr-layout: error: ") and "headless.csv, line 1" in err and "header" in err
    assert layout_cli.main(["infer", str(tmp_path / "nowhere.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"ssr-layout: error: {tmp_path / 'nowhere.csv'}: No such file or directory"]


@pytest.fixture(scope="module")
def trained(shop, tmp_path_factory):
    """The inferred layout, trained by the `ssr-train` command under a pipe (as in CI)."""
    work = tmp_path_factory.mktemp("shop_run")
    layout_path = work / "shop.yaml"
    assert layout_cli.main(["infer", str(shop / "train.csv"), "--name", "shop", "-o", str(layout_path)]) == 0
    command = [os.path.join(os.path.dirname(sys.executable), "ssr-train"), "--data", str(shop),
               "--layout", str(layout_path), "--model", "dnn", "--output", str(work / "run"), "--epochs", "3",
               "--batch-size", "64", "--config", json.dumps({"backbone_config": {"hidden_units": [16]},
                                                             "embedding_normalization": None})]
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # the CLI must quiet TF itself
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return layout_path, work / "run", result


def test_a_run_under_a_pipe_is_quiet_and_readable(trained):
    _, _, result = trained
    lines = (result.stdout + result.stderr).splitlines()
    assert max(map(len, lines)) < 300, max(lines, key=len)[:500]
    assert not [line for line in lines if any(noise in line for noise in TF_NOISE)]
    assert sum(line.startswith("Epoch ") for line in lines) == 3  # one line per epoch (plus its metrics line)
    assert lines[-1].startswith("test AUC ")


def test_the_exported_model_scores_raw_rows_of_the_new_layout(trained, shop):
    layout_path, run, _ = trained
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["saved_model"].endswith(os.path.join("serving", "shop-dnn", "1"))
    layout = get_layout(str(layout_path))
    with open(shop / "test.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    examples = [layout_example(layout, row).SerializeToString() for row in rows]
    served = tf.saved_model.load(metrics["saved_model"])
    scores = served.signatures["predict"](examples=tf.constant(examples))["probabilities"].numpy()[:, 0]
    labels = np.array([int(row["clicked"]) for row in rows])
    assert scores.shape == (300,) and np.all(np.isfinite(scores))
    assert roc_auc(labels, scores) > 0.75  # clicks follow the "sale" tag
