"""Dataset layouts: the raw CSV columns of each supported data set and how they become model fields.

A `Layout` is the single source of truth shared by the tf.data readers, the TFX `preprocessing_fn`,
the serving client and the exported serving signature. Its `to_fields` turns a dict of raw string
columns into a dict of *model fields* with TensorFlow string ops only, so the very same function runs
eagerly in a reader, inside `tf.data`, and inside a `tf.Transform` graph (no training/serving skew).

Every model field is categorical: numeric columns are discretised per the data set's convention
(Criteo: `int(log(v)^2)` for v > 2, as in the SSR paper), and a multivalent field (MovieLens genres)
becomes a `[B, max_len]` string tensor padded with "" (the readers map padding to id -1).

Example:

>>> from ssr_keras.data import layouts
>>> layout = layouts.get_layout("frappe")
>>> layout.label, [f.name for f in layout.fields][:3]
('label', ['user', 'item', 'daytime'])
"""

from __future__ import annotations

import dataclasses
import os
from typing import Callable, Dict, Mapping, Tuple

import tensorflow as tf

from ssr_keras.data.field_spec import FieldSpec

RawColumns = Mapping[str, tf.Tensor]
FieldTensors = Dict[str, tf.Tensor]


@dataclasses.dataclass(frozen=True)
class Layout:
    """A data set's raw CSV layout and its mapping to categorical model fields.

    Args:
        name: layout name used on command lines (`frappe`, `movielens`, `movielens-1m`, `criteo`, `avazu`).
        columns: raw CSV columns in file order (label included).
        label: the raw label column; its value is 0/1 (MovieLens: derived, see `to_label`).
        numeric_columns: raw columns that must parse as numbers when non-blank.
        fields: the model fields `to_fields` produces, in model order (no id range yet).
        to_fields: raw string columns -> model field string tensors (TensorFlow ops only).
        to_label: raw label column (string) -> float32 0/1.
        splits: file names of train / eval / test inside a data folder, when the set ships split.
        user_field, item_field: the fields naming the user and the item of a row, where the data has
            them (shared-codebook embeddings cluster the user-item graph they form).
        column_types: raw column -> `"int64"`, `"float"` or `"bytes"`: the type TFX's CsvExampleGen
            infers for the column (every value an integer -> int64, else every value a number ->
            float, else bytes). Serving requests type their `tf.Example` features this way. A column
            not listed is bytes.
    """

    name: str
    columns: Tuple[str, ...]
    label: str
    fields: Tuple[FieldSpec, ...]
    to_fields: Callable[[RawColumns], FieldTensors]
    to_label: Callable[[tf.Tensor], tf.Tensor]
    numeric_columns: Tuple[str, ...] = ()
    splits: Tuple[str, str, str] | None = ("train.csv", "valid.csv", "test.csv")
    user_field: str | None = None
    item_field: str | None = None
    column_types: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)

    def column_type(self, column: str) -> str:
        """The CsvExampleGen type of a raw column: `"int64"`, `"float"` or `"bytes"`."""
        return self.column_types.get(column, "bytes")

    @property
    def field_names(self) -> Tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def split_paths(self, data_dir: str) -> Tuple[str, str, str]:
        """The train, valid and test files of the layout's split inside `data_dir`.

        Raises:
            ValueError: the layout has no split files.
            FileNotFoundError: a split file is missing (the message lists the expected names).
        """
        if self.splits is None:
            raise ValueError(f"Layout {self.name!r} has no train/valid/test split files.")
        paths = tuple(os.path.join(data_dir, name) for name in self.splits)
        for path in paths:
            if not os.path.isfile(path):
                raise FileNotFoundError(f"{path} not found: the data folder must hold {list(self.splits)}.")
        return paths

    @property
    def feature_columns(self) -> Tuple[str, ...]:
        """Raw columns a serving request must carry (all but the label and ignored ids)."""
        return tuple(c for c in self.columns if c != self.label and c not in _IGNORED.get(self.name, ()))


_IGNORED = {"avazu": ("id",)}


def _binary_label(raw: tf.Tensor) -> tf.Tensor:
    return tf.cast(tf.strings.to_number(raw, tf.float32) > 0.5, tf.float32)


def _identity_fields(names: Tuple[str, ...]) -> Callable[[RawColumns], FieldTensors]:
    def to_fields(raw: RawColumns) -> FieldTensors:
        return {n: tf.strings.strip(raw[n]) for n in names}

    return to_fields


def _split_multivalent(raw: tf.Tensor, separator: str, max_len: int) -> tf.Tensor:
    """`"a|b"` -> `[B, max_len]` strings padded with "" (longer lists are cut at `max_len`)."""
    values = tf.strings.split(tf.strings.strip(raw), separator)
    return values.to_tensor(default_value="", shape=[None, max_len])


# ---- Frappe_x1: label + 10 categorical fields --------------------------------------------------

_FRAPPE_FIELDS = ("user", "item", "daytime", "weekday", "isweekend", "homework", "cost", "weather",
                  "country", "city")
FRAPPE = Layout(
    name="frappe",
    columns=("label",) + _FRAPPE_FIELDS,
    label="label",
    fields=tuple(FieldSpec(n) for n in _FRAPPE_FIELDS),
    to_fields=_identity_fields(_FRAPPE_FIELDS),
    to_label=_binary_label,
    user_field="user",
    item_field="item",
    column_types={"label": "int64", "user": "int64", "item": "int64", "city": "int64"},
)


# ---- Criteo: label, I1..I13 numeric (blanks allowed), C1..C26 hashed categorical -----------------

_CRITEO_INT = tuple(f"I{i}" for i in range(1, 14))
_CRITEO_CAT = tuple(f"C{i}" for i in range(1, 27))


def criteo_log_squared(raw: tf.Tensor) -> tf.Tensor:
    """Criteo numeric -> category string: `int(log(v)^2)` for v > 2, else the integer itself."""
    raw = tf.strings.strip(raw)
    blank = tf.equal(raw, "")
    value = tf.strings.to_number(tf.where(blank, "0", raw), tf.float64)
    squashed = tf.where(value > 2.0, tf.floor(tf.square(tf.math.log(tf.maximum(value, 1.0)))),
                        tf.floor(value))
    return tf.where(blank, "", tf.strings.as_string(tf.cast(squashed, tf.int64)))


def _criteo_fields(raw: RawColumns) -> FieldTensors:
    fields = {n: criteo_log_squared(raw[n]) for n in _CRITEO_INT}
    fields.update({n: tf.strings.strip(raw[n]) for n in _CRITEO_CAT})
    return fields


CRITEO = Layout(
    name="criteo",
    columns=("label",) + _CRITEO_INT + _CRITEO_CAT,
    label="label",
    fields=tuple(FieldSpec(n) for n in _CRITEO_INT + _CRITEO_CAT),
    to_fields=_criteo_fields,
    to_label=_binary_label,
    numeric_columns=_CRITEO_INT,
    column_types={"label": "int64", **{n: "float" for n in _CRITEO_INT}},
)


# ---- Avazu: id, click, hour (YYMMDDHH), 21 categorical ----------------------------------------

_AVAZU_CAT = ("C1", "banner_pos", "site_id", "site_domain", "site_category", "app_id", "app_domain",
              "app_category", "device_id", "device_ip", "device_model", "device_type",
              "device_conn_type", "C14", "C15", "C16", "C17", "C18", "C19", "C20", "C21")


def _avazu_fields(raw: RawColumns) -> FieldTensors:
    hour = tf.strings.strip(raw["hour"])
    fields = {n: tf.strings.strip(raw[n]) for n in _AVAZU_CAT}
    # YYMMDDHH: the hour of day and the day (weekday pattern) are what generalises across days.
    fields["hour_of_day"] = tf.strings.substr(hour, 6, 2)
    fields["day"] = tf.strings.substr(hour, 4, 2)
    return fields


AVAZU = Layout(
    name="avazu",
    columns=("id", "click", "hour") + _AVAZU_CAT,
    label="click",
    fields=tuple(FieldSpec(n) for n in _AVAZU_CAT + ("hour_of_day", "day")),
    to_fields=_avazu_fields,
    to_label=_binary_label,
    numeric_columns=("hour",),
    column_types={"id": "float", "click": "int64", "hour": "int64", "C1": "int64", "banner_pos": "int64",
                  "device_type": "int64", "device_conn_type": "int64",
                  **{f"C{i}": "int64" for i in range(14, 22)}},
)


# ---- MovieLens latest-small as CTR: the flat CSV written by `ssr_keras.data.movielens` ----------

MOVIELENS_MAX_GENRES = 6
_MOVIELENS_COLUMNS = ("rating", "user", "movie", "genres", "year", "timestamp")


def _movielens_fields(raw: RawColumns) -> FieldTensors:
    ts = tf.strings.to_number(tf.strings.strip(raw["timestamp"]), tf.int64)
    genres = _split_multivalent(raw["genres"], "|", MOVIELENS_MAX_GENRES)
    seconds_per_day = tf.constant(86400, tf.int64)
    return {
        "user": tf.strings.strip(raw["user"]),
        "movie": tf.strings.strip(raw["movie"]),
        "genres": genres,
        "year": tf.strings.strip(raw["year"]),
        # 1970-01-01 was a Thursday: (days + 3) % 7 gives Monday = 0.
        "rating_weekday": tf.strings.as_string((ts // seconds_per_day + 3) % 7),
        "rating_hour": tf.strings.as_string((ts % seconds_per_day) // 3600),
        "rating_year": tf.strings.as_string(1970 + ts // 31556952),  # mean Gregorian year in s
    }


def _movielens_label(raw: tf.Tensor) -> tf.Tensor:
    return tf.cast(tf.strings.to_number(raw, tf.float32) >= 4.0, tf.float32)


MOVIELENS = Layout(
    name="movielens",
    columns=_MOVIELENS_COLUMNS,
    label="rating",
    fields=(FieldSpec("user"), FieldSpec("movie"), FieldSpec("genres", max_len=MOVIELENS_MAX_GENRES),
            FieldSpec("year"), FieldSpec("rating_weekday"), FieldSpec("rating_hour"), FieldSpec("rating_year")),
    to_fields=_movielens_fields,
    to_label=_movielens_label,
    numeric_columns=("rating", "timestamp"),
    user_field="user",
    item_field="movie",
    column_types={"rating": "float", "user": "int64", "movie": "int64", "year": "int64", "timestamp": "int64"},
)


# ---- MovieLens-1M as implicit-feedback CTR (`../shared/data/movielens-1m`): 8 fields, one multivalent --

MOVIELENS_1M_MAX_GENRES = 6  # the most genres any ML-1M movie lists
_MOVIELENS_1M_SINGLE = ("user_id", "gender", "age", "occupation", "zip", "movie_id", "genre")


def _movielens_1m_fields(raw: RawColumns) -> FieldTensors:
    fields = {n: tf.strings.strip(raw[n]) for n in _MOVIELENS_1M_SINGLE}
    fields["genres_all"] = _split_multivalent(raw["genres_all"], "|", MOVIELENS_1M_MAX_GENRES)
    return fields


MOVIELENS_1M = Layout(
    name="movielens-1m",
    columns=("label",) + _MOVIELENS_1M_SINGLE + ("genres_all",),
    label="label",
    fields=tuple(FieldSpec(n) for n in _MOVIELENS_1M_SINGLE)
    + (FieldSpec("genres_all", max_len=MOVIELENS_1M_MAX_GENRES),),
    to_fields=_movielens_1m_fields,
    to_label=_binary_label,
    user_field="user_id",
    item_field="movie_id",
    column_types={"label": "int64", "user_id": "int64", "age": "int64", "occupation": "int64",
                  "movie_id": "int64"},
)


LAYOUTS: Dict[str, Layout] = {lay.name: lay for lay in (FRAPPE, MOVIELENS, MOVIELENS_1M, CRITEO, AVAZU)}


def get_layout(name: str) -> Layout:
    """Returns the layout called `name`; a ValueError lists the known ones."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise ValueError(f"Unknown layout {name!r}; expected one of {sorted(LAYOUTS)}.") from None
