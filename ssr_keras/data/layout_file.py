"""Layout files: a data set's raw CSV layout declared in YAML (or JSON), parsed and validated.

A layout file says which raw CSV columns a data set has (in file order), which one is the label and
how it becomes 0/1, and what each other column becomes as a model field. `ssr_keras.data.layouts`
turns the parsed `LayoutSpec` into the `Layout` every reader, the pipeline and serving use; this module
reads and checks the file only (no TensorFlow, so `ssr-layout check` and the CLIs' flag checks are fast).
The built-in layouts (`frappe`, `movielens`, `movielens-1m`, `criteo`, `avazu`) are such files, shipped in
`ssr_keras/data/builtin_layouts/`.

The schema (every key not marked optional is required; an unknown key is an error)::

    name: my-clicks                  # the layout's name (model names, vocabulary checks)
    label:                           # the 0/1 target: a column of `columns` ...
      column: clicked
      threshold: 4.0                 # optional: positive when value >= 4.0; or
      # positive_values: [1, 2]      #   positive when the value is one of these numbers, or
      # positive_values: ["yes"]     #   of these texts (a text label: every other text is 0);
                                     #   neither: positive when value > 0.5 (a 0/1 column)
    splits: [train.csv, valid.csv, test.csv]   # optional (this default); null: no split files
    user: user_id                    # optional: the field naming the user (retrieval, BACO)
    item: item_id                    # optional: the field naming the item
    timestamp: ts                    # optional: the raw column holding the event time
    field_order: [...]               # optional: model field order (default: as the columns give them)
    columns:                         # every raw column, in file order
      - {name: clicked, dtype: int64}          # the label column: name and dtype only
      - {name: user_id, dtype: int64}          # kind defaults to categorical
      - name: price
        kind: numeric                # numeric columns are bucketed into categories:
        dtype: float
        bucketing: log_squared       #   int(log(v)^2) for v > 2, else int(v) (the SSR paper's Criteo rule)
        # bucketing: {edges: [1, 10, 100]}   # bucket i: i edges <= v
        # bucketing: {quantiles: 10}         # edges at the training data's deciles
      - {name: tags, kind: multivalent, separator: "|", max_len: 5}    # "a|b" -> up to 5 values
      - name: ts
        kind: datetime               # derived fields, named by `parts` (field name: part)
        format: unix_seconds         # unix_seconds: parts weekday (Monday 0), hour, year
        parts: {weekday: weekday, hour_of_day: hour}   # yymmddhh: parts year, month, day, hour
      - {name: row_id, kind: ignored}          # neither a field nor in serving requests
      - {name: coupon, optional: true, default: "none"}   # requests may omit it (this text then)

Every column takes `dtype`: `int64`, `float` or `bytes` (default), the type TFX's CsvExampleGen gives it
(every value an integer -> int64, else every value a number -> float, else bytes).

Example:

>>> spec = parse_layout({"name": "toy", "label": "y", "columns": [{"name": "y"}, {"name": "u"}]}, "toy.yaml")
>>> spec.label.column, [c.name for c in spec.feature_columns]
('y', ['u'])
>>> parse_layout({"name": "toy", "label": "y", "columns": [{"name": "y"}, {"name": "u", "kind": "cat"}]},
...              "toy.yaml")
Traceback (most recent call last):
...
ssr_keras.data.layout_file.LayoutError: toy.yaml: columns[1].kind: unknown kind 'cat'; expected one of \
['categorical', 'datetime', 'ignored', 'multivalent', 'numeric']
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import yaml

BUILTIN_LAYOUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "builtin_layouts")
LAYOUT_FILE_SUFFIXES = (".yaml", ".yml", ".json")

KINDS = ("categorical", "numeric", "multivalent", "datetime", "ignored")
DTYPES = ("int64", "float", "bytes")
LOG_SQUARED = "log_squared"
DATETIME_PARTS = {"unix_seconds": ("weekday", "hour", "year"), "yymmddhh": ("year", "month", "day", "hour")}
DEFAULT_SPLITS = ("train.csv", "valid.csv", "test.csv")
INLINE_SOURCE = "<inline layout>"

_TOP_KEYS = ("name", "label", "columns", "splits", "user", "item", "timestamp", "field_order")
_LABEL_KEYS = ("column", "threshold", "positive_values")
_COLUMN_KEYS = ("name", "kind", "dtype", "optional", "default")
_KIND_KEYS = {"categorical": (), "ignored": (), "numeric": ("bucketing",),
              "multivalent": ("separator", "max_len"), "datetime": ("format", "parts")}
_ALL_KIND_KEYS = tuple(key for keys in _KIND_KEYS.values() for key in keys)


class LayoutError(ValueError):
    """A layout file that cannot be used: the message names the file, the key path and the value."""

    def __init__(self, source: str, key: str, message: str):
        self.source, self.key = source, key
        super().__init__(": ".join(part for part in (source, key, message) if part))


@dataclasses.dataclass(frozen=True)
class LabelSpec:
    """How the label column becomes 0/1: `>= threshold`, one of `positive_values`, else `> 0.5`.

    `positive_values` are numbers (the column holds numbers) or texts (a text label column such as
    yes/no: a row is positive when its stripped text is one of them, negative otherwise).
    """

    column: str
    threshold: float | None = None
    positive_values: Tuple[float, ...] | Tuple[str, ...] | None = None

    @property
    def is_text(self) -> bool:
        """The label column holds texts, not numbers."""
        return bool(self.positive_values) and isinstance(self.positive_values[0], str)


@dataclasses.dataclass(frozen=True)
class ColumnSpec:
    """One raw column and what it becomes (see the module docstring for each key)."""

    name: str
    kind: str = "categorical"  # for the label column: "label"
    dtype: str = "bytes"
    optional: bool = False
    default: str = ""
    bucketing: str | None = None  # numeric: "log_squared", "edges" or "quantiles"
    edges: Tuple[float, ...] = ()
    quantiles: int = 0
    separator: str | None = None
    max_len: int = 1
    format: str | None = None
    parts: Tuple[Tuple[str, str], ...] = ()  # datetime: (field name, part)

    @property
    def field_names(self) -> Tuple[str, ...]:
        """The model fields this column gives."""
        if self.kind in ("label", "ignored"):
            return ()
        if self.kind == "datetime":
            return tuple(field for field, _ in self.parts)
        return (self.name,)


@dataclasses.dataclass(frozen=True)
class LayoutSpec:
    """A parsed, validated layout file (`ssr_keras.data.layouts.layout_from_spec` builds the `Layout`).

    Attributes:
        text: the file's text: what the pipeline hands its Beam workers to rebuild the same layout.
    """

    name: str
    source: str
    columns: Tuple[ColumnSpec, ...]
    label: LabelSpec
    fields: Tuple[str, ...]
    splits: Tuple[str, str, str] | None = DEFAULT_SPLITS
    user: str | None = None
    item: str | None = None
    timestamp: str | None = None
    text: str = ""

    @property
    def feature_columns(self) -> Tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if c.kind not in ("label", "ignored"))

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


def is_layout_path(name_or_path: str) -> bool:
    """Whether a `--layout` value names a file (a path or a .yaml/.yml/.json name) rather than a built-in."""
    return os.sep in name_or_path or "/" in name_or_path or name_or_path.endswith(LAYOUT_FILE_SUFFIXES) \
        or os.path.isfile(name_or_path)


def builtin_layout_names() -> Tuple[str, ...]:
    """The names of the layouts shipped with the package, sorted."""
    return tuple(sorted(os.path.splitext(n)[0] for n in os.listdir(BUILTIN_LAYOUT_DIR) if n.endswith(".yaml")))


def builtin_layout_path(name: str) -> str:
    """The shipped file of a built-in layout; a LayoutError lists the known names."""
    path = os.path.join(BUILTIN_LAYOUT_DIR, f"{name}.yaml")
    if not os.path.isfile(path):
        raise LayoutError("", "", f"unknown layout {name!r}; expected one of {list(builtin_layout_names())} "
                                          "or a layout file path (.yaml, .yml, .json)")
    return path


def read_layout_file(path: str) -> LayoutSpec:
    """Reads and validates a layout file.

    Raises:
        LayoutError: the file is missing, not YAML/JSON, or breaks the schema (the message names the key).
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as error:
        raise LayoutError(path, "", f"cannot read the layout file ({error.strerror or error})") from None
    return loads_layout(text, path)


def loads_layout(text: str, source: str = "<layout>") -> LayoutSpec:
    """Parses and validates a layout file's text; `source` names it in error messages."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise LayoutError(source, "", f"{where}not valid YAML/JSON: {problem}") from None
    return dataclasses.replace(parse_layout(document, source), text=text)


def load_layout_spec(name_or_path: str) -> LayoutSpec:
    """A built-in layout's name, a layout file's path, or a layout inline as JSON (`{...}`, see
    `inline_layout`) -> its validated `LayoutSpec`."""
    if name_or_path.lstrip().startswith("{"):
        return loads_layout(name_or_path, INLINE_SOURCE)
    if name_or_path in builtin_layout_names() or not is_layout_path(name_or_path):
        return read_layout_file(builtin_layout_path(name_or_path))
    return read_layout_file(name_or_path)


def parse_layout(document: Any, source: str = "<layout>") -> LayoutSpec:
    """Validates a parsed layout document (a mapping, see the module docstring) into a `LayoutSpec`."""
    top = _mapping(document, source, "", "the layout file must hold a mapping of keys (name, label, columns, ...)")
    _check_keys(top, _TOP_KEYS, source, "")
    for required in ("name", "label", "columns"):
        if required not in top:
            raise LayoutError(source, required, f"missing; a layout needs {required!r} ({_HINTS[required]})")
    name = _text(top["name"], source, "name")
    label = _label(top["label"], source)
    raw_columns = top["columns"]
    if not isinstance(raw_columns, list) or not raw_columns:
        raise LayoutError(source, "columns", f"expected a non-empty list of columns, got {raw_columns!r}")
    columns: List[ColumnSpec] = []
    seen: Dict[str, int] = {}
    for index, raw in enumerate(raw_columns):
        column = _column(raw, label.column, source, f"columns[{index}]")
        if column.name in seen:
            raise LayoutError(source, f"columns[{index}].name",
                              f"duplicate column {column.name!r} (also columns[{seen[column.name]}])")
        seen[column.name] = index
        columns.append(column)
    if label.column not in seen:
        raise LayoutError(source, "label.column", f"the label column {label.column!r} is not in columns "
                                                  f"{list(seen)}")
    label_dtype = columns[seen[label.column]].dtype
    if label.is_text and label_dtype != "bytes":
        raise LayoutError(source, f"columns[{seen[label.column]}].dtype",
                          f"the label's positive_values are texts, so the label column holds text: expected "
                          f"dtype bytes, got {label_dtype!r}")
    fields = _fields(columns, top.get("field_order"), source)
    if not fields:
        raise LayoutError(source, "columns", "no column gives a model field (all are the label or ignored)")
    for key in ("user", "item"):
        if top.get(key) is not None and _text(top[key], source, key) not in fields:
            raise LayoutError(source, key, f"{top[key]!r} is not a model field; expected one of {list(fields)}")
    if top.get("timestamp") is not None and _text(top["timestamp"], source, "timestamp") not in seen:
        raise LayoutError(source, "timestamp", f"{top['timestamp']!r} is not a column; expected one of {list(seen)}")
    return LayoutSpec(name=name, source=source, columns=tuple(columns), label=label, fields=fields,
                      splits=_splits(top.get("splits", list(DEFAULT_SPLITS)), source),
                      user=top.get("user"), item=top.get("item"), timestamp=top.get("timestamp"))


_HINTS = {"name": "e.g. name: my-clicks", "label": "e.g. label: {column: clicked}",
          "columns": "the raw CSV columns in file order, e.g. columns: [{name: clicked}, {name: user}]"}


def _mapping(value: Any, source: str, key: str, expected: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise LayoutError(source, key, f"{expected}; got {value!r}")
    return value


def _check_keys(mapping: Mapping[str, Any], allowed: Sequence[str], source: str, path: str) -> None:
    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise LayoutError(source, f"{path}.{key}" if path else str(key),
                              f"unknown key {key!r}; {hint}expected one of {sorted(allowed)}")


def _text(value: Any, source: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LayoutError(source, key, f"expected a non-empty string, got {value!r}")
    return value


def _number(value: Any, source: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LayoutError(source, key, f"expected a number, got {value!r}")
    return float(value)


def _positive_int(value: Any, source: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise LayoutError(source, key, f"expected an integer >= 1, got {value!r}")
    return value


def _label(value: Any, source: str) -> LabelSpec:
    if isinstance(value, str):
        value = {"column": value}
    label = _mapping(value, source, "label", "expected a column name or {column: ..., threshold: ...}")
    _check_keys(label, _LABEL_KEYS, source, "label")
    if "column" not in label:
        raise LayoutError(source, "label.column", "missing; name the label column")
    column = _text(label["column"], source, "label.column")
    if "threshold" in label and "positive_values" in label:
        raise LayoutError(source, "label", "give either threshold or positive_values, not both")
    threshold = _number(label["threshold"], source, "label.threshold") if "threshold" in label else None
    positive = None
    if "positive_values" in label:
        values = label["positive_values"]
        if not isinstance(values, list) or not values:
            raise LayoutError(source, "label.positive_values",
                              f"expected a non-empty list of numbers or of texts, got {values!r}")
        booleans = [i for i, v in enumerate(values) if isinstance(v, bool)]
        if booleans:
            raise LayoutError(source, f"label.positive_values[{booleans[0]}]",
                              f"got the boolean {values[booleans[0]]!r}: YAML reads unquoted yes/no/true/false/"
                              "on/off as booleans; quote the label text (\"yes\")")
        if isinstance(values[0], str):  # a text label column
            positive = tuple(_text(v, source, f"label.positive_values[{i}]").strip() for i, v in enumerate(values))
        else:
            positive = tuple(_number(v, source, f"label.positive_values[{i}]") for i, v in enumerate(values))
    return LabelSpec(column=column, threshold=threshold, positive_values=positive)


def _column(value: Any, label: str, source: str, path: str) -> ColumnSpec:
    if isinstance(value, str):
        value = {"name": value}
    raw = _mapping(value, source, path, "expected a column mapping such as {name: user, kind: categorical}")
    _check_keys(raw, _COLUMN_KEYS + _ALL_KIND_KEYS, source, path)
    if "name" not in raw:
        raise LayoutError(source, f"{path}.name", "missing; every column needs a name")
    name = _text(raw["name"], source, f"{path}.name")
    dtype = raw.get("dtype", "bytes")
    if dtype not in DTYPES:
        raise LayoutError(source, f"{path}.dtype", f"unknown dtype {dtype!r}; expected one of {list(DTYPES)}")
    if name == label:
        extra = sorted(set(raw) - {"name", "dtype"})
        if extra:
            raise LayoutError(source, f"{path}.{extra[0]}", f"the label column {name!r} takes only name and dtype "
                                                            "(how it becomes 0/1 is set under label:)")
        return ColumnSpec(name=name, kind="label", dtype=dtype)
    kind = raw.get("kind", "categorical")
    if kind not in KINDS:
        raise LayoutError(source, f"{path}.kind", f"unknown kind {kind!r}; expected one of {sorted(KINDS)}")
    for key in _ALL_KIND_KEYS:
        if key in raw and key not in _KIND_KEYS[kind]:
            owners = [k for k, keys in _KIND_KEYS.items() if key in keys]
            raise LayoutError(source, f"{path}.{key}", f"{key!r} applies to {'/'.join(owners)} columns only; "
                                                       f"column {name!r} is {kind} (value {raw[key]!r})")
    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        raise LayoutError(source, f"{path}.optional", f"expected true or false, got {optional!r}")
    if "default" in raw and not optional:
        raise LayoutError(source, f"{path}.default", "a default applies to optional columns only; add optional: true")
    default = raw.get("default", "")
    if not isinstance(default, (str, int, float)) or isinstance(default, bool):
        raise LayoutError(source, f"{path}.default", f"expected the CSV text of the value, got {default!r}")
    column = ColumnSpec(name=name, kind=kind, dtype=dtype, optional=optional, default=str(default))
    if kind == "numeric":
        return _numeric(raw, column, source, path)
    if kind == "multivalent":
        for key in ("separator", "max_len"):
            if key not in raw:
                raise LayoutError(source, f"{path}.{key}", f"missing; a multivalent column needs {key}")
        separator = raw["separator"]
        if not isinstance(separator, str) or not separator:
            raise LayoutError(source, f"{path}.separator", f"expected a non-empty string, got {separator!r}")
        return dataclasses.replace(column, separator=separator,
                                   max_len=_positive_int(raw["max_len"], source, f"{path}.max_len"))
    if kind == "datetime":
        return _datetime(raw, column, source, path)
    return column


def _numeric(raw: Mapping[str, Any], column: ColumnSpec, source: str, path: str) -> ColumnSpec:
    key = f"{path}.bucketing"
    bucketing = raw.get("bucketing")
    if bucketing is None:
        raise LayoutError(source, key, "missing; a numeric column needs bucketing: log_squared, {edges: [...]} "
                                       "or {quantiles: N} (or make it categorical)")
    if bucketing == LOG_SQUARED:
        return dataclasses.replace(column, bucketing=LOG_SQUARED)
    if not isinstance(bucketing, dict) or len(bucketing) != 1 or next(iter(bucketing)) not in ("edges", "quantiles"):
        raise LayoutError(source, key, f"expected log_squared, {{edges: [...]}} or {{quantiles: N}}, got {bucketing!r}")
    if "quantiles" in bucketing:
        count = bucketing["quantiles"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 2:
            raise LayoutError(source, f"{key}.quantiles", f"expected an integer >= 2, got {count!r}")
        return dataclasses.replace(column, bucketing="quantiles", quantiles=count)
    edges = bucketing["edges"]
    if not isinstance(edges, list) or not edges:
        raise LayoutError(source, f"{key}.edges", f"expected a non-empty list of numbers, got {edges!r}")
    values = tuple(_number(v, source, f"{key}.edges[{i}]") for i, v in enumerate(edges))
    if any(b <= a for a, b in zip(values, values[1:])):
        raise LayoutError(source, f"{key}.edges", f"edges must increase strictly, got {edges!r}")
    return dataclasses.replace(column, bucketing="edges", edges=values)


def _datetime(raw: Mapping[str, Any], column: ColumnSpec, source: str, path: str) -> ColumnSpec:
    fmt = raw.get("format")
    if fmt not in DATETIME_PARTS:
        raise LayoutError(source, f"{path}.format", f"expected one of {sorted(DATETIME_PARTS)}, got {fmt!r}")
    parts = _mapping(raw.get("parts"), source, f"{path}.parts",
                     "expected a mapping of field name to part, e.g. {hour_of_day: hour}")
    if not parts:
        raise LayoutError(source, f"{path}.parts", "expected at least one part")
    for field, part in parts.items():
        if part not in DATETIME_PARTS[fmt]:
            raise LayoutError(source, f"{path}.parts.{field}",
                              f"unknown part {part!r} for format {fmt}; expected one of {list(DATETIME_PARTS[fmt])}")
    return dataclasses.replace(column, format=fmt, parts=tuple((str(f), p) for f, p in parts.items()))


def _fields(columns: Sequence[ColumnSpec], order: Any, source: str) -> Tuple[str, ...]:
    fields: List[str] = []
    for index, column in enumerate(columns):
        for field in column.field_names:
            if field in fields:
                raise LayoutError(source, f"columns[{index}]", f"field {field!r} is given twice")
            fields.append(field)
    if order is None:
        return tuple(fields)
    if not isinstance(order, list) or sorted(map(str, order)) != sorted(fields):
        raise LayoutError(source, "field_order", f"expected the fields {fields} in any order, got {order!r}")
    return tuple(order)


def _splits(value: Any, source: str) -> Tuple[str, str, str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 3 or not all(isinstance(v, str) and v for v in value):
        raise LayoutError(source, "splits", f"expected [train file, valid file, test file] or null, got {value!r}")
    return tuple(value)


def inline_layout(spec: LayoutSpec) -> str:
    """The layout as one line of JSON (JSON is YAML): what a pipeline's `custom_config` carries so that
    every Beam worker and the Trainer rebuild the same layout without the file."""
    return json.dumps(yaml.safe_load(spec.text), separators=(",", ":"))
