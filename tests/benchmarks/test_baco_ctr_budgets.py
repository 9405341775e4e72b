"""`benchmarks/baco_ctr.py` keeps a run per (method, settings, budget, seed): a new budget is a new run."""

import sys

from benchmarks import baco_ctr


def _fake_run(calls):
    def run(method, seed, args):
        calls.append((method, args.budget, seed))
        budget = 1.0 if method == "table" else args.budget
        return {"dataset": "frappe-ctr", "method": method, "seed": seed, "embedding_budget": budget,
                "user_item_rows": int(100 * budget), "user_item_ids": 100, "row_fraction": budget,
                "test_auc": 0.97 + budget / 100, "test_logloss": 0.2, "epochs_trained": 2, "seconds": 1.0}

    return run


def _main(monkeypatch, output, budget, calls):
    monkeypatch.setattr(baco_ctr, "run", _fake_run(calls))
    monkeypatch.setattr(sys, "argv", ["baco_ctr.py", "--methods", "table", "baco", "--seeds", "0",
                                      "--budget", str(budget), "--output", str(output)])
    baco_ctr.main()


def test_each_budget_is_its_own_run_and_row(monkeypatch, tmp_path):
    output, calls = tmp_path / "baco_ctr.json", []
    _main(monkeypatch, output, 0.25, calls)
    _main(monkeypatch, output, 0.5, calls)  # the table run is already there: only BACO at 0.5 trains
    _main(monkeypatch, output, 0.5, calls)  # nothing left to run
    assert calls == [("table", 0.25, 0), ("baco", 0.25, 0), ("baco", 0.5, 0)]
    rows = [line.split(" | ")[:3] for line in output.with_suffix(".md").read_text().splitlines()[2:]]
    assert rows == [["| table", "100", "100.0"], ["| baco (paper: gamma 0.1308, 1 level)", "50", "50.0"],
                    ["| baco (paper: gamma 0.1308, 1 level)", "25", "25.0"]]
    assert output.with_suffix(".png").exists()
