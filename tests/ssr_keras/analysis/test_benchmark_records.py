import json

from ssr_keras.analysis.benchmark_records import RECORD_FIELDS, benchmark_record, summary_table, write_records


def _metrics(auc, seed):
    return {"model": "dnn", "seed": seed, "test_auc": auc, "test_logloss": 0.2, "params_non_embedding": 1000,
            "params_embedding": 50, "flops_per_example": 2000, "train_examples_per_sec": 100.0,
            "epochs_trained": 3, "best_epoch": 2, "best_val_auc": 0.9, "config": {"model": "dnn"}, "history": {}}


def test_record_has_published_fields_first_and_extras(tmp_path):
    record = benchmark_record(_metrics(0.9, 0), family="dnn-wider")
    assert tuple(record)[:len(RECORD_FIELDS)] == RECORD_FIELDS
    assert record["family"] == "dnn-wider" and "history" not in record
    path = tmp_path / "sub" / "r.json"
    write_records([record], str(path))
    assert json.loads(path.read_text())[0]["test_auc"] == 0.9


def test_summary_table_mean_and_std_over_seeds():
    table = summary_table([benchmark_record(_metrics(0.90, 0)), benchmark_record(_metrics(0.92, 1))])
    row = table.splitlines()[2]
    assert row.startswith("| dnn | 2 | 1,000 | 2,000 | 0.9100 ± 0.0141 |")
