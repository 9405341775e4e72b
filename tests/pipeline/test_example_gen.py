"""The layout-typed CSV ExampleGen executor: feature types, label, and errors naming the column."""

import os
import pathlib

import apache_beam as beam
import pytest
import tensorflow as tf
from google.protobuf import json_format

from pipeline import example_gen
from ssr_keras.data import csv_files, layouts
from ssr_keras.export import layout_example


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


def test_frappe_rows_become_features_typed_as_csv_example_gen_types_them_and_a_float_label(tmp_path, data_dir):
    with open(data_dir / "frappe-ctr" / "train.csv", encoding="utf-8") as f:
        lines = [next(f) for _ in range(21)]
    (tmp_path / "train.csv").write_text("".join(lines), encoding="utf-8")

    examples = _read(tmp_path, "frappe", "train.csv")

    layout = layouts.get_layout("frappe")
    expected = []
    for line in lines[1:]:
        row = dict(zip(layout.columns, line.rstrip("\n").split(",")))
        example = layout_example(layout, row)  # what a TFX user's client sends for the row
        example.features.feature["label"].float_list.value.append(float(row["label"]))
        expected.append(example.SerializeToString(deterministic=True))
    assert sorted(e.SerializeToString(deterministic=True) for e in examples) == sorted(expected)
    kinds = {c: examples[0].features.feature[c].WhichOneof("kind") for c in ("user", "item", "city", "cost")}
    assert kinds == {"user": "int64_list", "item": "int64_list", "city": "int64_list", "cost": "bytes_list"}


def test_numeric_columns_are_floats_and_blanks_are_left_out(tmp_path, data_dir):
    # Criteo's I* columns are float (as CsvExampleGen types them) and have blanks, which it leaves out.
    (tmp_path / "criteo.csv").write_bytes((data_dir / "criteo-sample" / "criteo_sample.txt").read_bytes())

    examples = _read(tmp_path, "criteo", "criteo.csv")

    assert len(examples) == 200
    present = [e.features.feature["I1"].float_list.value[0] for e in examples if "I1" in e.features.feature]
    assert 0 < len(present) < 200 and 0.0 in present
    assert {e.features.feature["label"].float_list.value[0] for e in examples} <= {0.0, 1.0}


def test_value_not_of_its_column_type_names_column_file_and_line(tmp_path):
    columns = layouts.get_layout("frappe").columns
    row = "1,7,8,morning,monday,workday,home,free,sunny,Spain,0"
    _write(tmp_path / "train.csv", [",".join(columns), row, row.replace(",7,", ",u7,")])

    expected = r"train\.csv, line 3, column 'user': expected an integer \(the column's type is int64\), found 'u7'"
    with pytest.raises(Exception, match=expected):
        _read(tmp_path, "frappe", "train.csv")


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
    row = "1,1,2,morning,monday,workday,home,free,sunny,Spain,0"
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
