"""ExampleGen executor that reads CSV files with the types a dataset `Layout` declares.

TFX's `CsvExampleGen` infers each column's type from the data (an all-digit column becomes int64), so
the example types would depend on which rows happened to be in the files. This executor types every
raw feature column as the layout declares it (`Layout.column_types`: the types CsvExampleGen gives the
data set's full files): int64 / float / bytes features, a blank CSV value left out as CsvExampleGen
leaves it out. These are exactly the examples a TFX user's serving client sends and the serving
signature parses (`ssr_keras.data.raw_examples`), so the Evaluator scores what serving will. The label
becomes a float 0/1 computed by `layout.to_label`. Rows are read and checked by
`ssr_keras.data.csv_files`, the same code `ssr-train` uses, so a file gets one verdict everywhere: a
bad row is a `MalformedRowError` naming the file, line and column (also for a value that is not of
its column's type).

It plugs into the standard `FileBasedExampleGen` component, so splits, span/version handling and
input fingerprinting (for caching) are TFX's:

>>> from tfx.components.example_gen.component import FileBasedExampleGen
>>> from tfx.dsl.components.base import executor_spec
>>> from pipeline import example_gen
>>> gen = FileBasedExampleGen(
...     input_base="/data/frappe-ctr",
...     custom_config=example_gen.layout_custom_config("frappe", label_key="label"),
...     custom_executor_spec=executor_spec.BeamExecutorSpec(example_gen.Executor))  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator, List, Tuple

import apache_beam as beam
import tensorflow as tf
from google.protobuf import json_format, struct_pb2
from tfx.components.example_gen import base_example_gen_executor
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import standard_component_specs

from ssr_keras.data import csv_files, layouts
from ssr_keras.data.csv_files import Row
from ssr_keras.export.tf_example import make_feature


def layout_custom_config(layout_name: str, label_key: str) -> example_gen_pb2.CustomConfig:
    """ExampleGen `custom_config` telling `Executor` which layout to read and the label's feature name.

    Args:
        layout_name: what `ssr_keras.data.layouts.get_layout` takes (`Layout.reference`: a built-in's name
            or a layout file inline, so that Beam workers need no file).
        label_key: the `tf.Example` feature that receives the 0/1 label.

    Returns:
        A `CustomConfig` proto holding a `Struct` with keys `layout` and `label_key`.
    """
    layout = layouts.get_layout(layout_name)  # fails early, with the known names, on a typo
    if label_key in layout.feature_columns:
        raise ValueError(f"label_key {label_key!r} collides with a feature column of layout "
                         f"{layout.name!r}; choose another name.")
    config = struct_pb2.Struct()
    config.update({"layout": layout_name, "label_key": label_key})
    custom_config = example_gen_pb2.CustomConfig()
    custom_config.custom_config.Pack(config)
    return custom_config


def _read_custom_config(exec_properties: Dict[str, Any]) -> Tuple[layouts.Layout, str]:
    serialized = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
    if not serialized:
        raise ValueError("Layout CSV ExampleGen needs custom_config=layout_custom_config(layout, label_key).")
    custom_config = example_gen_pb2.CustomConfig()
    json_format.Parse(serialized, custom_config)
    config = struct_pb2.Struct()
    custom_config.custom_config.Unpack(config)
    return layouts.get_layout(config["layout"]), config["label_key"]


class _ReadLayoutCsv(beam.DoFn):
    """Reads one CSV file (in order, so errors can name the line) into `tf.Example`s."""

    def __init__(self, layout_name: str, label_key: str):
        self._layout_name = layout_name
        self._label_key = label_key

    def setup(self):
        self._layout = layouts.get_layout(self._layout_name)
        self._indices = [self._layout.columns.index(c) for c in self._layout.feature_columns]
        self._label_index = self._layout.columns.index(self._layout.label)

    def process(self, path: str) -> Iterator[bytes]:
        first_line = 2 if csv_files.has_header(self._layout, path) else 1
        for rows in csv_files.iter_row_chunks(self._layout, path):
            yield from self._to_examples(rows, path, first_line)
            first_line += len(rows)

    def _to_examples(self, rows: List[Row], path: str, first_line: int) -> Iterator[bytes]:
        # Labels are converted with `layout.to_label` (TensorFlow ops) a whole chunk at a time.
        labels = self._layout.to_label(tf.constant([row[self._label_index] for row in rows])).numpy()
        for line, (row, label) in enumerate(zip(rows, labels), start=first_line):
            example = tf.train.Example()
            for column, index in zip(self._layout.feature_columns, self._indices):
                if not row[index].strip():
                    continue  # blank: left out, as CsvExampleGen leaves it out
                try:
                    feature = make_feature(column, row[index], self._layout.column_type(column))
                except ValueError as error:  # "Column 'user' is int64; its value 'x' is not."
                    raise csv_files.MalformedRowError(path, line, column, str(error)) from None
                example.features.feature[column].CopyFrom(feature)
            example.features.feature[self._label_key].float_list.value.append(float(label))
            yield example.SerializeToString()


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
@beam.typehints.with_output_types(bytes)
def _LayoutCsvToExample(pipeline: beam.Pipeline, exec_properties: Dict[str, Any],  # noqa: N802 (Beam style)
                        split_pattern: str) -> beam.pvalue.PCollection:
    """Reads the CSV files matching `split_pattern` under the input base into serialized tf.Examples."""
    layout, label_key = _read_custom_config(exec_properties)
    pattern = os.path.join(exec_properties[standard_component_specs.INPUT_BASE_KEY], split_pattern)
    paths = sorted(fileio.glob(pattern))
    if not paths:
        raise ValueError(f"No input file matches {pattern!r}.")
    # Check headers before launching any work, so a wrong file fails fast with a clear message.
    for path in paths:
        columns, _ = csv_files.file_columns(layout, path)
        if layout.label not in columns:
            raise ValueError(f"{path}: the label column {layout.label!r} is missing; the header has {list(columns)}.")
    return (pipeline
            | "ListFiles" >> beam.Create(paths)
            # One file per worker keeps lines in order (for error messages), as CsvExampleGen does.
            | "ReadCsvToExamples" >> beam.ParDo(_ReadLayoutCsv(layout.reference, label_key)))


class Executor(base_example_gen_executor.BaseExampleGenExecutor):
    """`FileBasedExampleGen` executor: CSV files -> `tf.Example`s typed by a dataset layout.

    Every feature column of the layout becomes a single-valued feature of its CsvExampleGen type
    (`Layout.column_types`; a blank value is left out); the label becomes a float 0/1 feature named
    by `label_key`. Configure it with `layout_custom_config`.
    """

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:  # noqa: N802 (TFX API name)
        return _LayoutCsvToExample
