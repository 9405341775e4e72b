"""Layout files: the schema's checks name the file, the key and the value; each column kind's ops."""

from __future__ import annotations

import json
import pathlib

import pytest
import tensorflow as tf
import yaml

from ssr_keras.data import layout_file, layouts
from ssr_keras.data.layout_file import LayoutError, loads_layout

GOOD = {
    "name": "shop",
    "label": {"column": "bought", "threshold": 4},
    "user": "customer",
    "item": "sku",
    "timestamp": "when",
    "columns": [
        {"name": "bought", "dtype": "float"},
        {"name": "customer", "dtype": "int64"},
        {"name": "sku"},
        {"name": "price", "kind": "numeric", "dtype": "float", "bucketing": {"edges": [1, 10, 100]}},
        {"name": "views", "kind": "numeric", "dtype": "int64", "bucketing": "log_squared"},
        {"name": "tags", "kind": "multivalent", "separator": ";", "max_len": 3},
        {"name": "when", "kind": "datetime", "dtype": "int64", "format": "unix_seconds",
         "parts": {"weekday": "weekday", "hour": "hour"}},
        {"name": "row", "kind": "ignored"},
        {"name": "coupon", "optional": True, "default": "none"},
    ],
}


def _with(path: str, value):
    """GOOD with one key replaced (`columns.3.kind`), or deleted when `value` is ...; as YAML text."""
    document = yaml.safe_load(yaml.safe_dump(GOOD, sort_keys=False))
    *parents, last = path.split(".")
    node = document
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is ...:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return yaml.safe_dump(document, sort_keys=False)


def test_a_good_file_builds_every_kind():
    layout = layouts.layout_from_text(yaml.safe_dump(GOOD, sort_keys=False), "shop.yaml")
    assert layout.field_names == ("customer", "sku", "price", "views", "tags", "weekday", "hour", "coupon")
    assert layout.feature_columns == ("customer", "sku", "price", "views", "tags", "when", "coupon")
    assert layout.optional_columns == {"coupon": "none"} and layout.timestamp_column == "when"
    assert layout.numeric_columns == ("price", "views", "when")
    raw = {"customer": tf.constant(["7", "8"]), "sku": tf.constant([" a ", "b"]),
           "price": tf.constant(["0.5", "50"]), "views": tf.constant(["100", ""]),
           "tags": tf.constant(["x;y", ""]), "when": tf.constant(["0", "90000"]),
           "coupon": tf.constant(["c", "d"])}
    fields = {k: v.numpy().tolist() for k, v in layout.to_fields(raw).items()}
    assert fields["sku"] == [b"a", b"b"]
    assert fields["price"] == [b"0", b"2"]
    assert fields["views"] == [b"21", b""]
    assert fields["tags"] == [[b"x", b"y", b""], [b"", b"", b""]]
    assert fields["weekday"] == [b"3", b"4"] and fields["hour"] == [b"0", b"1"]
    assert layout.to_label(tf.constant(["3.5", "4", "5"])).numpy().tolist() == [0.0, 1.0, 1.0]


def test_label_rules():
    def label(spec, values):
        text = _with("label", spec)
        return layouts.layout_from_text(text).to_label(tf.constant(values)).numpy().tolist()

    assert label({"column": "bought"}, ["0", "1", "0.7"]) == [0.0, 1.0, 1.0]
    assert label("bought", ["0", "1"]) == [0.0, 1.0]
    assert label({"column": "bought", "positive_values": [2, 3]}, ["1", "2", "3"]) == [0.0, 1.0, 1.0]


def test_a_text_label_is_positive_on_its_positive_values_only():
    text = _with("columns.0", {"name": "bought"})  # bytes: the column holds text
    text = text.replace("threshold: 4", "positive_values: [\"yes\", \" sold \"]")
    layout = layouts.layout_from_text(text)
    assert layout.label_is_text and layout.spec.label.positive_values == ("yes", "sold")
    values = tf.constant(["yes", " sold", "no", "Yes", ""])
    assert layout.to_label(values).numpy().tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert not layouts.layout_from_text(_with("label", "bought")).label_is_text


@pytest.mark.parametrize("label, dtype, message", [
    ({"column": "bought", "positive_values": [True]}, "bytes",
     r"label.positive_values\[0\]: got the boolean True: YAML reads unquoted yes/no"),
    ({"column": "bought", "positive_values": ["yes", 1]}, "bytes",
     r"label.positive_values\[1\]: expected a non-empty string, got 1"),
    ({"column": "bought", "positive_values": ["yes"]}, "float",
     r"columns\[0\].dtype: the label's positive_values are texts, so the label column holds text: expected "
     r"dtype bytes, got 'float'"),
])
def test_bad_text_labels(label, dtype, message):
    text = _with("columns.0", {"name": "bought", "dtype": dtype})
    document = yaml.safe_load(text)
    document["label"] = label
    with pytest.raises(LayoutError, match=message):
        loads_layout(yaml.safe_dump(document, sort_keys=False), "shop.yaml")


def test_quantile_columns_need_their_edges():
    text = _with("columns.3.bucketing", {"quantiles": 4})
    layout = layouts.layout_from_text(text)
    assert layout.quantile_columns == {"price": 4}
    raw = {c: tf.constant(["1"]) for c in layout.feature_columns}
    with pytest.raises(ValueError, match="'price' is bucketed by quantiles"):
        layout.to_fields(raw)
    fixed = layout.with_quantile_edges({"price": [0.5, 2.0, 3.0]})
    assert fixed.to_fields(raw)["price"].numpy().tolist() == [b"1"]


@pytest.mark.parametrize("path, value, message", [
    ("columns.2.kind", "categorial", r"shop.yaml: columns\[2\].kind: unknown kind 'categorial'"),
    ("label", ..., r"shop.yaml: label: missing"),
    ("columns.2.name", "customer", r"shop.yaml: columns\[2\].name: duplicate column 'customer' \(also columns\[1\]\)"),
    ("columns.2", {"name": "sku", "separator": "|"},
     r"columns\[2\].separator: 'separator' applies to multivalent columns only; column 'sku' is categorical"),
    ("columns.2.dtype", "string", r"columns\[2\].dtype: unknown dtype 'string'; expected one of"),
    ("columns.2", {"name": "sku", "seperator": "|"}, r"columns\[2\].seperator: unknown key 'seperator'; did you "
                                                     r"mean 'separator'\?"),
    ("nmae", "x", r"nmae: unknown key 'nmae'; did you mean 'name'\?"),
    ("label", {"column": "clicked"}, r"label.column: the label column 'clicked' is not in columns"),
    ("label", {"column": "bought", "threshold": "high"}, r"label.threshold: expected a number, got 'high'"),
    ("columns.3.bucketing", "log", r"columns\[3\].bucketing: expected log_squared, \{edges"),
    ("columns.3.bucketing", {"edges": [3, 1]}, r"columns\[3\].bucketing.edges: edges must increase strictly"),
    ("columns.5.max_len", 0, r"columns\[5\].max_len: expected an integer >= 1, got 0"),
    ("columns.6.parts", {"day": "fortnight"}, r"columns\[6\].parts.day: unknown part 'fortnight'"),
    ("user", "shopper", r"user: 'shopper' is not a model field"),
    ("columns.0.kind", "numeric", r"columns\[0\].kind: the label column 'bought' takes only name and dtype"),
    ("columns.8.optional", ..., r"columns\[8\].default: a default applies to optional columns only"),
])
def test_bad_files_name_the_key_and_the_value(path, value, message):
    with pytest.raises(LayoutError, match=message):
        loads_layout(_with(path, value), "shop.yaml")


def test_file_errors(tmp_path: pathlib.Path):
    with pytest.raises(LayoutError, match=r"missing.yaml: cannot read the layout file"):
        layouts.get_layout(str(tmp_path / "missing.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(LayoutError, match=r"bad.yaml: line \d+, column \d+: not valid YAML/JSON"):
        layouts.get_layout(str(bad))
    with pytest.raises(ValueError, match=r"unknown layout 'frapp'; expected one of \['avazu', 'criteo', 'frappe'"):
        layouts.get_layout("frapp")


def test_json_is_accepted(tmp_path: pathlib.Path):
    path = tmp_path / "shop.json"
    path.write_text(json.dumps(GOOD), encoding="utf-8")
    assert layouts.get_layout(str(path)).name == "shop"
    assert layout_file.builtin_layout_names() == ("avazu", "criteo", "frappe", "movielens", "movielens-1m")
