"""Tests for `Vocabularies` and `build_vocabularies`."""

from __future__ import annotations

import json
import pathlib

import pytest

from ssr_keras.data import MalformedRowError, Vocabularies, build_vocabularies, get_layout
from ssr_keras.models import FieldSpec
from tests.ssr_keras.data.helpers import write_lines

FRAPPE = get_layout("frappe")
HEADER = ",".join(FRAPPE.columns)


def frappe_row(label: str = "1", user: str = "1", item: str = "11", city: str = "0") -> str:
    return f"{label},{user},{item},morning,monday,workday,home,free,sunny,Spain,{city}"


def test_values_by_descending_count_then_descending_value_as_tensorflow_transform(tmp_path: pathlib.Path) -> None:
    users = ["2", "1", "3", "1", "2", "4", "1"]  # 1:3, 2:2, 3:1, 4:1
    path = write_lines(tmp_path / "train.csv", [HEADER] + [frappe_row(user=u) for u in users])

    vocabularies = build_vocabularies(FRAPPE, path)

    # TFT orders (count, token bytes) largest first: the tie 3/4 becomes 4, 3 (tests/pipeline checks
    # that the Transform gives the same ids).
    assert vocabularies.values("user") == ("1", "2", "4", "3")
    assert vocabularies.counts("user") == (3, 2, 1, 1)
    assert vocabularies.vocab_size("user") == 5  # 4 values + OOV
    assert vocabularies.fields == FRAPPE.field_names


def test_min_count_drops_rare_values(tmp_path: pathlib.Path) -> None:
    users = ["1", "1", "2", "3", "3", "3"]
    path = write_lines(tmp_path / "train.csv", [HEADER] + [frappe_row(user=u) for u in users])

    vocabularies = build_vocabularies(FRAPPE, path, min_count=2)

    assert vocabularies.values("user") == ("3", "1")
    assert vocabularies.min_count == 2


def test_blank_is_a_value_of_a_single_valued_field(data_dir: pathlib.Path) -> None:
    criteo = get_layout("criteo")

    vocabularies = build_vocabularies(criteo, data_dir / "criteo-sample" / "criteo_sample.txt")

    assert "" in vocabularies.values("C20")  # C20 is blank on many sample rows
    assert "" in vocabularies.values("I1")  # blank numeric stays blank, not 0


def test_multivalent_padding_is_not_counted(movielens_dir: pathlib.Path) -> None:
    vocabularies = build_vocabularies(get_layout("movielens"), movielens_dir / "train.csv")

    genres = vocabularies.values("genres")
    assert "" not in genres
    assert {"Drama", "Comedy", "Action"} <= set(genres)


def test_build_over_several_files_adds_counts(frappe_slice: dict[str, pathlib.Path]) -> None:
    one = build_vocabularies(FRAPPE, frappe_slice["train"])
    both = build_vocabularies(FRAPPE, [frappe_slice["train"], frappe_slice["train"]])

    assert both.values("item") == one.values("item")
    assert both.counts("item") == tuple(2 * c for c in one.counts("item"))


def test_save_load_round_trip_is_readable_json(frappe_slice: dict[str, pathlib.Path],
                                               tmp_path: pathlib.Path) -> None:
    vocabularies = build_vocabularies(FRAPPE, frappe_slice["train"], min_count=2)
    path = tmp_path / "vocabularies.json"

    vocabularies.save(path)
    loaded = Vocabularies.load(path)

    assert loaded == vocabularies
    assert loaded.layout_name == "frappe" and loaded.min_count == 2
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["fields"]["weather"]["values"] == list(vocabularies.values("weather"))
    assert document["fields"]["weather"]["vocab_size"] == vocabularies.vocab_size("weather")
    assert "\n" in path.read_text(encoding="utf-8")[:200]  # indented, one entry per line


def test_load_rejects_other_documents(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"fields": {}}', encoding="utf-8")

    with pytest.raises(ValueError, match="format"):
        Vocabularies.load(path)


def test_field_specs_follow_the_layout(movielens_dir: pathlib.Path) -> None:
    layout = get_layout("movielens")
    vocabularies = build_vocabularies(layout, movielens_dir / "train.csv")

    specs = vocabularies.field_specs(layout)

    assert [s.name for s in specs] == list(layout.field_names)
    assert all(isinstance(s, FieldSpec) for s in specs)
    genres = specs[layout.field_names.index("genres")]
    assert genres.max_len == 6 and genres.vocab_size == vocabularies.vocab_size("genres")


def test_other_layout_is_rejected(frappe_slice: dict[str, pathlib.Path]) -> None:
    vocabularies = build_vocabularies(FRAPPE, frappe_slice["train"])

    with pytest.raises(ValueError, match="built for layout 'frappe'.*'avazu'"):
        vocabularies.field_specs(get_layout("avazu"))


def test_constructor_rejects_duplicates_and_unknown_fields() -> None:
    with pytest.raises(ValueError, match="'user'.*unique.*'a'"):
        Vocabularies({"user": ["a", "b", "a"]})
    with pytest.raises(KeyError, match="'city'"):
        Vocabularies({"user": ["a"]}).values("city")


@pytest.mark.parametrize("min_count", [0, -1, 1.5])
def test_min_count_must_be_a_positive_integer(frappe_slice: dict[str, pathlib.Path], min_count: object) -> None:
    with pytest.raises(ValueError, match="min_count"):
        build_vocabularies(FRAPPE, frappe_slice["train"], min_count=min_count)


def test_malformed_training_row_names_file_line_and_column(tmp_path: pathlib.Path) -> None:
    path = write_lines(tmp_path / "train.csv", [HEADER, frappe_row(), frappe_row(label="yes")])

    with pytest.raises(MalformedRowError, match=r"train\.csv, line 3, column 'label': expected a number") as error:
        build_vocabularies(FRAPPE, path)
    assert (error.value.line, error.value.column) == (3, "label")
