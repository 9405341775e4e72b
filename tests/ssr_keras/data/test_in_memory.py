"""Tests for `in_memory_batches`: the same rows as the stream, reshuffled every epoch, and the row cap."""

from __future__ import annotations

import pathlib

import numpy as np

from ssr_keras.data import build_vocabularies, get_layout, make_dataset
from ssr_keras.data.in_memory import estimated_rows, in_memory_batches
from ssr_keras.training import TrainConfig
from ssr_keras.training.experiment import _split_batches
from tests.ssr_keras.data.test_reader import read_all

LAYOUT = get_layout("movielens-1m")
ROWS = 3000


def _parsed(data_dir, tmp_path, batch_size=512):
    # A slice of the training split: checking the whole 1.6M-row file would take most of the test's time.
    train = str(tmp_path / "train.csv")
    with open(LAYOUT.split_paths(data_dir / "movielens-1m")[0], encoding="utf-8") as source:
        lines = [line for line, _ in zip(source, range(ROWS + 1))]
    pathlib.Path(train).write_text("".join(lines), encoding="utf-8")
    vocabularies = build_vocabularies(LAYOUT, train, max_rows=ROWS)
    return train, vocabularies, make_dataset(LAYOUT, train, vocabularies, batch_size, max_rows=ROWS)


def _row_keys(features, labels):
    """One sortable tuple per row (every field, the multivalent one flattened, and the label)."""
    columns = [features[name].reshape(len(labels), -1) for name in sorted(features)]
    return sorted(map(tuple, np.concatenate(columns + [labels[:, None]], axis=1).tolist()))


def test_in_order_batches_equal_the_stream_and_shuffled_epochs_hold_the_same_rows_in_new_orders(data_dir, tmp_path):
    _, _, parsed = _parsed(data_dir, tmp_path)
    stream_features, stream_labels = read_all(parsed)

    rows, in_order = in_memory_batches(parsed, batch_size=256, shuffle=False)
    features, labels = read_all(in_order)
    assert rows == ROWS
    np.testing.assert_array_equal(labels, stream_labels)
    for name in stream_features:
        np.testing.assert_array_equal(features[name], stream_features[name])

    _, shuffled = in_memory_batches(parsed, batch_size=256, shuffle=True, seed=3)
    first, second = read_all(shuffled), read_all(shuffled)
    assert _row_keys(*first) == _row_keys(*second) == _row_keys(stream_features, stream_labels)
    assert not np.array_equal(first[0]["user_id"], second[0]["user_id"])  # reshuffled each epoch
    assert [len(b[1]) for b in shuffled.as_numpy_iterator()] == [256] * 11 + [ROWS - 256 * 11]


def test_a_split_over_the_row_cap_is_not_held(data_dir, tmp_path):
    _, _, parsed = _parsed(data_dir, tmp_path)
    rows, dataset = in_memory_batches(parsed, batch_size=256, shuffle=True, max_rows=1000)
    assert dataset is None and 1000 < rows <= 1000 + 512  # stopped at the first batch past the cap


def test_estimated_rows_is_close_to_the_line_count(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("a,b\n" + "".join(f"{i:05d},{i * 7 % 1000:03d}\n" for i in range(5000)))
    assert 4900 < estimated_rows(str(path)) < 5100


def test_run_batches_are_held_in_memory_unless_the_config_streams(data_dir, tmp_path):
    train, vocabularies, _ = _parsed(data_dir, tmp_path)
    held = _split_batches(LAYOUT, train, vocabularies, TrainConfig(layout="movielens-1m", batch_size=500),
                          shuffle=True, max_rows=ROWS, repeat=False)
    streamed = _split_batches(LAYOUT, train, vocabularies,
                              TrainConfig(layout="movielens-1m", batch_size=500, in_memory_rows=0),
                              shuffle=True, max_rows=ROWS, repeat=False)
    assert _row_keys(*read_all(held)) == _row_keys(*read_all(streamed))
    assert held.cardinality() == 6  # in memory: the batch count is known
    assert streamed.cardinality() < 0  # a stream does not know its length
