"""`ssr-layout infer`: propose a layout file for a CSV file from a sample of its rows.

Reads the header and the first rows (10,000 by default) with Python's `csv` module (no layout exists yet,
so not through `csv_files`) and guesses, per column:

* `dtype` by CsvExampleGen's rule: every non-blank value an integer (within int64) -> int64, else every
  non-blank value a number -> float, else bytes;
* the label: `--label`, else a column named like a label (`label`, `click`, `clicked`, `target`, `y`,
  `rating`, ...), else the first 0/1 column; a 0/1 column is positive above 0.5, any other numeric
  label gets `threshold:` its upper quartile (MovieLens ratings: 4.0); a text label of two values one of
  which reads as positive (`yes`/`no`, `true`/`false`, `clicked`/...) gets `positive_values:` that one;
* `kind`: `ignored` for a row id (named `id`, `row_id`, `uuid`, ...); `datetime` for a column named like
  a time whose values are Unix seconds (`unix_seconds`) or YYMMDDHH (`yymmddhh`); `multivalent` for text
  holding `|` or `;` lists (`max_len`: the longest list seen); `numeric` for float columns and for integer
  columns with many distinct values (`log_squared` for counts: integral values >= -3, else
  `quantiles: 10`); `categorical` otherwise;
* `user` / `item` / `timestamp`: columns named like `user`, `user_id`, `item`, `movie_id`, `timestamp`, ...;
* `optional: true` for a column with blanks in the sample.

The proposal is YAML with a comment on every guess the user should check. `parse_layout` accepts it.

Example:

>>> rows = [["clicked", "user_id", "tags", "price"], ["1", "7", "a|b", "1.5"], ["0", "8", "c", "20.25"]]
>>> print(propose_layout("shop", rows[0], rows[1:], source="shop.csv", splits=True))  # doctest: +ELLIPSIS
# Layout proposed by `ssr-layout infer shop.csv` from 2 rows: check the lines marked
...
name: shop
label: {column: clicked}  # check: 0/1 values; positive when > 0.5
user: user_id  # check: the column naming the user (guessed from its name)
columns:
  - {name: clicked, dtype: int64}
  - {name: user_id, dtype: int64}  # 2 distinct values in the sample
  - {name: tags, kind: multivalent, separator: "|", max_len: 2}  # check: lists separated by '|'; ...
  - {name: price, kind: numeric, dtype: float, bucketing: {quantiles: 10}}  # check: values 1.5..20.25: ...
<BLANKLINE>
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import re
from typing import Dict, List, Sequence, Tuple

SAMPLE_ROWS = 10_000
LABEL_NAMES = ("label", "labels", "click", "clicked", "clicks", "target", "y", "is_click", "conversion",
               "converted", "purchase", "rating", "score")
USER_NAMES = ("user", "user_id", "userid", "uid", "customer", "customer_id", "member_id", "visitor_id")
ITEM_NAMES = ("item", "item_id", "itemid", "iid", "movie", "movie_id", "movieid", "product", "product_id",
              "sku", "article", "article_id", "ad_id", "song", "song_id", "track_id", "book_id")
TIME_NAMES = ("timestamp", "ts", "time", "datetime", "event_time", "hour", "date_time", "unix_time")
ID_NAMES = ("id", "row_id", "rowid", "index", "uuid", "request_id", "event_id", "impression_id")
SEPARATORS = ("|", ";")
MULTIVALENT_SHARE = 0.05  # a separator in at least this share of non-blank values makes a list column
NUMERIC_DISTINCT = 1000  # an integer column with more distinct values than this (and not an id) is numeric
QUANTILE_BUCKETS = 10
INT64_MAX = 2 ** 63 - 1
UNIX_SECONDS = (1e8, 1e10)  # 1973 .. 2286
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
# Texts of a two-valued text label column that mark the positive rows (compared lower-cased).
POSITIVE_LABEL_TEXTS = frozenset({"1", "yes", "y", "true", "t", "positive", "pos", "click", "clicked", "buy",
                                  "bought", "purchase", "purchased", "converted", "like", "liked"})
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


@dataclasses.dataclass
class ColumnStats:
    """What the sample shows of one column."""

    name: str
    values: List[str]
    blanks: int

    @property
    def distinct(self) -> int:
        return len(set(self.values))

    @property
    def dtype(self) -> str:
        """CsvExampleGen's rule on the non-blank values."""
        if self.values and all(_INTEGER.fullmatch(v) and abs(int(v)) <= INT64_MAX for v in self.values):
            return "int64"
        if self.values and all(_NUMBER.fullmatch(v) for v in self.values):
            return "float"
        return "bytes"

    def numbers(self) -> List[float]:
        return [float(v) for v in self.values]


def read_sample(path: str, rows: int = SAMPLE_ROWS, delimiter: str = ",") -> Tuple[List[str], List[List[str]]]:
    """The header and the first `rows` data rows of a CSV file (blank lines skipped).

    Raises:
        ValueError: the file is empty, has no header, or a row has the wrong number of columns.
    """
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        header = [c.strip() for c in next(reader, [])]
        if not header:
            raise ValueError(f"{path}: empty file; expected a header line naming the columns.")
        if all(_NUMBER.fullmatch(c) for c in header if c):
            raise ValueError(f"{path}, line 1: {header[:4]}... looks like data; the file needs a header line "
                             "naming the columns.")
        sample = []
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise ValueError(f"{path}, line {reader.line_num}: {len(row)} columns; the header has "
                                 f"{len(header)} ({header}).")
            sample.append([c.strip() for c in row])
            if len(sample) >= rows:
                break
    if not sample:
        raise ValueError(f"{path}: no data rows after the header.")
    return header, sample


def _stats(header: Sequence[str], rows: Sequence[Sequence[str]]) -> List[ColumnStats]:
    stats = []
    for index, name in enumerate(header):
        column = [row[index] for row in rows]
        values = [v for v in column if v]
        stats.append(ColumnStats(name, values, len(column) - len(values)))
    return stats


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def _scalar(value) -> str:
    """A YAML flow scalar: plain when unambiguous, else JSON-quoted (JSON strings are YAML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text)


def _flow(mapping: Dict[str, object]) -> str:
    parts = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            value = _flow(value)
        elif isinstance(value, list):
            value = "[" + ", ".join(_scalar(v) for v in value) + "]"
        else:
            value = _scalar(value)
        parts.append(f"{key}: {value}")
    return "{" + ", ".join(parts) + "}"


def _label_column(stats: Sequence[ColumnStats], label: str | None) -> ColumnStats:
    names = [s.name for s in stats]
    if label is not None:
        if label not in names:
            raise ValueError(f"--label {label!r} is not a column; the header has {names}.")
        return stats[names.index(label)]
    for candidate in LABEL_NAMES:
        for s in stats:
            if _key(s.name) == candidate:
                return s
    for s in stats:
        if s.values and set(s.values) <= {"0", "1"}:
            return s
    raise ValueError(f"no label column found (none is named like {list(LABEL_NAMES[:6])} or holds only 0/1); "
                     "name it with --label.")


def _label(stats: ColumnStats) -> Tuple[Dict[str, object], str]:
    if stats.blanks:
        raise ValueError(f"the label column {stats.name!r} has {stats.blanks} blank values in the sample.")
    if stats.dtype == "bytes":
        return _text_label(stats)
    numbers = sorted(stats.numbers())
    if set(numbers) <= {0.0, 1.0}:
        return {"column": stats.name}, "check: 0/1 values; positive when > 0.5"
    threshold = numbers[min(len(numbers) - 1, int(0.75 * len(numbers)))]
    return ({"column": stats.name, "threshold": float(threshold)},
            f"check: values {numbers[0]:g}..{numbers[-1]:g}; positive when >= {threshold:g} (the upper quartile)")


def _text_label(stats: ColumnStats) -> Tuple[Dict[str, object], str]:
    """A yes/no-like label column: positive when the text is the one that reads as positive."""
    texts = sorted({v.strip() for v in stats.values})
    positive = [t for t in texts if t.lower() in POSITIVE_LABEL_TEXTS]
    if len(texts) != 2 or len(positive) != 1:
        raise ValueError(f"the label column {stats.name!r} holds text ({texts[:5]}{'...' if len(texts) > 5 else ''}); "
                         f"a label is numeric (0/1, or a score with a threshold) or two texts one of which reads "
                         f"as positive ({sorted(POSITIVE_LABEL_TEXTS)}): write the layout's label as "
                         f"{{column: {stats.name}, positive_values: [\"...\"]}}.")
    negative = next(t for t in texts if t != positive[0])
    return ({"column": stats.name, "positive_values": positive},
            f"check: a text label; positive when {positive[0]!r}, negative when {negative!r} (or any other text)")


def _datetime(stats: ColumnStats) -> Tuple[Dict[str, object], str] | None:
    if _key(stats.name) not in TIME_NAMES or stats.dtype != "int64":
        return None
    numbers = stats.numbers()
    if all(len(v) == 8 for v in stats.values):
        return ({"format": "yymmddhh", "parts": {"hour_of_day": "hour", "day": "day"}},
                "check: YYMMDDHH -> hour of day and day of month")
    if all(UNIX_SECONDS[0] <= n <= UNIX_SECONDS[1] for n in numbers):
        prefix = stats.name
        return ({"format": "unix_seconds",
                 "parts": {f"{prefix}_weekday": "weekday", f"{prefix}_hour": "hour", f"{prefix}_year": "year"}},
                "check: Unix seconds -> weekday, hour, year")
    return None


def _multivalent(stats: ColumnStats) -> Tuple[str, int] | None:
    if stats.dtype != "bytes" or not stats.values:
        return None
    for separator in SEPARATORS:
        with_separator = sum(separator in v for v in stats.values)
        if with_separator >= max(1, MULTIVALENT_SHARE * len(stats.values)):
            return separator, max(len(v.split(separator)) for v in stats.values)
    return None


def _numeric(stats: ColumnStats) -> Tuple[Dict[str, object], str] | None:
    if stats.dtype == "float" or (stats.dtype == "int64" and stats.distinct > NUMERIC_DISTINCT):
        numbers = sorted(stats.numbers())
        if numbers[0] >= -3 and all(n == math.floor(n) for n in numbers):
            return ({"bucketing": "log_squared"},
                    f"check: counts {numbers[0]:g}..{numbers[-1]:g}: int(log(v)^2) buckets (the SSR paper's rule)")
        return ({"bucketing": {"quantiles": QUANTILE_BUCKETS}},
                f"check: values {numbers[0]:g}..{numbers[-1]:g}: {QUANTILE_BUCKETS} quantile buckets")
    return None


def propose_layout(name: str, header: Sequence[str], rows: Sequence[Sequence[str]], label: str | None = None,
                   source: str = "data.csv", splits: bool = False) -> str:
    """The YAML text of a proposed layout file for a CSV file's `header` and sample `rows`.

    Args:
        name: the layout's name.
        header, rows: the file's columns and a sample of its data rows (`read_sample`).
        label: the label column (default: guessed).
        source: the file's path, named in the comments.
        splits: whether the file's folder holds train.csv, valid.csv and test.csv (else `splits: null`).

    Raises:
        ValueError: no label column can be found, or the label is not numeric.
    """
    if len(set(header)) != len(header):
        duplicated = sorted({c for c in header if header.count(c) > 1})
        raise ValueError(f"{source}: the header names column(s) {duplicated} twice.")
    stats = _stats(header, rows)
    label_stats = _label_column(stats, label)
    label_spec, label_note = _label(label_stats)
    columns: List[Tuple[Dict[str, object], str]] = []
    ids: Dict[str, Tuple[str, str]] = {}
    for s in stats:
        entry: Dict[str, object] = {"name": s.name}
        note = ""
        key = _key(s.name)
        if s is label_stats:
            if s.dtype != "bytes":
                entry["dtype"] = s.dtype
            columns.append((entry, ""))
            continue
        if key in ID_NAMES:
            entry["kind"] = "ignored"
            note = "check: a row id (neither a field nor sent to serving)"
        elif (moment := _datetime(s)) is not None:
            entry.update({"kind": "datetime", **moment[0]})
            note = moment[1]
            ids.setdefault("timestamp", (s.name, "check: the column holding the event time"))
        elif (listed := _multivalent(s)) is not None:
            entry.update({"kind": "multivalent", "separator": listed[0], "max_len": listed[1]})
            note = f"check: lists separated by {listed[0]!r}; max_len is the longest seen"
        elif key in USER_NAMES or key in ITEM_NAMES:
            ids.setdefault("user" if key in USER_NAMES else "item",
                           (s.name, f"check: the column naming the {'user' if key in USER_NAMES else 'item'} "
                                    "(guessed from its name)"))
            note = f"{s.distinct} distinct values in the sample"
        elif (numeric := _numeric(s)) is not None:
            entry.update({"kind": "numeric", **numeric[0]})
            note = numeric[1]
        if s.dtype != "bytes":
            entry["dtype"] = s.dtype
        if s.blanks:
            entry["optional"] = True
            note = (note + "; " if note else "") + f"{s.blanks} blank values: requests may omit it"
        columns.append((_ordered(entry), note))

    lines = [f"# Layout proposed by `ssr-layout infer {source}` from {len(rows)} rows: check the lines marked",
             "# \"check\", edit what is wrong, then validate with `ssr-layout check <this file>`.",
             "# Schema and every option: ssr_keras/data/layout_file.py (ssr-keras).",
             f"name: {_scalar(name)}",
             f"label: {_flow(label_spec)}  # {label_note}"]
    for key in ("user", "item", "timestamp"):
        if key in ids:
            lines.append(f"{key}: {_scalar(ids[key][0])}  # {ids[key][1]}")
    if not splits:
        lines.append("splits: null  # check: no train.csv/valid.csv/test.csv beside the file; ssr-train needs them")
    lines.append("columns:")
    for entry, note in columns:
        lines.append(f"  - {_flow(entry)}" + (f"  # {note}" if note else ""))
    return "\n".join(lines) + "\n"


def _ordered(entry: Dict[str, object]) -> Dict[str, object]:
    order = ("name", "kind", "dtype")
    return {**{k: entry[k] for k in order if k in entry}, **{k: v for k, v in entry.items() if k not in order}}


def infer_layout_file(path: str, label: str | None = None, rows: int = SAMPLE_ROWS, name: str | None = None) -> str:
    """`propose_layout` for a CSV file: the name defaults to the file's (or, for train.csv, its folder's) name."""
    header, sample = read_sample(path, rows)
    folder = os.path.dirname(os.path.abspath(path))
    stem = os.path.splitext(os.path.basename(path))[0]
    split = all(os.path.isfile(os.path.join(folder, f)) for f in ("train.csv", "valid.csv", "test.csv"))
    default_name = os.path.basename(folder) if split or stem in ("train", "data") else stem
    return propose_layout(name or default_name, header, sample, label=label, source=path, splits=split)

