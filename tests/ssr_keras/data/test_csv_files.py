"""Tests for path resolution, header detection and row validation."""

from __future__ import annotations

import pathlib

import pytest

from ssr_keras.data import MalformedRowError, csv_files, get_layout
from ssr_keras.export import layout_example
from tests.ssr_keras.data.helpers import write_lines

FRAPPE = get_layout("frappe")
CRITEO = get_layout("criteo")
FRAPPE_ROW = "1,1,11,morning,monday,workday,home,free,sunny,Spain,0"


def criteo_row(label: str = "0", i3: str = "260.0") -> str:
    numeric = ["", "3", i3] + [""] * 10
    return ",".join([label, *numeric, *(f"c{i}" for i in range(26))])


def test_resolve_paths_expands_globs_in_order(tmp_path: pathlib.Path) -> None:
    for name in ("part-1.csv", "part-0.csv"):
        write_lines(tmp_path / name, [FRAPPE_ROW])

    files = csv_files.resolve_paths([str(tmp_path / "part-*.csv"), tmp_path / "part-1.csv"])

    assert [pathlib.Path(f).name for f in files] == ["part-0.csv", "part-1.csv", "part-1.csv"]


def test_resolve_paths_reports_the_missing_path(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        csv_files.resolve_paths(tmp_path / "nope.csv")
    with pytest.raises(FileNotFoundError, match=r"nope-\*"):
        csv_files.resolve_paths(str(tmp_path / "nope-*.csv"))
    with pytest.raises(ValueError, match="at least one"):
        csv_files.resolve_paths([])


def test_header_detection(tmp_path: pathlib.Path, data_dir: pathlib.Path) -> None:
    with_header = write_lines(tmp_path / "a.csv", [",".join(FRAPPE.columns), FRAPPE_ROW])
    without_header = write_lines(tmp_path / "b.csv", [FRAPPE_ROW])
    tab_separated = write_lines(tmp_path / "c.tsv", ["\t".join(CRITEO.columns)])

    assert csv_files.has_header(FRAPPE, str(with_header))
    assert not csv_files.has_header(FRAPPE, str(without_header))
    assert csv_files.has_header(CRITEO, str(tab_separated), delimiter="\t")
    assert csv_files.has_header(CRITEO, str(data_dir / "criteo-sample" / "criteo_sample.txt"))
    assert csv_files.has_header(get_layout("avazu"), str(data_dir / "avazu-sample" / "avazu_sample.txt"))


def test_header_of_another_layout_is_an_error(tmp_path: pathlib.Path) -> None:
    path = write_lines(tmp_path / "a.csv", ["label,user,item", "1,u,i"])

    with pytest.raises(ValueError, match="does not match the 'frappe' layout"):
        csv_files.has_header(FRAPPE, str(path))


@pytest.mark.parametrize(
    "bad_row, column, problem",
    [
        (FRAPPE_ROW + ",extra", "#12", "unexpected extra column after 'city'"),
        (FRAPPE_ROW.rsplit(",", 1)[0], "city", "missing; expected 11 columns"),
        (",1,11,morning,monday,workday,home,free,sunny,Spain,0", "label", "blank; expected a number"),
        ("1,1,i1,morning,monday,workday,home,free,sunny,Spain,0", "item", "expected an integer .the column's type "
         "is int64., found 'i1'"),
    ],
)
def test_malformed_frappe_rows(tmp_path: pathlib.Path, bad_row: str, column: str, problem: str) -> None:
    path = write_lines(tmp_path / "rows.csv", [",".join(FRAPPE.columns), FRAPPE_ROW, FRAPPE_ROW, bad_row, FRAPPE_ROW])

    with pytest.raises(MalformedRowError, match=problem) as error:
        csv_files.validate_file(FRAPPE, str(path))

    assert (error.value.path, error.value.line, error.value.column) == (str(path), 4, column)
    assert f"rows.csv, line 4, column {column!r}" in str(error.value)


def test_blank_lines_are_skipped_and_later_errors_keep_their_line(tmp_path: pathlib.Path) -> None:
    path = write_lines(tmp_path / "rows.csv", [",".join(FRAPPE.columns), FRAPPE_ROW, "", FRAPPE_ROW, "", "0,1"])

    with pytest.raises(MalformedRowError, match="line 6, column 'item'"):
        csv_files.validate_file(FRAPPE, str(path))
    good = write_lines(tmp_path / "good.csv", ["\ufeff" + ",".join(FRAPPE.columns), FRAPPE_ROW, "", FRAPPE_ROW, ""])
    assert len(list(csv_files.iter_dict_rows(FRAPPE, str(good)))) == 2


def test_non_numeric_value_in_a_numeric_column(tmp_path: pathlib.Path) -> None:
    path = write_lines(tmp_path / "rows.txt", [criteo_row(), criteo_row(i3="")] * 3 + [criteo_row(i3="12x")])

    with pytest.raises(MalformedRowError, match=r"line 7, column 'I3': expected a number, found '12x'"):
        csv_files.validate_file(CRITEO, str(path))


@pytest.mark.parametrize("value", ["1_000", "Infinity", "nan", "0x10", "3 apples"])
def test_numbers_tensorflow_cannot_parse_are_rejected(tmp_path: pathlib.Path, value: str) -> None:
    path = write_lines(tmp_path / "rows.txt", [criteo_row(i3="-2.5e3"), criteo_row(i3=" 7 "), criteo_row(i3=value)])

    with pytest.raises(MalformedRowError, match=r"line 3, column 'I3'"):
        csv_files.validate_file(CRITEO, str(path))


def test_the_earliest_bad_row_is_reported_whatever_its_column(tmp_path: pathlib.Path) -> None:
    rows = [FRAPPE_ROW, "1,1,11,morning,monday,workday,home,free,sunny,Spain,x", ",1,11,a,b,c,d,e,f,g,0"]
    path = write_lines(tmp_path / "rows.csv", rows)

    with pytest.raises(MalformedRowError, match="line 2, column 'city': expected an integer") as error:
        csv_files.validate_file(FRAPPE, str(path))

    assert error.value.line == 2


def test_line_numbers_count_quoted_line_breaks(tmp_path: pathlib.Path) -> None:
    quoted = '1,1,11,"two\nlines",monday,workday,home,free,sunny,Spain,0'
    path = write_lines(tmp_path / "rows.csv", [quoted, FRAPPE_ROW, "0,1"])

    with pytest.raises(MalformedRowError) as error:
        csv_files.validate_file(FRAPPE, str(path))

    assert error.value.line == 4


def test_errors_are_found_beyond_the_first_chunk(tmp_path: pathlib.Path) -> None:
    path = write_lines(tmp_path / "rows.csv", [FRAPPE_ROW] * 10 + ["1,1"])

    with pytest.raises(MalformedRowError) as error:
        for _ in csv_files.iter_row_chunks(FRAPPE, str(path), chunk_rows=3):
            pass

    assert error.value.line == 11


def test_valid_file_is_checked_once_until_it_changes(tmp_path: pathlib.Path) -> None:
    path = write_lines(tmp_path / "rows.csv", [FRAPPE_ROW] * 3)
    csv_files.validate_file(FRAPPE, str(path))

    write_lines(path, [FRAPPE_ROW, "1,1,11"])  # a new size: checked again

    with pytest.raises(MalformedRowError, match="line 2"):
        csv_files.validate_file(FRAPPE, str(path))


def test_reads_rows_with_and_without_header(tmp_path):
    layout = get_layout("frappe")
    line = "1,11,12,morning,monday,workday,home,free,sunny,France,7"
    (tmp_path / "with.csv").write_text(",".join(layout.columns) + "\n" + line + "\n")
    (tmp_path / "without.csv").write_text(line + "\n")
    rows = [list(csv_files.iter_dict_rows(layout, str(tmp_path / name))) for name in ("with.csv", "without.csv")]
    assert rows[0] == rows[1] and rows[0][0]["user"] == "11" and rows[0][0]["label"] == "1"
    example = layout_example(layout, rows[0][0])
    assert set(example.features.feature) == set(layout.feature_columns)
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(csv_files.MalformedRowError, match="line 1, column 'item': missing"):
        list(csv_files.iter_dict_rows(layout, str(tmp_path / "bad.csv")))
    (tmp_path / "requests.csv").write_text(",".join(layout.feature_columns) + "\n" + line[2:] + "\n")
    request_rows = list(csv_files.iter_dict_rows(layout, str(tmp_path / "requests.csv"), require_label=False))
    assert request_rows == [{k: v for k, v in rows[0][0].items() if k != "label"}]
    with pytest.raises(ValueError, match="label column 'label' is missing"):
        list(csv_files.iter_dict_rows(layout, str(tmp_path / "requests.csv")))


def test_criteo_sample_rows_become_typed_features(data_dir):
    layout = get_layout("criteo")
    rows = list(csv_files.iter_dict_rows(layout, str(data_dir / "criteo-sample" / "criteo_sample.txt"), max_rows=5))
    example = layout_example(layout, rows[0])
    assert len(rows) == 5
    assert example.features.feature["I3"].float_list.value == [260.0]
    assert example.features.feature["C1"].WhichOneof("kind") == "bytes_list"
    assert "I1" not in example.features.feature  # blank: absent, as CsvExampleGen writes it
