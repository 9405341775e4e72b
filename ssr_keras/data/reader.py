"""`make_dataset`: layout CSV files -> a streaming `tf.data.Dataset` of `(features, labels)`.

Lines stream from disk (`tf.data.TextLineDataset`), are shuffled as lines, batched, and only then
parsed: one vectorised `decode_csv` + `layout.to_fields` + `FieldLookup` per batch keeps the per-row
cost in TensorFlow kernels. Rows are validated before streaming starts (see `csv_files`).

Example:

>>> from ssr_keras.data import build_vocabularies, get_layout, make_dataset
>>> layout = get_layout("frappe")
>>> vocabularies = build_vocabularies(layout, "../shared/data/frappe-ctr/valid.csv", max_rows=5000)
>>> train = make_dataset(layout, "../shared/data/frappe-ctr/valid.csv", vocabularies, batch_size=1024,
...                      shuffle=True, max_rows=5000)
>>> features, labels = next(iter(train))
>>> features["user"].shape, features["user"].dtype, labels.dtype
(TensorShape([1024]), tf.int64, tf.float32)
"""

from __future__ import annotations

from typing import Dict, Tuple

import tensorflow as tf

from ssr_keras.data import csv_files
from ssr_keras.data.layouts import Layout
from ssr_keras.data.vocabulary import Vocabularies

Features = Dict[str, tf.Tensor]

# Files read concurrently when shuffling several shards (mixes shards; one file is read sequentially).
_SHUFFLE_CYCLE_LENGTH = 8


def make_dataset(layout: Layout, paths: csv_files.Paths, vocabularies: Vocabularies, batch_size: int,
                 shuffle: bool = False, seed: int = 0, repeat: bool = False, shuffle_buffer: int = 100_000,
                 delimiter: str = ",", validate: bool = True,
                 drop_remainder: bool = False, max_rows: int | None = None) -> tf.data.Dataset:
    """Streams layout CSV files as batches of id features (`ssr_keras.data.ids`) and float32 labels.

    Features are `{field: int64 ids}`, `[B]` for single-valued fields and `[B, max_len]` for
    multivalent ones (padding -1, unknown or rare values 0); labels are float32 `[B]` 0/1. A file
    whose first line equals `layout.columns` has that header skipped; files without one (raw Criteo
    and Avazu dumps) are read from the first line.

    Args:
        layout: the files' layout.
        paths: a CSV file, a glob pattern or a sequence of either.
        vocabularies: vocabularies built on the training split (`build_vocabularies`).
        batch_size: rows per batch.
        shuffle: shuffle file order and rows (within `shuffle_buffer` lines), reshuffled every epoch.
        seed: the shuffle seed (same seed, same order).
        repeat: repeat forever (epochs are shuffled separately); use `steps_per_epoch` when fitting.
        shuffle_buffer: lines held for shuffling; the whole file for a perfect shuffle.
        delimiter: the column separator (`"\\t"` for the raw Criteo dump).
        validate: check every row once in Python before streaming (a bad row raises
            `MalformedRowError`, a `ValueError` naming file, line and column); files already checked in
            this process, e.g. by `build_vocabularies`, are not read again. `False` skips the pass
            for files too large for it: a wrong column count then fails in `decode_csv` at iteration,
            without the line number.
        drop_remainder: drop the last partial batch (static batch dimension).
        max_rows: read only the first N data rows (files in the given order, then shuffled among
            themselves): quick runs on a slice.

    Returns:
        A prefetched `tf.data.Dataset` yielding `(features, labels)`.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, received {batch_size!r}.")
    if shuffle and shuffle_buffer < 1:
        raise ValueError(f"shuffle_buffer must be a positive integer, received {shuffle_buffer!r}.")
    files = csv_files.resolve_paths(paths)
    header_lines = [int(csv_files.has_header(layout, path, delimiter)) for path in files]
    if validate:
        for path in files:
            csv_files.validate_file(layout, path, delimiter)
    lookup = vocabularies.lookup_layer(layout)

    @tf.autograph.experimental.do_not_convert  # straight-line TF ops; skip AutoGraph's slow first trace
    def parse(lines: tf.Tensor) -> Tuple[Features, tf.Tensor]:
        columns = tf.io.decode_csv(lines, record_defaults=[""] * len(layout.columns), field_delim=delimiter)
        raw = dict(zip(layout.columns, columns))
        return lookup(layout.to_fields(raw)), layout.to_label(raw[layout.label])

    if max_rows is not None and (isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1):
        raise ValueError(f"max_rows must be a positive integer or None, received {max_rows!r}.")
    sources = tf.data.Dataset.from_tensor_slices((files, header_lines))
    if shuffle and max_rows is None:
        sources = sources.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    cycle_length = min(len(files), _SHUFFLE_CYCLE_LENGTH) if shuffle and max_rows is None else 1
    lines = sources.interleave(
        lambda path, skip: tf.data.TextLineDataset(path).skip(tf.cast(skip, tf.int64)),
        cycle_length=cycle_length, num_parallel_calls=tf.data.AUTOTUNE if cycle_length > 1 else None,
        deterministic=True if cycle_length > 1 else None)
    lines = lines.filter(lambda line: tf.strings.length(line) > 0)  # blank lines, as `csv_files` skips them
    if max_rows is not None:
        lines = lines.take(max_rows)
    if shuffle:
        lines = lines.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        lines = lines.repeat()
    batches = lines.batch(batch_size, drop_remainder=drop_remainder)
    return batches.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)
