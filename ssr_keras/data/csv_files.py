"""The CSV files of a layout: resolving paths, detecting the header line and validating rows.

Validation strategy (shared by `build_vocabularies` and `make_dataset`): rows are checked once, in
Python, before any training step runs, so that a malformed row is reported as a `MalformedRowError`
(a `ValueError`) naming the file, the line and the column. The training split is checked for free in
the vocabulary pass, which must read every row anyway; other files (valid/test) get one Python pass
when `make_dataset` first sees them (0.16 s for the 58k rows of Frappe's valid.csv on a busy 2-core
machine, a few seconds per million rows). Checked files are remembered for the life of the process
(by path, size and modification time), so epochs, repeated `make_dataset` calls and the vocabulary
pass never re-check a file. The tf.data hot path itself carries no checks: `tf.io.decode_csv` still
fails on a wrong column count, only without a line number. Files too large for a Python pass can
skip it with `make_dataset(..., validate=False)`.

Example:

>>> from ssr_keras.data import csv_files, layouts
>>> layout = layouts.get_layout("frappe")
>>> files = csv_files.resolve_paths("../shared/data/frappe-ctr/valid.csv")
>>> csv_files.has_header(layout, files[0])
True
>>> csv_files.validate_file(layout, files[0])  # raises MalformedRowError on a bad row
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
from typing import Dict, Iterator, List, Sequence, Set, Tuple, Union

import tensorflow as tf

from ssr_keras.data.layouts import Layout

PathLike = Union[str, os.PathLike]
Paths = Union[PathLike, Sequence[PathLike]]

Row = List[str]

_GLOB_CHARS = frozenset("*?[")
# Plain decimal numbers, the common ground of Python's float() and tf.strings.to_number (which reject
# respectively "0x10" and "1_000" / "Infinity").
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
# What a checked column must hold when non-blank: its pattern and the words for the error message.
_NUMBER_CHECK = (_NUMBER, "a number")
_INTEGER_CHECK = (_INTEGER, "an integer (the column's type is int64)")
_TEXT_CHECK = (re.compile(r".+", re.DOTALL), "a label text")
_VALIDATED: Set[Tuple[str, int, int, str, str]] = set()


class MalformedRowError(ValueError):
    """A CSV row that does not fit its layout.

    Attributes:
        path: the file.
        line: 1-based line number in the file (the header is line 1 when present).
        column: the raw column at fault.
    """

    def __init__(self, path: str, line: int, column: str, problem: str):
        self.path, self.line, self.column = path, line, column
        super().__init__(f"{path}, line {line}, column {column!r}: {problem}")


def resolve_paths(paths: Paths) -> List[str]:
    """Expands one path, a glob pattern or a sequence of them into existing file names.

    Args:
        paths: a file, a glob pattern (`data/train-*.csv`) or a sequence of either; local or any
            filesystem `tf.io.gfile` understands (e.g. `gs://`).

    Returns:
        The files, in the given order (glob matches sorted).

    Raises:
        FileNotFoundError: a path does not exist or a pattern matches nothing.
        ValueError: no path given.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files: List[str] = []
    for path in map(os.fspath, paths):
        if _GLOB_CHARS.intersection(path):
            matches = sorted(tf.io.gfile.glob(path))
            if not matches:
                raise FileNotFoundError(f"No file matches the pattern {path!r}.")
            files.extend(matches)
        elif tf.io.gfile.exists(path) and not tf.io.gfile.isdir(path):
            files.append(path)
        else:
            raise FileNotFoundError(f"CSV file {path!r} does not exist (or is a directory).")
    if not files:
        raise ValueError("Expected at least one CSV path, received an empty sequence.")
    return files


def _open_text(path: str) -> io.TextIOBase:
    # Python's own reader is several times faster than GFile line iteration; GFile covers gs:// etc.
    if "://" in path:
        return tf.io.gfile.GFile(path, "r")
    return open(path, newline="", encoding="utf-8")


def _parse_line(line: str, delimiter: str) -> Row:
    return next(csv.reader([line], delimiter=delimiter), [])


def file_columns(layout: Layout, path: str, delimiter: str = ",") -> Tuple[Tuple[str, ...], bool]:
    """The columns of a layout file and whether its first line is a header naming them.

    A file holds either all of `layout.columns`, or (a request file, as `ssr-client` sends) the same
    columns without the label. A first line whose cells equal one of those column lists is the header
    (surrounding spaces and a spreadsheet's UTF-8 byte-order mark ignored); raw Criteo/Avazu dumps
    without a header start directly with data and hold all the layout's columns.

    Args:
        layout: the file's layout.
        path: the CSV file.
        delimiter: the column separator (`"\\t"` for the raw Criteo dump).

    Returns:
        `(columns, has_header)`.

    Raises:
        ValueError: the first line looks like a header (it names the label column where the label
            belongs, or holds every feature column) but its columns differ from the layout's.
    """
    with _open_text(path) as f:
        first = f.readline().rstrip("\r\n").lstrip("\ufeff")
    cells = tuple(c.strip() for c in _parse_line(first, delimiter))
    without_label = tuple(c for c in layout.columns if c != layout.label)
    if cells in (layout.columns, without_label):
        return cells, True
    label_index = layout.columns.index(layout.label)
    if (len(cells) > label_index and cells[label_index] == layout.label) or set(layout.feature_columns) <= set(cells):
        raise ValueError(
            f"{path}: the header {list(cells)} does not match the {layout.name!r} layout's columns "
            f"{list(layout.columns)} (or the same without {layout.label!r}; delimiter {delimiter!r})."
        )
    return layout.columns, False


def has_header(layout: Layout, path: str, delimiter: str = ",") -> bool:
    """Whether the file's first line is a header (see `file_columns`)."""
    return file_columns(layout, path, delimiter)[1]


def _line_number(path: str, delimiter: str, skip_header: bool, row_index: int) -> int:
    """The 1-based line a data row starts on (quoted fields may span lines): error path only."""
    with _open_text(path) as f:
        reader = csv.reader(f, delimiter=delimiter)
        for _ in itertools.islice(reader, row_index + int(skip_header)):
            pass
        line = reader.line_num
    return line + 1


def _check_chunk(columns: Sequence[str], rows: Sequence[Row],
                 numeric: Sequence[Tuple[int, bool, Tuple[re.Pattern, str]]]) -> Tuple[int, str, str] | None:
    """Returns `(row index, column, problem)` of a bad row of the chunk, or None.

    Column counts are checked first, then each numeric column; the common, valid case runs as C-level
    `map`s over whole columns, and only a failing check scans row by row for its first culprit.
    """
    width = len(columns)
    if set(map(len, rows)) != {width}:
        index = next(i for i, row in enumerate(rows) if len(row) != width)
        found = len(rows[index])
        if found < width:
            return index, columns[found], f"missing; expected {width} columns {list(columns)}, found {found}"
        return index, f"#{width + 1}", (
            f"unexpected extra column after {columns[-1]!r}; expected {width} columns, found {found}")
    problems = []  # the first bad row of each bad column; the earliest row is reported
    for column_index, required, (pattern, expected) in numeric:
        column = [row[column_index].strip() for row in rows]
        name = columns[column_index]
        if required and not all(column):
            problems.append((column.index(""), name, f"the value is blank; expected {expected}"))
        elif not all(map(pattern.fullmatch, filter(None, column))):
            index = next(i for i, value in enumerate(column) if value and not pattern.fullmatch(value))
            problems.append((index, name, f"expected {expected}, found {column[index]!r}"))
    return min(problems, key=lambda problem: problem[0], default=None)


def iter_row_chunks(layout: Layout, path: str, delimiter: str = ",", chunk_rows: int = 65536,
                    max_rows: int | None = None, require_label: bool = True) -> Iterator[List[Row]]:
    """Streams a file's data rows in chunks, validating each row against the layout.

    Numeric columns (`layout.numeric_columns`, and float columns of `layout.column_types`) must hold plain
    decimal numbers (`-1`, `2.5`, `1e3`; not `nan` or `inf`) when non-blank, int64 columns integers (what
    the pipeline's examples and serving requests carry for them); the label column must be a non-blank
    number (non-blank text for a text label). Blank lines are
    skipped. Once the whole file has been read the file counts as validated (see `validate_file`).

    Args:
        layout: the file's layout.
        path: the CSV file.
        delimiter: the column separator.
        chunk_rows: rows per yielded chunk.
        max_rows: stop after this many data rows (the file then does not count as validated).
        require_label: a file without the label column (a request file) is an error.

    Yields:
        Lists of rows (lists of cells in the file's column order, `file_columns`), in file order.

    Raises:
        MalformedRowError: on the first row that does not fit the layout.
        ValueError: the file has no label column although `require_label`.
    """
    columns, skip_header = file_columns(layout, path, delimiter)
    if require_label and layout.label not in columns:
        raise ValueError(f"{path}: the label column {layout.label!r} is missing; the header has {list(columns)}.")
    numeric = [(columns.index(c), c == layout.label, _column_check(layout, c))
               for c in dict.fromkeys(layout.numeric_columns + (layout.label,) + tuple(layout.column_types))
               if c in columns and _column_check(layout, c) is not None]
    read_rows = data_rows = 0  # csv rows read (blank lines included, for line numbers) / data rows
    with _open_text(path) as f:
        reader = csv.reader(f, delimiter=delimiter)
        if skip_header:
            next(reader, None)
        while rows := list(itertools.islice(reader, _chunk_size(chunk_rows, max_rows, data_rows))):
            kept: Sequence[int] = range(len(rows))
            read_before, read_rows = read_rows, read_rows + len(rows)
            if not all(rows):  # blank lines are skipped, but error line numbers still count them
                kept = [i for i, row in enumerate(rows) if row]
                rows = [rows[i] for i in kept]
            problem = _check_chunk(columns, rows, numeric) if rows else None
            if problem is not None:
                index, column, message = problem
                line = _line_number(path, delimiter, skip_header, read_before + kept[index])
                raise MalformedRowError(path, line, column, message)
            data_rows += len(rows)
            if rows:
                yield rows
    if max_rows is None:
        _VALIDATED.add(_file_key(layout, path, delimiter))


def _column_check(layout: Layout, column: str) -> Tuple[re.Pattern, str] | None:
    """What a column's non-blank values must match: the label and numeric or float columns numbers, an int64
    feature column (as the pipeline's examples and serving requests type it) integers; None for free text.
    The label is any number whatever its type (the pipeline writes it as a float), or any text for a text
    label (`label_is_text`: blank is still an error)."""
    if column == layout.label and layout.label_is_text:
        return _TEXT_CHECK
    if column == layout.label or column in layout.numeric_columns or layout.column_type(column) == "float":
        return _NUMBER_CHECK
    if layout.column_type(column) == "int64":
        return _INTEGER_CHECK
    return None


def iter_dict_rows(layout: Layout, path: str, delimiter: str = ",", max_rows: int | None = None,
                   require_label: bool = True) -> Iterator[Dict[str, str]]:
    """The validated data rows of a layout file as `{column: text}` (see `iter_row_chunks`)."""
    columns, _ = file_columns(layout, path, delimiter)
    for rows in iter_row_chunks(layout, path, delimiter, max_rows=max_rows, require_label=require_label):
        for row in rows:
            yield dict(zip(columns, row))


def _chunk_size(chunk_rows: int, max_rows: int | None, data_rows: int) -> int:
    return chunk_rows if max_rows is None else max(0, min(chunk_rows, max_rows - data_rows))


def _file_key(layout: Layout, path: str, delimiter: str) -> Tuple[str, int, int, str, str]:
    stat = tf.io.gfile.stat(path)
    real = path if "://" in path else os.path.realpath(path)
    return real, stat.length, stat.mtime_nsec, layout.name, delimiter


def validate_file(layout: Layout, path: str, delimiter: str = ",") -> None:
    """Checks every row of a file once per process (a no-op for a file already checked, unchanged).

    Args:
        layout: the file's layout.
        path: the CSV file.
        delimiter: the column separator.

    Raises:
        MalformedRowError: on the first row that does not fit the layout.
    """
    if _file_key(layout, path, delimiter) in _VALIDATED:
        return
    for _ in iter_row_chunks(layout, path, delimiter):
        pass
