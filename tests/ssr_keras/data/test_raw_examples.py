"""RawExampleParser: TFX-typed request examples give the same model fields as the CSV text, and bad
examples (missing / wrongly typed / multi-valued features, empty examples) fail naming the feature."""

from __future__ import annotations

import dataclasses
import re

import pytest
import tensorflow as tf

from ssr_keras.data import csv_files, get_layout
from ssr_keras.data.raw_examples import RawExampleParser, column_as_text, raw_feature_spec
from ssr_keras.export import layout_example, make_example

# Real rows of every layout that has data here (criteo: blanks in numeric and categorical columns).
REAL_ROWS = {
    "frappe": ("frappe-ctr/test.csv", 600),
    "movielens-1m": ("movielens-1m/test.csv", 600),
    "criteo": ("criteo-sample/criteo_sample.txt", None),
    "avazu": ("avazu-sample/avazu_sample.txt", None),
}


class _Fields(tf.Module):
    """raw_to_ids stand-in: the layout's model fields (strings), so fields are compared, not ids."""

    def __init__(self, layout):
        super().__init__()
        self.layout = layout

    def __call__(self, raw):
        return self.layout.to_fields(raw)


def _rows(data_dir, name):
    path, max_rows = REAL_ROWS[name]
    return list(csv_files.iter_dict_rows(get_layout(name), str(data_dir / path), max_rows=max_rows))


@pytest.mark.parametrize("name", sorted(REAL_ROWS))
def test_typed_examples_give_the_fields_of_the_csv_text(data_dir, name):
    layout = get_layout(name)
    rows = _rows(data_dir, name)
    from_csv = layout.to_fields({c: tf.constant([row[c] for row in rows]) for c in layout.feature_columns})
    parser = RawExampleParser(layout, _Fields(layout))
    from_examples = parser(tf.constant([layout_example(layout, row).SerializeToString() for row in rows]))
    for field in layout.field_names:
        assert from_examples[field].numpy().tolist() == from_csv[field].numpy().tolist(), field


def test_examples_are_typed_as_csv_example_gen_types_them(data_dir):
    layout = get_layout("criteo")
    row = _rows(data_dir, "criteo")[0]  # I1 blank, I3 "260.0"
    feature = layout_example(layout, row).features.feature
    assert "I1" not in feature and row["I1"] == ""
    assert feature["I3"].float_list.value == [260.0]
    assert feature["C1"].bytes_list.value == [row["C1"].encode()]
    frappe = get_layout("frappe")
    feature = layout_example(frappe, _rows(data_dir, "frappe")[0]).features.feature
    assert {c: feature[c].WhichOneof("kind") for c in ("user", "item", "city", "cost")} == {
        "user": "int64_list", "item": "int64_list", "city": "int64_list", "cost": "bytes_list"}


def test_spec_requires_every_column_not_declared_optional():
    spec = raw_feature_spec(get_layout("movielens"))
    assert isinstance(spec["user"], tf.io.FixedLenFeature) and spec["user"].dtype == tf.int64
    assert isinstance(spec["year"], tf.io.VarLenFeature)


def test_float_text_keeps_integers_exact_and_fractions_round_trip():
    values = tf.constant([260.0, 17668.0, -1.0, 0.1, 2.5e-7, 123456792.0])
    text = column_as_text(values)
    assert text.numpy().tolist()[:3] == [b"260", b"17668", b"-1"]
    assert tf.strings.to_number(text, tf.float32).numpy().tolist() == values.numpy().tolist()


def _frappe_parser():
    layout = get_layout("frappe")
    return layout, RawExampleParser(layout, _Fields(layout))


def _good_row():
    return {"user": "1", "item": "2", "daytime": "morning", "weekday": "monday", "isweekend": "workday",
            "homework": "home", "cost": "free", "weather": "sunny", "country": "France", "city": "3"}


@pytest.mark.parametrize("serialized, expected", [
    (make_example({k: v for k, v in _good_row().items() if k != "item"}, get_layout("frappe").column_types),
     "Feature: item (data type: int64) is required but could not be found"),
    (tf.train.Example(), "Feature: "),
    (b"", "Feature: "),
    # every column bytes: user, item and city are int64
    (make_example(_good_row()), "Data types don't match. Data type: string but expected type: int64"),
])
def test_missing_empty_and_wrongly_typed_examples_fail_naming_the_feature(serialized, expected):
    _, parser = _frappe_parser()
    data = serialized if isinstance(serialized, bytes) else serialized.SerializeToString()
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(expected)) as error:
        parser(tf.constant([data]))
    if "match" in expected:
        assert re.search(r"Key: (user|item|city),", str(error.value))


def test_an_all_optional_layout_rejects_an_empty_example_and_multiple_values():
    criteo = get_layout("criteo")
    layout = dataclasses.replace(criteo, optional_columns=dict.fromkeys(criteo.feature_columns, ""))
    parser = RawExampleParser(layout, _Fields(layout))
    with pytest.raises(tf.errors.InvalidArgumentError, match="none of the feature columns"):
        parser(tf.constant([b""]))
    two_values = layout_example(layout, {c: "1" for c in layout.feature_columns})
    two_values.features.feature["I1"].float_list.value.append(2.0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Feature: I1 must hold at most one value"):
        parser(tf.constant([two_values.SerializeToString()]))
