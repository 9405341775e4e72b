"""The history (GateSID) pipeline: no leakage into the tables step, and end to end on a MovieLens slice."""

import glob
import json
import pathlib

import numpy as np
import pytest
import tensorflow as tf
from tfx import v1 as tfx

from pipeline import cli
from pipeline.history_components import LABEL_FEATURE, fit_history_tables, history_examples
from pipeline.history_pipeline import create_history_pipeline
from pipeline.run_summary import summarize_last_run
from ssr_keras.export.history_ranker import history_example

DAY = 86400
SMALL_RQ = {"num_levels": 2, "codebook_size": 4, "rq_epochs": 1, "content_dim": 8}


def _write_movielens(folder: pathlib.Path, ratings, tags=()) -> pathlib.Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "movies.csv").write_text("movieId,title,genres\n" + "".join(
        f"{m},Movie {m} ({1990 + m % 20}),{'Drama' if m % 2 else 'Comedy|Action'}\n" for m in range(1, 31)))
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n" + "".join(
        f"{u},{m},{r},{t}\n" for u, m, r, t in ratings))
    (folder / "tags.csv").write_text("userId,movieId,tag,timestamp\n" + "".join(
        f"{u},{m},{tag},{t}\n" for u, m, tag, t in tags))
    return folder


def _ratings(seed=0, n=300):
    rng = np.random.default_rng(seed)
    return [(int(u), int(m), float(r), int(t)) for u, m, r, t in zip(
        rng.integers(1, 12, n), rng.integers(1, 26, n), rng.integers(1, 6, n), np.sort(rng.integers(0, 300, n)) * DAY)]


def test_nothing_after_the_split_time_reaches_the_tables(tmp_path):
    ratings = _ratings()
    base, split_time = history_examples(str(_write_movielens(tmp_path / "a", ratings, [(1, 3, "early", DAY)])), 3)
    assert max(e.features.feature["timestamp"].int64_list.value[0] for e in base["train"]) < split_time
    tables, _ = fit_history_tables(base["train"], str(tmp_path / "a"), **SMALL_RQ)
    assert tables["item_times"].max() < split_time and tables["user_times"].max() < split_time
    # Rewrite everything at or after the split: other ratings, new items (26..30), a late tag.
    rng = np.random.default_rng(5)
    changed = [(u, m, r, t) if t < split_time else (u, int(rng.integers(20, 31)), float(rng.integers(1, 6)), t)
               for u, m, r, t in ratings]
    folder = _write_movielens(tmp_path / "b", changed, [(1, 3, "early", DAY), (2, 27, "late", split_time)])
    other, other_split = history_examples(str(folder), 3)
    assert other_split == split_time
    assert [e.SerializeToString(deterministic=True) for e in other["train"]] == [
        e.SerializeToString(deterministic=True) for e in base["train"]]
    other_tables, _ = fit_history_tables(other["train"], str(folder), **SMALL_RQ)
    for key, value in tables.items():
        np.testing.assert_array_equal(other_tables[key], value, err_msg=key)
    assert all(e.features.feature[LABEL_FEATURE].float_list.value for e in base["eval"])


def test_ssr_pipeline_history_reports_bad_flags_in_one_line(tmp_path, capsys):
    assert cli.main(["history", "--data", str(tmp_path / "missing"), "--output", str(tmp_path / "run")]) != 0
    assert "--data" in capsys.readouterr().err
    folder = _write_movielens(tmp_path / "ml", _ratings())
    assert cli.main(["history", "--data", str(folder), "--output", str(tmp_path / "run"), "--mode", "gated"]) != 0
    assert "mode must be one of" in capsys.readouterr().err


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory, data_dir):
    source = data_dir / "movielens-latest-small"
    folder = tmp_path_factory.mktemp("movielens_slice")
    with open(source / "ratings.csv", encoding="utf-8") as f:
        (folder / "ratings.csv").write_text("".join(line for _, line in zip(range(3001), f)), encoding="utf-8")
    for name in ("movies.csv", "tags.csv"):
        (folder / name).write_bytes((source / name).read_bytes())
    output = tmp_path_factory.mktemp("history_run")
    pipeline = create_history_pipeline(
        pipeline_name="gatesid", pipeline_root=str(output), data_root=str(folder),
        serving_model_dir=str(output / "serving" / "gatesid"), metadata_path=str(output / "metadata.sqlite"),
        epochs=2, batch_size=256, learning_rate=3e-3, history_length=10, num_levels=2, codebook_size=16,
        rq_epochs=2, backbone_config={"num_layers": 1, "num_views": 2, "view_dim": 16}, min_auc=0.5)
    tfx.orchestration.LocalDagRunner().run(pipeline)
    return output, summarize_last_run(str(output / "metadata.sqlite"), "gatesid")


@pytest.mark.slow
def test_the_history_pipeline_blesses_pushes_and_the_pushed_model_scores_a_raw_request(pipeline_run):
    output, summary = pipeline_run
    assert summary.blessed is True, summary.metrics
    pushed = tf.saved_model.load(summary.pushed_path).signatures["serving_default"]
    request = history_example(item=1, timestamp=1_000_000_000, history=[296, 318, 99999], user=1)
    unknown = history_example(item=99999, timestamp=1_000_000_000)
    scores = pushed(examples=tf.constant([request.SerializeToString(), unknown.SerializeToString()]))
    probabilities = scores["probabilities"].numpy()
    assert probabilities.shape == (2, 1) and ((probabilities > 0) & (probabilities < 1)).all()
    stats = json.loads(pathlib.Path(glob.glob(str(output / "HistoryTablesGen" / "tables" / "*" /
                                                 "sid_stats.json"))[0]).read_text())
    assert len(stats["perplexity_per_level"]) == 2
