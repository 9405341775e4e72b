"""`benchmarks/scaling.py` resumes a killed study: finished runs are kept, none is trained or recorded twice."""

import json
import sys
import types

import pytest

from benchmarks import scaling

FAMILIES = {
    "dnn-wider": [("dnn", {"hidden_units": [w] * 3}) for w in (8, 16, 32)],
    "dnn-deeper": [("dnn", {"hidden_units": [8] * d}) for d in (3, 4)],  # [8]*3 is shared with dnn-wider
}


class Killed(Exception):
    """Stands for the session ending mid-run."""


def _fake_runner(calls, kill_at=None):
    def run_experiment(config, data_dir, verbose=0):
        if kill_at is not None and len(calls) == kill_at:
            raise Killed()
        calls.append((json.dumps(config.backbone_config, sort_keys=True), config.seed))
        metrics = {"model": config.backbone, "seed": config.seed, "test_auc": 0.7, "test_logloss": 0.5,
                   "params_non_embedding": sum(config.backbone_config["hidden_units"]) * 100,
                   "flops_per_example": 10, "train_examples_per_sec": 1000.0, "params_embedding": 5,
                   "epochs_trained": 2, "best_epoch": 1, "best_val_auc": 0.71, "config": config.to_dict()}
        return types.SimpleNamespace(metrics=metrics)

    return run_experiment


def _main(monkeypatch, output, runner):
    monkeypatch.setattr(scaling, "run_experiment", runner)
    monkeypatch.setattr(scaling, "plot", lambda *args, **kwargs: None)
    monkeypatch.setitem(scaling.STUDIES, "movielens-1m", ("movielens-1m", FAMILIES, 1, None, None, "x.json"))
    monkeypatch.setattr(sys, "argv", ["scaling.py", "--dataset", "movielens-1m", "--seeds", "0", "1",
                                      "--output", str(output), "--data", "/nonexistent"])
    return scaling.main()


def test_killed_study_resumes_without_duplicates(tmp_path, monkeypatch):
    output = tmp_path / "scaling.json"
    first_calls = []
    with pytest.raises(Killed):
        _main(monkeypatch, output, _fake_runner(first_calls, kill_at=3))
    recorded = json.loads(output.read_text())
    assert len(recorded) == 4  # three trained runs (one shared by both families) survive the kill

    second_calls = []
    assert _main(monkeypatch, output, _fake_runner(second_calls)) == 0
    records = json.loads(output.read_text())
    keys = [scaling.record_key(r) for r in records]
    assert len(keys) == len(set(keys)) == 2 * 5  # 5 (family, size) pairs x 2 seeds, each once
    # No configuration was trained twice: the shared [8, 8, 8] runs once per seed across both families.
    assert sorted(first_calls + second_calls) == sorted(set(first_calls + second_calls))
    assert len(first_calls + second_calls) == 2 * 4
    assert all(r["epochs"] == 2 for r in records)
    assert (tmp_path / "scaling.md").exists()

    third_calls = []
    _main(monkeypatch, output, _fake_runner(third_calls))
    assert third_calls == [] and len(json.loads(output.read_text())) == 10
