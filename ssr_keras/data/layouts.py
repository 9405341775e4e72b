"""Dataset layouts: the raw CSV columns of a data set and how they become model fields.

A `Layout` is the single source of truth shared by the tf.data readers, the TFX `preprocessing_fn`,
the serving client and the exported serving signature. Its `to_fields` turns a dict of raw string
columns into a dict of *model fields* with TensorFlow string ops only, so the very same function runs
eagerly in a reader, inside `tf.data`, and inside a `tf.Transform` graph (no training/serving skew).

Layouts are declared in layout files (YAML or JSON; the schema: `ssr_keras.data.layout_file`).
`get_layout` takes a built-in layout's name (`frappe`, `movielens`, `movielens-1m`, `criteo`, `avazu`:
files shipped in `ssr_keras/data/builtin_layouts/`) or the path of a user's file, so a new data set
needs no code (`ssr-layout infer data.csv` proposes a file).

Every model field is categorical: numeric columns are bucketed per the file (Criteo: `int(log(v)^2)`
for v > 2, as in the SSR paper), and a multivalent field (MovieLens genres) becomes a `[B, max_len]`
string tensor padded with "" (the readers map padding to id -1).

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

from ssr_keras.data import layout_ops
from ssr_keras.data.field_spec import FieldSpec
from ssr_keras.data.layout_file import (
    LayoutSpec,
    builtin_layout_names,
    inline_layout,
    load_layout_spec,
    loads_layout,
)

RawColumns = Mapping[str, tf.Tensor]
FieldTensors = Dict[str, tf.Tensor]


@dataclasses.dataclass(frozen=True)
class Layout:
    """A data set's raw CSV layout and its mapping to categorical model fields.

    Args:
        name: layout name (`frappe`, ... for the built-ins; a layout file's `name`).
        columns: raw CSV columns in file order (label included).
        label: the raw label column; `to_label` makes it 0/1.
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
        ignored_columns: raw columns that are neither model fields nor part of a serving request.
        optional_columns: raw column -> default CSV text, for columns a request may omit.
        timestamp_column: the raw column holding the event time, where the data has one.
        quantile_columns: raw column -> number of quantile buckets, for numeric columns whose edges
            come from the training data (`with_quantile_edges`).
        spec: the parsed layout file this layout was built from (its `text` rebuilds it anywhere).
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
    ignored_columns: Tuple[str, ...] = ()
    optional_columns: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)
    timestamp_column: str | None = None
    quantile_columns: Mapping[str, int] = dataclasses.field(default_factory=dict, hash=False)
    spec: LayoutSpec | None = dataclasses.field(default=None, hash=False, compare=False, repr=False)

    def column_type(self, column: str) -> str:
        """The CsvExampleGen type of a raw column: `"int64"`, `"float"` or `"bytes"`."""
        return self.column_types.get(column, "bytes")

    @property
    def label_is_text(self) -> bool:
        """The label column holds texts (yes/no), not numbers; `to_label` knows which are 1."""
        return self.spec is not None and self.spec.label.is_text

    @property
    def field_names(self) -> Tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def reference(self) -> str:
        """What `get_layout` rebuilds this layout from anywhere: a built-in's name, else the layout inline
        as one line of JSON (a pipeline's `custom_config` and `TrainConfig.layout` carry this)."""
        builtin = LAYOUTS.get(self.name)
        if builtin is not None and self.spec is not None and builtin.spec.text == self.spec.text:
            return self.name
        if self.spec is None:
            return self.name
        return inline_layout(self.spec)

    @property
    def file_text(self) -> str:
        """The layout file's text (what `layout_from_text` rebuilds the layout from, e.g. on Beam workers)."""
        if self.spec is None or not self.spec.text:
            raise ValueError(f"Layout {self.name!r} was not built from a layout file.")
        return self.spec.text

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
        """Raw columns a serving request must carry (all but the label and ignored ones)."""
        return tuple(c for c in self.columns if c != self.label and c not in self.ignored_columns)

    def with_quantile_edges(self, edges: Mapping[str, object]) -> Layout:
        """This layout with the quantile-bucketed columns' edges fixed (`{column: increasing edges}`).

        The edges are a list or a tensor: the readers pass edges computed from the training file, the
        pipeline's Transform passes `tft.quantiles` output.
        """
        missing = sorted(set(self.quantile_columns) - set(edges))
        if missing:
            raise ValueError(f"Layout {self.name!r}: no quantile edges for column(s) {missing}.")
        return dataclasses.replace(self, to_fields=layout_ops.to_fields_fn(self.spec.columns, edges))


def layout_from_spec(spec: LayoutSpec) -> Layout:
    """Builds the `Layout` a parsed layout file declares."""
    columns = spec.columns
    field_specs = {field: FieldSpec(field, max_len=c.max_len if c.kind == "multivalent" else 1)
                   for c in columns for field in c.field_names}
    return Layout(
        name=spec.name,
        columns=tuple(c.name for c in columns),
        label=spec.label.column,
        fields=tuple(field_specs[field] for field in spec.fields),
        to_fields=layout_ops.to_fields_fn(columns),
        to_label=layout_ops.to_label_fn(spec.label),
        numeric_columns=tuple(c.name for c in columns if c.kind in ("numeric", "datetime")),
        splits=spec.splits,
        user_field=spec.user,
        item_field=spec.item,
        column_types={c.name: c.dtype for c in columns if c.dtype != "bytes"},
        ignored_columns=tuple(c.name for c in columns if c.kind == "ignored"),
        optional_columns={c.name: c.default for c in columns if c.optional},
        timestamp_column=spec.timestamp,
        quantile_columns={c.name: c.quantiles for c in columns if c.bucketing == "quantiles"},
        spec=spec,
    )


def layout_from_text(text: str, source: str = "<layout>") -> Layout:
    """A layout from a layout file's text (e.g. carried in a pipeline's `custom_config`)."""
    return layout_from_spec(loads_layout(text, source))


LAYOUTS: Dict[str, Layout] = {name: layout_from_spec(load_layout_spec(name)) for name in builtin_layout_names()}
FRAPPE, MOVIELENS, MOVIELENS_1M, CRITEO, AVAZU = (LAYOUTS[n] for n in ("frappe", "movielens", "movielens-1m",
                                                                      "criteo", "avazu"))
MOVIELENS_MAX_GENRES = dict((f.name, f.max_len) for f in MOVIELENS.fields)["genres"]
criteo_log_squared = layout_ops.log_squared  # the name the Criteo rule had before layout files


def get_layout(name_or_path: str | Layout) -> Layout:
    """A built-in layout by name, the layout a file declares (a path ending .yaml, .yml or .json), or one
    inline as JSON (`Layout.reference`).

    Raises:
        LayoutError (a ValueError): unknown name (the message lists the known ones) or a bad file (the
            message names the file, the key and the value).
    """
    if isinstance(name_or_path, Layout):
        return name_or_path
    if name_or_path in LAYOUTS:
        return LAYOUTS[name_or_path]
    return layout_from_spec(load_layout_spec(name_or_path))
