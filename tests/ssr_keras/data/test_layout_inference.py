"""`ssr-layout infer` on each shipped data set proposes the shipped layout, but for the differences listed here."""

from __future__ import annotations

import dataclasses
import pathlib
import re

import pytest
import tensorflow as tf

from ssr_keras.data import layouts
from ssr_keras.data.layout_file import LayoutSpec, load_layout_spec, loads_layout
from ssr_keras.data.layout_inference import infer_layout_file, propose_layout

SOURCES = {"frappe": "frappe-ctr/train.csv", "movielens-1m": "movielens-1m/train.csv",
           "criteo": "criteo-sample/criteo_sample.txt", "avazu": "avazu-sample/avazu_sample.txt",
           "movielens": None}  # movielens: the train.csv `prepare_movielens` writes

SPLITS = "splits: None != ('train.csv', 'valid.csv', 'test.csv')"
AVAZU_ORDER = ("C1", "banner_pos", "site_id", "site_domain", "site_category", "app_id", "app_domain", "app_category",
               "device_id", "device_ip", "device_model", "device_type", "device_conn_type", "C14", "C15", "C16", "C17",
               "C18", "C19", "C20", "C21")
# inferred != shipped, and why the shipped layout is right.
EXPECTED_DIFFERENCES = {
    "frappe": {},
    "movielens-1m": {},
    "criteo": {
        # The samples are single files; the full sets ship train/valid/test.
        SPLITS: "a sample file has no split files beside it",
        # In the 200-row sample I2 is never blank and never written as "2.0"; in the full data it is a count
        # like I1..I13 (CsvExampleGen types it float), bucketed by the paper's rule, and can be blank.
        "I2.kind: 'categorical' != 'numeric'": "I2 is a count in the full data",
        "I2.dtype: 'int64' != 'float'": "CsvExampleGen on the full files",
        "I2.optional: False != True": "every Criteo count can be blank in the full data",
        "I2.bucketing: None != 'log_squared'": "the SSR paper's rule for the counts",
        "I8.optional: False != True": "every Criteo count can be blank in the full data",
    },
    "avazu": {
        SPLITS: "a sample file has no split files beside it",
        "fields: ('hour_of_day', 'day', " + repr(AVAZU_ORDER)[1:-1] + ") != (" + repr(AVAZU_ORDER)[1:-1]
        + ", 'hour_of_day', 'day')": "the shipped field_order keeps the model order of the pre-file layout",
    },
    "movielens": {
        "fields: ('user', 'movie', 'genres', 'year', 'timestamp_weekday', 'timestamp_hour', 'timestamp_year') != "
        "('user', 'movie', 'genres', 'year', 'rating_weekday', 'rating_hour', 'rating_year')":
            "derived fields are named after the column; the shipped names predate layout files",
        "timestamp.parts: (('timestamp_weekday', 'weekday'), ('timestamp_hour', 'hour'), ('timestamp_year', "
        "'year')) != (('rating_weekday', 'weekday'), ('rating_hour', 'hour'), ('rating_year', 'year'))":
            "the same naming",
        "genres.max_len: 7 != 6": "the shipped 6 predates layout files (longer lists are cut; ids unchanged)",
        "genres.optional: False != True": "blank genres exist in the full files (no genres listed), not in the "
                                          "first 10,000 rows",
        "year.optional: False != True": "blank years exist in the full files (titles without a year)",
    },
}


def differences(inferred: LayoutSpec, shipped: LayoutSpec) -> list:
    """`"<key>: <inferred> != <shipped>"` for every declaration that differs (the name excepted)."""
    found = [f"{key}: {getattr(inferred, key)!r} != {getattr(shipped, key)!r}"
             for key in ("splits", "user", "item", "timestamp", "label", "fields")
             if getattr(inferred, key) != getattr(shipped, key)]
    assert [c.name for c in inferred.columns] == [c.name for c in shipped.columns]
    for mine, theirs in zip(inferred.columns, shipped.columns):
        found += [f"{mine.name}.{f.name}: {getattr(mine, f.name)!r} != {getattr(theirs, f.name)!r}"
                  for f in dataclasses.fields(mine) if getattr(mine, f.name) != getattr(theirs, f.name)]
    return found


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_inferred_layout_is_the_shipped_one_but_for_listed_differences(name, data_dir, movielens_dir):
    path = movielens_dir / "train.csv" if SOURCES[name] is None else data_dir / SOURCES[name]
    inferred = loads_layout(infer_layout_file(str(path), name=name), f"inferred {name}")
    assert sorted(differences(inferred, load_layout_spec(name))) == sorted(EXPECTED_DIFFERENCES[name])


@pytest.mark.parametrize("header, rows, message", [
    (["a", "b"], [["x", "7"]], "no label column found"),
    (["label", "u"], [["yes", "1"]], "the label column 'label' holds text (['yes'])"),
    (["label", "u"], [["red", "1"], ["blue", "2"]], "two texts one of which reads as positive"),
    (["label", "u", "u"], [["1", "a", "b"]], "names column(s) ['u'] twice"),
])
def test_inference_errors(header, rows, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        propose_layout("x", header, rows)


def test_a_yes_no_label_gets_its_positive_text():
    text = propose_layout("x", ["churned", "user"], [["yes", "7"], ["no", "8"]], label="churned")
    assert 'label: {column: churned, positive_values: ["yes"]}  # check: a text label; positive when' in text
    layout = layouts.layout_from_text(text)
    assert layout.to_label(tf.constant(["yes", "no"])).numpy().tolist() == [1.0, 0.0]


def test_a_rating_label_gets_a_threshold_and_the_label_flag_wins(tmp_path: pathlib.Path):
    rows = [[str(r), str(u)] for r, u in zip([1, 2, 3, 4, 5, 4, 5, 3], range(8))]
    spec = loads_layout(propose_layout("r", ["stars", "user"], rows, label="stars"))
    assert (spec.label.column, spec.label.threshold, spec.user) == ("stars", 5.0, "user")
