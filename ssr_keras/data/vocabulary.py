"""Per-field vocabularies built from the training split, saved as readable JSON.

Ids follow the one id scheme (`ssr_keras.data.ids`): id 0 is the out-of-vocabulary bucket (values
unseen in training, or seen fewer than `min_count` times), known values get ids 1..n ordered as
TensorFlow Transform orders a vocabulary (descending training count, ties by descending UTF-8 bytes),
so the TFX pipeline gives every value the same id. A field's `vocab_size` is n + 1. A blank value `""`
is a value like any other, except in a multivalent field, where `""` is padding and maps to -1.

Example:

>>> from ssr_keras.data import build_vocabularies, get_layout
>>> layout = get_layout("frappe")
>>> vocabularies = build_vocabularies(layout, "../shared/data/frappe-ctr/valid.csv", min_count=2)
>>> vocabularies.vocab_size("weather")
9
>>> vocabularies.save("/tmp/frappe_vocab.json")
>>> Vocabularies.load("/tmp/frappe_vocab.json") == vocabularies
True
"""

from __future__ import annotations

import collections
import json
import os
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import tensorflow as tf

from ssr_keras.data import csv_files, ids
from ssr_keras.data.field_lookup import FieldLookup
from ssr_keras.data.field_spec import FieldSpec
from ssr_keras.data.layouts import Layout

_FORMAT = "ssr_keras.vocabularies/1"


class Vocabularies:
    """The known values of every model field of one layout, in id order.

    Args:
        values: field name -> known values; `values[f][i]` gets id `i + 1` (id 0 is OOV, see `ssr_keras.data.ids`).
        counts: optional field name -> training count of each known value (kept for inspection).
        layout_name: the layout the vocabularies were built for; checked by `field_specs` and
            `lookup_layer` when given.
        min_count: the frequency threshold the values were selected with (informational).

    Example:

    >>> vocabularies = Vocabularies({"weather": ["sunny", "cloudy"]}, layout_name="frappe")
    >>> vocabularies.vocab_size("weather")  # two values + the OOV bucket
    3
    """

    def __init__(self, values: Mapping[str, Sequence[str]], counts: Mapping[str, Sequence[int]] | None = None,
                 layout_name: str | None = None, min_count: int = 1):
        self._values: Dict[str, Tuple[str, ...]] = {}
        for field, field_values in values.items():
            field_values = tuple(field_values)
            if len(set(field_values)) != len(field_values):
                duplicates = sorted(v for v, n in collections.Counter(field_values).items() if n > 1)
                raise ValueError(f"Field {field!r}: vocabulary values must be unique; duplicated: {duplicates[:5]}.")
            self._values[field] = field_values
        self._counts: Dict[str, Tuple[int, ...]] = {}
        for field, field_counts in (counts or {}).items():
            if field not in self._values or len(field_counts) != len(self._values[field]):
                raise ValueError(f"Field {field!r}: counts must match the field's values one to one.")
            self._counts[field] = tuple(int(c) for c in field_counts)
        self.layout_name = layout_name
        self.min_count = min_count

    @property
    def fields(self) -> Tuple[str, ...]:
        """Field names, in insertion (model) order."""
        return tuple(self._values)

    def values(self, field: str) -> Tuple[str, ...]:
        """Known values of `field` in id order (the value at index i has id i + 1)."""
        return self._values[self._check_field(field)]

    def counts(self, field: str) -> Tuple[int, ...] | None:
        """Training counts of `field`'s known values, or None when not recorded."""
        return self._counts.get(self._check_field(field))

    def vocab_size(self, field: str) -> int:
        """Number of ids of `field`: known values + 1 OOV bucket."""
        return ids.vocab_size(len(self.values(field)))

    @property
    def vocab_sizes(self) -> Dict[str, int]:
        return {field: ids.vocab_size(len(values)) for field, values in self._values.items()}

    def _check_field(self, field: str) -> str:
        if field not in self._values:
            raise KeyError(f"No vocabulary for field {field!r}; known fields: {list(self._values)}.")
        return field

    def _check_layout(self, layout: Layout) -> None:
        if self.layout_name is not None and layout.name != self.layout_name:
            raise ValueError(f"These vocabularies were built for layout {self.layout_name!r}, "
                             f"received layout {layout.name!r}.")
        missing = [f for f in layout.field_names if f not in self._values]
        if missing:
            raise ValueError(f"Layout {layout.name!r} fields {missing} have no vocabulary; "
                             f"known fields: {list(self._values)}.")

    def field_specs(self, layout: Layout) -> List[FieldSpec]:
        """`FieldSpec`s for the layout's fields, in model order.

        Args:
            layout: the layout whose fields the model takes.

        Returns:
            `[FieldSpec(name, vocab_size, max_len), ...]`, ready for `RankingModel(fields=...)`.
        """
        self._check_layout(layout)
        return [f.with_vocab_size(self.vocab_size(f.name)) for f in layout.fields]

    def lookup_layer(self, layout: Layout, name: str = "field_lookup") -> FieldLookup:
        """A Keras layer mapping `layout.to_fields(raw)` to int64 ids (`ssr_keras.data.ids`).

        The layer holds its lookup tables: attach it to the exported module (or model) so a SavedModel
        tracks them, e.g. `module.lookup = vocabularies.lookup_layer(layout)`.

        Args:
            layout: the layout whose fields to map.
            name: the layer's name.
        """
        self._check_layout(layout)
        return FieldLookup({f.name: self._values[f.name] for f in layout.fields},
                           multivalent_fields=[f.name for f in layout.fields if f.multivalent], name=name)

    def to_json(self) -> Dict[str, Any]:
        """The JSON document `save` writes: per field `vocab_size`, `values` in id order and `counts`."""
        return {
            "format": _FORMAT,
            "layout": self.layout_name,
            "min_count": self.min_count,
            "oov_id": ids.OOV_ID,
            "padding_id": ids.PADDING_ID,
            "fields": {
                field: {"vocab_size": ids.vocab_size(len(values)), "values": list(values),
                        **({"counts": list(self._counts[field])} if field in self._counts else {})}
                for field, values in self._values.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Vocabularies:
        """Rebuilds vocabularies from a `to_json` document."""
        if data.get("format") != _FORMAT:
            raise ValueError(f"Expected a vocabularies document with format {_FORMAT!r}, "
                             f"received format {data.get('format')!r}.")
        fields = data["fields"]
        return cls(values={f: v["values"] for f, v in fields.items()},
                   counts={f: v["counts"] for f, v in fields.items() if "counts" in v},
                   layout_name=data.get("layout"), min_count=int(data.get("min_count", 1)))

    def save(self, path: csv_files.PathLike) -> None:
        """Writes the vocabularies as indented JSON (any `tf.io.gfile` path)."""
        with tf.io.gfile.GFile(os.fspath(path), "w") as f:
            json.dump(self.to_json(), f, indent=1, ensure_ascii=False)
            f.write("\n")

    @classmethod
    def load(cls, path: csv_files.PathLike) -> Vocabularies:
        """Reads vocabularies written by `save`."""
        with tf.io.gfile.GFile(os.fspath(path), "r") as f:
            return cls.from_json(json.load(f))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabularies):
            return NotImplemented
        return self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"Vocabularies(layout={self.layout_name!r}, vocab_sizes={self.vocab_sizes})"


def _count_chunk(layout: Layout, rows: Sequence[csv_files.Row],
                 counters: Mapping[str, collections.Counter]) -> None:
    raw = {name: tf.constant([row[index] for row in rows], tf.string) for index, name in enumerate(layout.columns)}
    fields = layout.to_fields(raw)
    for field in layout.fields:
        values = tf.reshape(fields[field.name], [-1])
        if field.multivalent:
            values = tf.boolean_mask(values, tf.not_equal(values, ""))
        # Count in TensorFlow; only the (few) distinct values of the chunk cross into Python.
        unique, _, unique_counts = tf.unique_with_counts(values)
        counters[field.name].update(dict(zip(unique.numpy().tolist(), unique_counts.numpy().tolist())))


def build_vocabularies(layout: Layout, paths: csv_files.Paths, min_count: int = 1,
                       delimiter: str = ",", max_rows: int | None = None) -> Vocabularies:
    """Counts every model field's values over the training file(s), validating each row on the way.

    One streaming pass: rows are read with Python's `csv` module in chunks, checked against the layout
    (a bad row raises `MalformedRowError` with file, line and column) and turned into fields with the
    layout's own `to_fields`, so the counted values are exactly those the reader and the serving graph
    look up.

    Args:
        layout: the layout of the files.
        paths: the training file(s) only (a path, a glob pattern or a sequence of them).
        min_count: values seen fewer times map to the OOV id 0.
        delimiter: the column separator (`"\\t"` for the raw Criteo dump).
        max_rows: count only the first N data rows (over all files, in order): quick runs.

    Returns:
        The `Vocabularies` of all `layout.fields`.

    Example:

    >>> criteo = get_layout("criteo")  # doctest: +SKIP
    >>> vocabularies = build_vocabularies(criteo, "day_0.txt", min_count=10, delimiter="\\t")  # doctest: +SKIP
    """
    if not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"min_count must be an integer >= 1, received {min_count!r}.")
    counters = {field.name: collections.Counter() for field in layout.fields}
    remaining = max_rows
    for path in csv_files.resolve_paths(paths):
        for rows in csv_files.iter_row_chunks(layout, path, delimiter, max_rows=remaining):
            _count_chunk(layout, rows, counters)
            remaining = None if remaining is None else remaining - len(rows)
    values, counts = {}, {}
    for name, counter in counters.items():
        # TensorFlow Transform's vocabulary order: (count, token bytes), largest first.
        kept = sorted(((count, value) for value, count in counter.items() if count >= min_count), reverse=True)
        values[name] = [value.decode("utf-8") for _, value in kept]
        counts[name] = [count for count, _ in kept]
    return Vocabularies(values, counts, layout_name=layout.name, min_count=min_count)
