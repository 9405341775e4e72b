"""The layout-typed CSV ExampleGen executor: feature types, label, and errors naming the column."""

import os
import pathlib

import apache_beam as beam
import pytest
import tensorflow as tf
from google.protobuf import json_format

from pipeline import example_gen
from ssr_keras.data import csv_files, layouts


def _exec_properties(input_base: pathlib.Path, layout: str) -> dict:
    config = example_gen.layout_custom_config(layout, label_key="label")
    return {"input_base": str(input_base), "custom_config": json_format.MessageToJson(config)}


def _read(input_base: pathlib.Path, layout: str, pattern: str) -> list:
    output = input_base / "examples.tfrecord"
    with beam.Pipeline() as pipeline:
        _ = (pipeline
             | example_gen._LayoutCsvToExample(_exec_properties(input_base, layout), pattern)
             | beam.io.WriteToTFRecord(str(output), shard_name_template=""))
    return [tf.train.Example.FromString(record.numpy()) for record in tf.data.TFRecordDataset(str(output))]


def _write(path: pathlib.Path, lines) -> pathlib.Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_frappe_rows_become_bytes_features_and_a_float_label(tmp_path, data_dir):
    with open(data_dir / "frappe-ctr" / "train.csv", encoding="utf-8") as f:
        lines = [next(f) for _ in range(21)]
    (tmp_path / "train.csv").write_text("".join(lines), encoding="utf-8")

    examples = _read(tmp_path, "frappe", "train.csv")

    layout = layouts.get_layout("frappe")
    assert len(examples) == 20
    by_user = {e.features.feature["user"].bytes_list.value[0]: e for e in examples}
    first = lines[1].rstrip("\n").split(",")
    example = by_user[first[1].encode()]
    for column in layout.feature_columns:
        feature = example.features.feature[column]
        assert feature.WhichOneof("kind") == "bytes_list", column
        assert feature.bytes_list.value[0].decode() == first[layout.columns.index(column)]
    assert example.features.feature["label"].float_list.value == [float(first[0])]


def test_numeric_columns_stay_csv_text_and_blanks_are_kept(tmp_path, data_dir):
    # Criteo's I* columns are numeric (CsvExampleGen would type them by the data) and have blanks.
    (tmp_path / "criteo.csv").write_bytes((data_dir / "criteo-sample" / "criteo_sample.txt").read_bytes())

    examples = _read(tmp_path, "criteo", "criteo.csv")

    assert len(examples) == 200
    values = [e.features.feature["I1"].bytes_list.value[0] for e in examples]
    assert b"" in values and b"0.0" in values  # the CSV text, not a re-formatted number
    assert {e.features.feature["label"].float_list.value[0] for e in examples} <= {0.0, 1.0}


def test_missing_column_error_names_the_column_and_file(tmp_path):
    header = [c for c in layouts.get_layout("frappe").columns if c != "weather"]
    path = _write(tmp_path / "train.csv", [",".join(header), ",".join(["1"] * len(header))])

    with pytest.raises(ValueError, match=r"does not match the 'frappe' layout's columns") as error:
        _read(tmp_path, "frappe", "train.csv")
    assert str(path) in str(error.value)


def test_non_numeric_value_in_numeric_column_names_column_file_and_line(tmp_path, data_dir):
    with open(data_dir / "criteo-sample" / "criteo_sample.txt", encoding="utf-8") as f:
        lines = [next(f).rstrip("\n") for _ in range(6)]
    cells = lines[4].split(",")
    cells[layouts.get_layout("criteo").columns.index("I3")] = "12abc"
    lines[4] = ",".join(cells)
    _write(tmp_path / "criteo.csv", lines)

    with pytest.raises(Exception, match=r"criteo\.csv, line 5, column 'I3': expected a number, found '12abc'"):
        _read(tmp_path, "criteo", "criteo.csv")


def test_row_with_wrong_number_of_values_names_the_line(tmp_path):
    columns = layouts.get_layout("frappe").columns
    _write(tmp_path / "train.csv", [",".join(columns), ",".join(["1"] * len(columns)), "1,2,3"])

    with pytest.raises(Exception, match=r"train\.csv, line 3, column 'daytime': missing; expected 11 columns"):
        _read(tmp_path, "frappe", "train.csv")


@pytest.mark.parametrize("lines, verdict", [
    (["\ufeff{header}", "{row}", "", "{row}"], None),  # a BOM and a blank line: fine, for both readers
    (["{header}", "{row}", "{nan_label}"], "line 3, column 'label': expected a number, found 'nan'"),
])
def test_one_file_gets_the_same_verdict_as_from_ssr_train(tmp_path, lines, verdict):
    layout = layouts.get_layout("frappe")
    row = "1,u1,i1,morning,monday,workday,home,free,sunny,Spain,0"
    values = {"header": ",".join(layout.columns), "row": row, "nan_label": "nan" + row[1:]}
    path = _write(tmp_path / "train.csv", [line.format(**values) for line in lines])
    if verdict is None:
        assert len(_read(tmp_path, "frappe", "train.csv")) == 2
        csv_files.validate_file(layout, str(path))
        return
    with pytest.raises(Exception, match=verdict):
        _read(tmp_path, "frappe", "train.csv")
    with pytest.raises(csv_files.MalformedRowError, match=verdict):
        csv_files.validate_file(layout, str(path))


def test_no_matching_file_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="No input file matches"):
        _read(tmp_path, "frappe", os.path.join("missing", "*.csv"))


def test_label_key_may_not_shadow_a_feature_column():
    with pytest.raises(ValueError, match="collides with a feature column"):
        example_gen.layout_custom_config("frappe", label_key="user")
