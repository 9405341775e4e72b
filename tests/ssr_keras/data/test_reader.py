"""Tests for `make_dataset` on every layout's real files and on crafted edge cases."""

from __future__ import annotations

import csv
import math
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from ssr_keras.data import (
    MalformedRowError,
    Vocabularies,
    build_vocabularies,
    criteo_log_squared,
    csv_files,
    get_layout,
    make_dataset,
)
from tests.ssr_keras.data.helpers import head, write_lines

FRAPPE = get_layout("frappe")


def read_all(dataset: tf.data.Dataset) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Concatenates every batch of a finite dataset."""
    batches = list(dataset.as_numpy_iterator())
    features = {name: np.concatenate([f[name] for f, _ in batches]) for name in batches[0][0]}
    return features, np.concatenate([labels for _, labels in batches])


def check_contract(layout_name: str, dataset: tf.data.Dataset, vocabularies: Vocabularies) -> None:
    """Contract 1: int64 ids in [0, vocab_size) ([B] or [B, max_len] with -1 padding), float32 0/1 labels."""
    layout = get_layout(layout_name)
    feature_spec, label_spec = dataset.element_spec
    assert list(feature_spec) == list(layout.field_names)
    assert label_spec.dtype == tf.float32 and label_spec.shape.as_list() == [None]
    features, labels = read_all(dataset)
    assert set(np.unique(labels)) <= {0.0, 1.0}
    for field in layout.fields:
        spec, ids = feature_spec[field.name], features[field.name]
        assert spec.dtype == tf.int64
        expected_shape = [None] if field.max_len == 1 else [None, field.max_len]
        assert spec.shape.as_list() == expected_shape, field.name
        assert ids.shape == (len(labels), *expected_shape[1:])
        lowest = -1 if field.multivalent else 0
        assert lowest <= ids.min() and ids.max() < vocabularies.vocab_size(field.name), field.name


def test_frappe_ctr(frappe_slice: dict[str, pathlib.Path]) -> None:
    vocabularies = build_vocabularies(FRAPPE, frappe_slice["train"])

    check_contract("frappe", make_dataset(FRAPPE, frappe_slice["train"], vocabularies, batch_size=512), vocabularies)
    valid = make_dataset(FRAPPE, frappe_slice["valid"], vocabularies, batch_size=512)
    check_contract("frappe", valid, vocabularies)
    _, labels = read_all(valid)
    assert len(labels) == 1000 and labels.sum() == pytest.approx(1000 / 3, abs=60)


def test_movielens(movielens_dir: pathlib.Path) -> None:
    layout = get_layout("movielens")
    vocabularies = build_vocabularies(layout, movielens_dir / "train.csv")

    check_contract("movielens", make_dataset(layout, movielens_dir / "test.csv", vocabularies, batch_size=4096),
                   vocabularies)


def test_movielens_1m_fields_and_multivalent_genres_on_real_rows(data_dir: pathlib.Path) -> None:
    layout = get_layout("movielens-1m")
    path = data_dir / "movielens-1m" / "valid.csv"
    assert layout.field_names == ("user_id", "gender", "age", "occupation", "zip", "movie_id", "genre", "genres_all")
    vocabularies = build_vocabularies(layout, path, max_rows=3000)
    dataset = make_dataset(layout, path, vocabularies, batch_size=1000, max_rows=3000)
    check_contract("movielens-1m", dataset, vocabularies)

    rows = list(csv_files.iter_dict_rows(layout, str(path), max_rows=3000))
    features, labels = read_all(dataset)
    genres = vocabularies.values("genres_all")
    for row, ids in zip(rows, features["genres_all"]):
        listed = row["genres_all"].split("|")
        assert [genres[i - 1] for i in ids if i != -1] == listed  # every genre, in order, then padding
        assert list(ids[len(listed):]) == [-1] * (layout.fields[-1].max_len - len(listed))
    assert labels.tolist() == [float(row["label"]) for row in rows]


def test_criteo_sample_with_blanks(data_dir: pathlib.Path) -> None:
    layout = get_layout("criteo")
    path = data_dir / "criteo-sample" / "criteo_sample.txt"
    vocabularies = build_vocabularies(layout, path)

    dataset = make_dataset(layout, path, vocabularies, batch_size=64)

    check_contract("criteo", dataset, vocabularies)
    features, _ = read_all(dataset)
    blank_id = vocabularies.values("I1").index("") + 1
    assert (features["I1"] == blank_id).sum() == sum(row["I1"] == "" for row in csv.DictReader(open(path)))


def test_avazu_sample(data_dir: pathlib.Path) -> None:
    layout = get_layout("avazu")
    path = data_dir / "avazu-sample" / "avazu_sample.txt"
    vocabularies = build_vocabularies(layout, path)

    check_contract("avazu", make_dataset(layout, path, vocabularies, batch_size=32), vocabularies)
    assert vocabularies.values("hour_of_day") == ("00",)  # hour 14102100


def test_rows_and_ids_follow_the_file(tmp_path: pathlib.Path) -> None:
    header = ",".join(FRAPPE.columns)
    train = write_lines(tmp_path / "train.csv", [
        header,
        "1,101,1,morning,monday,workday,home,free,sunny,Spain,0",
        "0,101,2,morning,monday,workday,home,free,sunny,Spain,0",
        "0,102,1,night,monday,workday,home,free,,Spain,0",
    ])
    valid = write_lines(tmp_path / "valid.csv", [
        header,
        "1,103,1,morning,monday,workday,home,free,,France,0",  # unknown user, unknown country
    ])
    vocabularies = build_vocabularies(FRAPPE, train)

    features, labels = read_all(make_dataset(FRAPPE, train, vocabularies, batch_size=2))
    assert labels.tolist() == [1.0, 0.0, 0.0]
    assert features["user"].tolist() == [1, 1, 2]  # 101 (2 rows) before 102
    assert features["weather"].tolist() == [1, 1, 2]  # "sunny" twice, then the blank value ""

    features, _ = read_all(make_dataset(FRAPPE, valid, vocabularies, batch_size=2))
    assert features["user"].tolist() == [0] and features["country"].tolist() == [0]  # unknown -> OOV
    assert features["weather"].tolist() == [2]  # a blank seen in training is a known value


def test_rare_values_map_to_oov(tmp_path: pathlib.Path) -> None:
    rows = [f"1,{user},1,morning,monday,workday,home,free,sunny,Spain,0" for user in ("1", "1", "2")]
    train = write_lines(tmp_path / "train.csv", [",".join(FRAPPE.columns), *rows])
    vocabularies = build_vocabularies(FRAPPE, train, min_count=2)

    features, _ = read_all(make_dataset(FRAPPE, train, vocabularies, batch_size=8))

    assert features["user"].tolist() == [1, 1, 0]


def test_multivalent_padding_is_minus_one(tmp_path: pathlib.Path) -> None:
    layout = get_layout("movielens")
    train = write_lines(tmp_path / "train.csv", [
        ",".join(layout.columns),
        "4.0,1,10,Drama|Comedy,1995,964982703",
        "2.0,1,11,Drama,1994,964982224",
        "3.5,2,12,,,964982931",  # no genres listed, no year in the title
        "5.0,2,13,A|B|C|D|E|F|G|Drama,2001,964983000",  # more genres than max_len
    ])
    vocabularies = build_vocabularies(layout, train)

    features, labels = read_all(make_dataset(layout, train, vocabularies, batch_size=4))

    drama, comedy = (vocabularies.values("genres").index(g) + 1 for g in ("Drama", "Comedy"))
    assert features["genres"][0].tolist() == [drama, comedy, -1, -1, -1, -1]
    assert features["genres"][1].tolist() == [drama, -1, -1, -1, -1, -1]
    assert features["genres"][2].tolist() == [-1] * 6
    assert (features["genres"][3] > 0).all()  # truncated to max_len, no padding
    assert labels.tolist() == [1.0, 0.0, 0.0, 1.0]  # rating >= 4


@pytest.mark.parametrize("value, expected", [
    ("260", "30"), ("260.0", "30"), ("3", "1"), ("2", "2"), ("1", "1"), ("0", "0"), ("-1", "-1"), ("", ""),
    ("17668.0", str(int(math.log(17668) ** 2))),
])
def test_criteo_log_squared(value: str, expected: str) -> None:
    assert criteo_log_squared(tf.constant([value])).numpy()[0].decode() == expected


def test_criteo_numeric_ids_come_from_log_squared_values(data_dir: pathlib.Path) -> None:
    layout = get_layout("criteo")
    path = data_dir / "criteo-sample" / "criteo_sample.txt"
    vocabularies = build_vocabularies(layout, path)

    features, _ = read_all(make_dataset(layout, path, vocabularies, batch_size=200))

    first_row = next(csv.DictReader(open(path)))
    assert first_row["I3"] == "260.0"
    assert features["I3"][0] == vocabularies.values("I3").index("30") + 1


def test_header_less_tab_separated_file_reads_like_the_csv(data_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    layout = get_layout("criteo")
    path = data_dir / "criteo-sample" / "criteo_sample.txt"
    raw_dump = tmp_path / "day_0.txt"
    with open(path, newline="") as src, open(raw_dump, "w", newline="") as dst:
        rows = list(csv.reader(src))[1:]  # drop the header, as in Criteo's own files
        csv.writer(dst, delimiter="\t", lineterminator="\n").writerows(rows)
    vocabularies = build_vocabularies(layout, path)
    from_tsv = build_vocabularies(layout, raw_dump, delimiter="\t")

    assert from_tsv == vocabularies
    expected, _ = read_all(make_dataset(layout, path, vocabularies, batch_size=50))
    actual, _ = read_all(make_dataset(layout, raw_dump, vocabularies, batch_size=50, delimiter="\t"))
    for name in layout.field_names:
        np.testing.assert_array_equal(actual[name], expected[name], err_msg=name)


def test_windows_line_ends_and_byte_order_mark(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "valid.csv"
    path.write_bytes("\ufeff".encode() + b",".join(c.encode() for c in FRAPPE.columns) + b"\r\n"
                     b"1,1,11,morning,monday,workday,home,free,sunny,Spain,0\r\n"
                     b"0,2,11,morning,monday,workday,home,free,sunny,Spain,7\r\n")
    vocabularies = build_vocabularies(FRAPPE, path)

    features, labels = read_all(make_dataset(FRAPPE, path, vocabularies, batch_size=4))

    assert vocabularies.values("city") == ("7", "0")  # a tie: TensorFlow Transform's order
    assert features["city"].tolist() == [2, 1] and labels.tolist() == [1.0, 0.0]


def test_shuffle_is_seeded_and_keeps_every_row(frappe_slice: dict[str, pathlib.Path]) -> None:
    vocabularies = build_vocabularies(FRAPPE, frappe_slice["valid"])
    path = frappe_slice["valid"]

    ordered, _ = read_all(make_dataset(FRAPPE, path, vocabularies, batch_size=256))
    first, _ = read_all(make_dataset(FRAPPE, path, vocabularies, batch_size=256, shuffle=True, seed=7,
                                     shuffle_buffer=1000))
    second, _ = read_all(make_dataset(FRAPPE, path, vocabularies, batch_size=256, shuffle=True, seed=7,
                                      shuffle_buffer=1000))

    np.testing.assert_array_equal(first["item"], second["item"])
    assert not np.array_equal(first["item"], ordered["item"])
    np.testing.assert_array_equal(np.sort(first["item"]), np.sort(ordered["item"]))


def test_repeat_and_several_files(frappe_slice: dict[str, pathlib.Path]) -> None:
    vocabularies = build_vocabularies(FRAPPE, frappe_slice["train"])
    files = [frappe_slice["train"], frappe_slice["valid"]]

    once = make_dataset(FRAPPE, files, vocabularies, batch_size=1000, drop_remainder=True)
    forever = make_dataset(FRAPPE, files, vocabularies, batch_size=1000, shuffle=True, repeat=True)

    assert sum(1 for _ in once) == 4  # 3000 + 1000 rows
    assert once.element_spec[1].shape.as_list() == [1000]
    assert sum(1 for _ in forever.take(9)) == 9  # beyond one epoch


def test_malformed_eval_row_names_file_line_and_column(frappe_slice: dict[str, pathlib.Path],
                                                       tmp_path: pathlib.Path) -> None:
    vocabularies = build_vocabularies(FRAPPE, frappe_slice["train"])
    lines = head(frappe_slice["valid"], 11)
    lines[7] += ",surplus"
    path = write_lines(tmp_path / "valid.csv", lines)

    with pytest.raises(ValueError, match=r"valid\.csv, line 8, column '#12': unexpected extra column"):
        make_dataset(FRAPPE, path, vocabularies, batch_size=4)


def test_non_numeric_criteo_value_is_reported(data_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    layout = get_layout("criteo")
    lines = head(data_dir / "criteo-sample" / "criteo_sample.txt", 6)
    cells = lines[5].split(",")
    cells[layout.columns.index("I5")] = "n/a"
    lines[5] = ",".join(cells)
    path = write_lines(tmp_path / "criteo.csv", lines)
    vocabularies = build_vocabularies(layout, data_dir / "criteo-sample" / "criteo_sample.txt")

    with pytest.raises(MalformedRowError, match=r"criteo\.csv, line 6, column 'I5': expected a number, found 'n/a'"):
        make_dataset(layout, path, vocabularies, batch_size=4)


def test_without_validation_decode_csv_still_fails(frappe_slice: dict[str, pathlib.Path],
                                                   tmp_path: pathlib.Path) -> None:
    vocabularies = build_vocabularies(FRAPPE, frappe_slice["train"])
    path = write_lines(tmp_path / "valid.csv", head(frappe_slice["valid"], 3) + ["1,u1"])

    dataset = make_dataset(FRAPPE, path, vocabularies, batch_size=4, validate=False)

    with pytest.raises(tf.errors.InvalidArgumentError, match="Expect 11 fields"):
        read_all(dataset)


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": 8, "shuffle": True, "shuffle_buffer": 0}, "shuffle_buffer"),
])
def test_bad_arguments(frappe_slice: dict[str, pathlib.Path], kwargs: dict, message: str) -> None:
    vocabularies = build_vocabularies(FRAPPE, frappe_slice["train"])

    with pytest.raises(ValueError, match=message):
        make_dataset(FRAPPE, frappe_slice["train"], vocabularies, **kwargs)


def test_a_text_label_file_reads_as_0_1_and_a_blank_label_names_its_line(tmp_path: pathlib.Path) -> None:
    layout_path = write_lines(tmp_path / "churn.yaml", [
        "name: churn",
        'label: {column: churned, positive_values: ["yes"]}',
        "columns: [churned, plan]",
    ])
    layout = get_layout(str(layout_path))
    train = write_lines(tmp_path / "train.csv", ["churned,plan", "yes,basic", "no,pro", " yes ,pro"])
    vocabularies = build_vocabularies(layout, train)
    _, labels = read_all(make_dataset(layout, train, vocabularies, batch_size=8))
    assert labels.tolist() == [1.0, 0.0, 1.0]

    blank = write_lines(tmp_path / "blank.csv", ["churned,plan", "no,basic", ",pro"])
    with pytest.raises(MalformedRowError, match=r"blank.csv, line 3, column 'churned': the value is blank; expected a "
                                                r"label text"):
        build_vocabularies(layout, blank)
