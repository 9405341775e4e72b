"""The built-in layouts are files: on real rows they give exactly the ids the Python layouts gave."""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import pathlib

import pytest
import tensorflow as tf

from ssr_keras.data import layouts, prepare_movielens

# Per shipped data set: the file, and the stride of the 200 rows sampled from it.
SOURCES = {
    "frappe": ("frappe-ctr/train.csv", 97),
    "movielens-1m": ("movielens-1m/train.csv", 997),
    "criteo": ("criteo-sample/criteo_sample.txt", 1),
    "avazu": ("avazu-sample/avazu_sample.txt", 1),
    "movielens": ("train.csv", 97),
}

# What the hand-written Python layouts (before layout files) produced on those rows: a sha256 prefix of
# each field's strings (and of the 0/1 labels) as JSON, plus the attributes the rest of the code reads.
# Numeric columns: the label is always checked as a number as well (`csv_files`), so it may be listed or not.
EXPECTED = {
    "frappe": {
        "fields": {
            "user": "402aeb3a81c5dd94",
            "item": "15918e9adbf87769",
            "daytime": "01081c0930dca79b",
            "weekday": "f2d4d95c6f19d4ed",
            "isweekend": "a47aa04fd36d0d73",
            "homework": "1814de475c7b6f9a",
            "cost": "60583f724c337741",
            "weather": "6388d5359ec8d34f",
            "country": "7b810ed8c38569d2",
            "city": "4b582ff44f0a5857",
        },
        "label": "44fcb42b6c002262",
        "column_types": {"label": "int64", "user": "int64", "item": "int64", "city": "int64"},
        "feature_columns": [
            "user",
            "item",
            "daytime",
            "weekday",
            "isweekend",
            "homework",
            "cost",
            "weather",
            "country",
            "city",
        ],
        "user_item": ["user", "item"],
        "multivalent": {},
        "numeric": [],
    },
    "movielens-1m": {
        "fields": {
            "user_id": "9584aa1c9176a450",
            "gender": "95aeb4e57ebc4deb",
            "age": "fd295316d0e30e16",
            "occupation": "daf03c163902e50f",
            "zip": "f3cc166a968f9a73",
            "movie_id": "644abbd518752557",
            "genre": "508f42c83b5bbb2c",
            "genres_all": "60fb2d29ac86e2ef",
        },
        "label": "ba8e67c29dc71db4",
        "column_types": {
            "label": "int64",
            "user_id": "int64",
            "age": "int64",
            "occupation": "int64",
            "movie_id": "int64",
        },
        "feature_columns": ["user_id", "gender", "age", "occupation", "zip", "movie_id", "genre", "genres_all"],
        "user_item": ["user_id", "movie_id"],
        "multivalent": {"genres_all": 6},
        "numeric": [],
    },
    "criteo": {
        "fields": {
            "I1": "ed104364856c8897",
            "I2": "4c60655114ba3bad",
            "I3": "872c65385035a80d",
            "I4": "68345cbea9b5a1e8",
            "I5": "6f6d4368aad7f715",
            "I6": "83efbaed171e8ac1",
            "I7": "1263e30f90ec2702",
            "I8": "9df15329186696c0",
            "I9": "54f4b8caa19993bd",
            "I10": "0650b1291485b4ea",
            "I11": "e1abba8fac0a1cf2",
            "I12": "01db36ed9439236e",
            "I13": "8acddec10e285fd5",
            "C1": "0e4fdc74ab705815",
            "C2": "85bff663ebb5a149",
            "C3": "0699c2475b782811",
            "C4": "5530ae06bc21c359",
            "C5": "94dee7dd382077b4",
            "C6": "d2c7fc62fe89d905",
            "C7": "c2779abb13aeaac8",
            "C8": "ec822f78416d632f",
            "C9": "1865e9d051fc8a15",
            "C10": "47281e44748725b5",
            "C11": "757f6c68fbbb92af",
            "C12": "45726d6aa4f65e30",
            "C13": "3179f83d62807a87",
            "C14": "3d154db96738edaa",
            "C15": "ebd455babc320125",
            "C16": "2b0303dc105b923c",
            "C17": "a5b31045ba999df9",
            "C18": "6fe222656c185431",
            "C19": "0b77169d78f898dc",
            "C20": "6c8a5bd61ccf5a7e",
            "C21": "f771433fcdf1bdc7",
            "C22": "b8e8b12ab8d0a74f",
            "C23": "74171bea20ed4fea",
            "C24": "f74ad6ffa624d23d",
            "C25": "725b9f75ddb19287",
            "C26": "7ba298555a8d56bf",
        },
        "label": "616e4dc91285886c",
        "column_types": {
            "label": "int64",
            "I1": "float",
            "I2": "float",
            "I3": "float",
            "I4": "float",
            "I5": "float",
            "I6": "float",
            "I7": "float",
            "I8": "float",
            "I9": "float",
            "I10": "float",
            "I11": "float",
            "I12": "float",
            "I13": "float",
        },
        "feature_columns": [
            "I1",
            "I2",
            "I3",
            "I4",
            "I5",
            "I6",
            "I7",
            "I8",
            "I9",
            "I10",
            "I11",
            "I12",
            "I13",
            "C1",
            "C2",
            "C3",
            "C4",
            "C5",
            "C6",
            "C7",
            "C8",
            "C9",
            "C10",
            "C11",
            "C12",
            "C13",
            "C14",
            "C15",
            "C16",
            "C17",
            "C18",
            "C19",
            "C20",
            "C21",
            "C22",
            "C23",
            "C24",
            "C25",
            "C26",
        ],
        "user_item": [None, None],
        "multivalent": {},
        "numeric": ["I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", "I9", "I10", "I11", "I12", "I13"],
    },
    "avazu": {
        "fields": {
            "C1": "d020fa925e3433f4",
            "banner_pos": "8f0cdb7729efd6a1",
            "site_id": "8f503c64092413d3",
            "site_domain": "2920bea25bd37b94",
            "site_category": "8349b321ce9b1d91",
            "app_id": "b905fb88e458d28f",
            "app_domain": "f48f527c9807467f",
            "app_category": "a756989ef841c247",
            "device_id": "c0d8554c5cfce1d9",
            "device_ip": "57a1c30a508c1cb3",
            "device_model": "1453aab2221b5357",
            "device_type": "27aa336b92a0742b",
            "device_conn_type": "19c5fb8980844d13",
            "C14": "d6ddbcc551ed5f95",
            "C15": "dc033871d70cffa8",
            "C16": "9d8a4ddf4d06a0cc",
            "C17": "9a3beea1ed9e12b6",
            "C18": "351f66e5a66eb1c5",
            "C19": "a3ed67086d1cfab7",
            "C20": "17f54633d2642bb9",
            "C21": "6b48327ffcaa9e46",
            "hour_of_day": "71e2f090be152a27",
            "day": "6689a65a989d9adf",
        },
        "label": "adaca81914e540fe",
        "column_types": {
            "id": "float",
            "click": "int64",
            "hour": "int64",
            "C1": "int64",
            "banner_pos": "int64",
            "device_type": "int64",
            "device_conn_type": "int64",
            "C14": "int64",
            "C15": "int64",
            "C16": "int64",
            "C17": "int64",
            "C18": "int64",
            "C19": "int64",
            "C20": "int64",
            "C21": "int64",
        },
        "feature_columns": [
            "hour",
            "C1",
            "banner_pos",
            "site_id",
            "site_domain",
            "site_category",
            "app_id",
            "app_domain",
            "app_category",
            "device_id",
            "device_ip",
            "device_model",
            "device_type",
            "device_conn_type",
            "C14",
            "C15",
            "C16",
            "C17",
            "C18",
            "C19",
            "C20",
            "C21",
        ],
        "user_item": [None, None],
        "multivalent": {},
        "numeric": ["hour"],
    },
    "movielens": {
        "fields": {
            "user": "f3a05dfc27dac95e",
            "movie": "94b9e19b7e4df855",
            "genres": "ac758b325cdcaa70",
            "year": "8e515ffccc0b5f6e",
            "rating_weekday": "5bd5ff72af466f41",
            "rating_hour": "b73a4e2ae7193a76",
            "rating_year": "7759ab17e5cac5cb",
        },
        "label": "653ebd3fbf1c158c",
        "column_types": {"rating": "float", "user": "int64", "movie": "int64", "year": "int64", "timestamp": "int64"},
        "feature_columns": ["user", "movie", "genres", "year", "timestamp"],
        "user_item": ["user", "movie"],
        "multivalent": {"genres": 6},
        "numeric": ["rating", "timestamp"],
    },
}


def _digest(tensor: tf.Tensor) -> str:
    values = tf.nest.map_structure(lambda v: v.decode() if isinstance(v, bytes) else v, tensor.numpy().tolist())
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()[:16]


@pytest.fixture(scope="module")
def movielens_train(data_dir: pathlib.Path, tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    folder = tmp_path_factory.mktemp("movielens_layout")
    prepare_movielens(data_dir / "movielens-latest-small", folder, split="time")
    return folder


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shipped_layout_gives_the_same_fields_and_labels(name, data_dir, movielens_train):
    relative, stride = SOURCES[name]
    path = (movielens_train if name == "movielens" else data_dir) / relative
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(itertools.islice(csv.DictReader(f), 0, 200 * stride, stride))
    layout = layouts.get_layout(name)
    expected = EXPECTED[name]
    raw = {c: tf.constant([row[c] for row in rows]) for c in layout.columns}
    fields = layout.to_fields(raw)
    assert list(fields) == list(layout.field_names) or set(fields) == set(layout.field_names)
    assert {f: _digest(fields[f]) for f in layout.field_names} == expected["fields"]
    assert list(layout.field_names) == list(expected["fields"])  # model field order unchanged
    assert _digest(layout.to_label(raw[layout.label])) == expected["label"]
    assert dict(layout.column_types) == expected["column_types"]
    assert list(layout.feature_columns) == expected["feature_columns"]
    assert [layout.user_field, layout.item_field] == expected["user_item"]
    assert {f.name: f.max_len for f in layout.fields if f.max_len > 1} == expected["multivalent"]
    assert set(layout.numeric_columns) | {layout.label} == set(expected["numeric"]) | {layout.label}
    assert layout.splits == ("train.csv", "valid.csv", "test.csv")


def test_get_layout_reads_a_file_and_its_text_rebuilds_it(tmp_path):
    source = pathlib.Path(layouts.FRAPPE.spec.source)
    copy = tmp_path / "mine.yaml"
    copy.write_text(source.read_text(encoding="utf-8").replace("name: frappe", "name: mine"), encoding="utf-8")
    layout = layouts.get_layout(str(copy))
    assert layout.name == "mine" and layout.field_names == layouts.FRAPPE.field_names
    rebuilt = layouts.layout_from_text(layout.file_text)
    assert rebuilt.columns == layout.columns and rebuilt.fields == layout.fields
    assert layouts.get_layout(layout) is layout
