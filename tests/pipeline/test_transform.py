"""`preprocessing_fn`: ids of the one id scheme (OOV 0, multivalent padding -1), equal to the readers' ids."""

import functools
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from pipeline import transform
from ssr_keras.data import build_vocabularies, csv_files, ids, layouts, raw_examples
from tests.ssr_keras.data.helpers import write_lines

pytestmark = pytest.mark.slow


def _analyze_and_transform(layout_name, train_rows, test_rows, feature_spec, tmp_path, min_count=1):
    """Analyzes `train_rows`, transforms `test_rows`; returns (transformed rows, TFTransformOutput)."""
    config = {"layout": layout_name, "label_key": "label", "min_count": min_count}
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(feature_spec))
    output_dir = str(tmp_path / "transform_output")
    with tft_beam.Context(temp_dir=str(tmp_path / "tmp")):
        transform_fn = ((train_rows, metadata)
                        | tft_beam.AnalyzeDataset(functools.partial(transform.preprocessing_fn,
                                                                    custom_config=config)))
        (transformed, _) = ((test_rows, metadata), transform_fn) | tft_beam.TransformDataset()
        _ = transform_fn | tft_beam.WriteTransformFn(output_dir)
    return transformed, tft.TFTransformOutput(output_dir)


def _frappe_rows(n, user_prefix="u"):
    layout = layouts.get_layout("frappe")
    rows = []
    for i in range(n):
        row = {c: f"{c}{i % 3}" for c in layout.feature_columns}
        row["user"] = f"{user_prefix}{i % 4}"
        row["label"] = float(i % 2)
        rows.append(row)
    return rows


def test_single_valued_fields_get_vocabulary_ids_with_the_oov_bucket_first(tmp_path):
    layout = layouts.get_layout("frappe")
    spec = {c: tf.io.FixedLenFeature([], tf.string) for c in layout.feature_columns}
    spec["label"] = tf.io.FixedLenFeature([], tf.float32)
    test_rows = _frappe_rows(4)
    test_rows[0]["user"] = "never-seen"

    transformed, output = _analyze_and_transform("frappe", _frappe_rows(12), test_rows, spec, tmp_path)

    assert set(transformed[0]) == set(layout.field_names) | {"label"}
    user_vocab_size = output.vocabulary_size_by_name(ids.vocabulary_name("user"))
    assert user_vocab_size == 4
    assert transformed[0]["user"] == ids.OOV_ID
    assert {row["user"] for row in transformed[1:]} <= set(range(1, user_vocab_size + 1))
    for field in layout.field_names:
        size = ids.vocab_size(output.vocabulary_size_by_name(ids.vocabulary_name(field)))
        assert all(0 <= row[field] < size for row in transformed), field
    assert [row["label"] for row in transformed] == [0.0, 1.0, 0.0, 1.0]
    assert output.transformed_feature_spec()["user"] == tf.io.FixedLenFeature([], tf.int64)


def test_multivalent_field_pads_with_minus_one_and_keeps_padding_out_of_the_vocabulary(tmp_path):
    layout = layouts.get_layout("movielens")
    spec = {c: tf.io.FixedLenFeature([], tf.string) for c in layout.feature_columns}
    spec["label"] = tf.io.FixedLenFeature([], tf.float32)
    base = {"user": "1", "movie": "10", "year": "1995", "timestamp": "964982703", "label": 1.0}
    train_rows = [dict(base, genres="Comedy|Drama"), dict(base, genres="Drama"),
                  dict(base, genres="Action|Comedy|Drama")]
    test_rows = [dict(base, genres="Drama|Western"), dict(base, genres="")]

    transformed, output = _analyze_and_transform("movielens", train_rows, test_rows, spec, tmp_path)

    vocabulary = output.vocabulary_by_name(ids.vocabulary_name("genres"))
    assert sorted(vocabulary) == [b"Action", b"Comedy", b"Drama"]  # no padding token
    genres = np.asarray([row["genres"] for row in transformed])
    drama = vocabulary.index(b"Drama") + 1
    np.testing.assert_array_equal(genres[0], [drama, ids.OOV_ID, -1, -1, -1, -1])
    np.testing.assert_array_equal(genres[1], [-1] * layouts.MOVIELENS_MAX_GENRES)
    assert output.transformed_feature_spec()["genres"] == tf.io.FixedLenFeature(
        [layouts.MOVIELENS_MAX_GENRES], tf.int64)


def test_sparse_label_is_rejected_with_a_hint():
    inputs = {c: tf.constant([["1"]]) for c in layouts.get_layout("frappe").feature_columns}
    inputs["label"] = tf.sparse.from_dense(tf.constant([[1.0]]))
    with pytest.raises(ValueError, match="infer_feature_shape=True"):
        transform.preprocessing_fn(inputs, {"layout": "frappe", "label_key": "label"})


def test_missing_raw_column_is_named():
    inputs = {"user": tf.constant(["1"]), "label": tf.constant([1.0])}
    with pytest.raises(ValueError, match=r"inputs lack column\(s\) \['item'"):
        transform.preprocessing_fn(inputs, {"layout": "frappe", "label_key": "label"})


def test_module_file_imports_installed_packages_only():
    # TFX ships this file alone in a user-code wheel: a `pipeline.` import would not resolve there.
    source = open(os.path.join(os.path.dirname(transform.__file__), "transform.py"), encoding="utf-8").read()
    assert "from pipeline" not in source and "import pipeline" not in source


def _string_spec(layout):
    spec = {c: tf.io.FixedLenFeature([], tf.string) for c in layout.feature_columns}
    spec["label"] = tf.io.FixedLenFeature([], tf.float32)
    return spec


def _typed_spec(layout):
    """The columns as the ExampleGen types them (`Layout.column_types`)."""
    spec = {c: tf.io.FixedLenFeature([], raw_examples.feature_dtype(layout, c)) for c in layout.feature_columns}
    spec["label"] = tf.io.FixedLenFeature([], tf.float32)
    return spec


def _typed(layout, row):
    cast = {"int64": int, "float": float, "bytes": str}
    return {c: cast[layout.column_type(c)](row[c]) for c in layout.feature_columns}


def _reader_ids(layout, train_path, rows, min_count):
    vocabularies = build_vocabularies(layout, train_path, min_count=min_count)
    raw = {c: tf.constant([row[c] for row in rows]) for c in layout.feature_columns}
    return vocabularies.lookup_layer(layout)(layout.to_fields(raw))


@pytest.mark.parametrize("min_count", [1, 3])
def test_transform_and_reader_give_identical_ids_on_real_rows(tmp_path, data_dir, min_count):
    # 400 real frappe rows: many values tie on count (the order of ties must agree), 100 more rows
    # with values the training rows never had (OOV) and values under min_count.
    layout = layouts.get_layout("frappe")
    rows = list(csv_files.iter_dict_rows(layout, str(data_dir / "frappe-ctr" / "train.csv"), max_rows=500))
    train_path = write_lines(tmp_path / "train.csv", [",".join(layout.columns)] +
                             [",".join(row[c] for c in layout.columns) for row in rows[:400]])
    # Typed as the ExampleGen types them (user, item, city int64): the ids must still be the readers'.
    examples = [{**_typed(layout, row), "label": float(row["label"])} for row in rows]

    transformed, _ = _analyze_and_transform("frappe", examples[:400], examples[400:], _typed_spec(layout),
                                            tmp_path, min_count=min_count)
    expected = _reader_ids(layout, str(train_path), rows[400:], min_count)

    for field in layout.field_names:
        assert [row[field] for row in transformed] == expected[field].numpy().tolist(), field
    assert any(row["user"] == ids.OOV_ID for row in transformed)


def test_transform_and_reader_give_identical_ids_for_multivalent_fields(tmp_path):
    layout = layouts.get_layout("movielens")
    genres = ["Drama|Comedy", "Comedy|Drama|War", "Western", "War|Western", "Drama", "Comedy|Noir|Drama"]
    rows = [{"rating": "4", "user": str(i % 3), "movie": str(i % 5), "genres": g, "year": "1990",
             "timestamp": str(964982703 + 3600 * i)} for i, g in enumerate(genres * 2)]
    train_path = write_lines(tmp_path / "train.csv", [",".join(layout.columns)] +
                             [",".join(row[c] for c in layout.columns) for row in rows[:8]])
    examples = [{**{c: row[c] for c in layout.feature_columns}, "label": 1.0} for row in rows]

    transformed, _ = _analyze_and_transform("movielens", examples[:8], examples[8:], _string_spec(layout), tmp_path)
    expected = _reader_ids(layout, str(train_path), rows[8:], min_count=1)

    for field in layout.field_names:
        assert np.asarray([row[field] for row in transformed]).tolist() == expected[field].numpy().tolist(), field


# Typed as the ExampleGen types them: an int64 user, a float count (Criteo's log-squared buckets) and a
# categorical column, the last two with blanks (left out by the ExampleGen, so SchemaGen makes them sparse).
TYPED_LAYOUT = """
name: typed-blanks
label: {column: label}
columns:
  - {name: label, dtype: int64}
  - {name: user, dtype: int64}
  - {name: count, kind: numeric, dtype: float, bucketing: log_squared, optional: true}
  - {name: site, optional: true}
"""


def test_typed_rows_with_blanks_give_the_ids_of_the_csv_text(tmp_path, data_dir):
    # The same rows as the old all-bytes ExampleGen wrote them (CSV text, blanks "") and as the typed one
    # writes them (blanks left out): the Transform must give the same ids, and they are the readers' ids
    # (a blank value is a known value of its own, not the OOV bucket).
    layout = layouts.layout_from_text(TYPED_LAYOUT)
    criteo = layouts.get_layout("criteo")
    source = list(csv_files.iter_dict_rows(criteo, str(data_dir / "criteo-sample" / "criteo_sample.txt")))
    rows = [{"label": r["label"], "user": str(i % 7), "count": r["I3"], "site": r["C3"]} for i, r in enumerate(source)]
    assert any(not r["count"] for r in rows) and any(not r["site"] for r in rows)
    typed_spec = {"user": tf.io.FixedLenFeature([], tf.int64), "count": tf.io.VarLenFeature(tf.float32),
                  "site": tf.io.VarLenFeature(tf.string), "label": tf.io.FixedLenFeature([], tf.float32)}
    typed = [{"user": int(row["user"]), "count": [float(row["count"])] if row["count"] else [],
              "site": [row["site"]] if row["site"] else [], "label": float(row["label"])} for row in rows]
    text = [{**{c: row[c] for c in layout.feature_columns}, "label": float(row["label"])} for row in rows]

    from_typed, _ = _analyze_and_transform(layout.reference, typed[:150], typed[150:], typed_spec, tmp_path / "t")
    from_text, _ = _analyze_and_transform(layout.reference, text[:150], text[150:], _string_spec(layout), tmp_path)

    train_path = write_lines(tmp_path / "train.csv", [",".join(layout.columns)] +
                             [",".join(row[c] for c in layout.columns) for row in rows[:150]])
    expected = _reader_ids(layout, str(train_path), rows[150:], min_count=1)
    for field in layout.field_names:
        assert [row[field] for row in from_typed] == [row[field] for row in from_text], field
        assert [row[field] for row in from_typed] == expected[field].numpy().tolist(), field
    blank_sites = {row["site"] for row, raw in zip(from_typed, rows[150:]) if not raw["site"]}
    assert len(blank_sites) == 1 and blank_sites != {ids.OOV_ID}
    assert len({row["count"] for row in from_typed}) > 2
