"""A split parsed once and held in memory: each epoch is a full reshuffle of row indices, gathered in batches.

`make_dataset` streams the CSV text and parses it again every epoch, and shuffles within a buffer of lines.
For splits that fit in memory that parse is most of a small model's step time (MovieLens-1M, 200k rows,
on this repo's 2-core machine: a 6.8k-parameter DNN trains at 24-27k examples/s streaming against 77-111k
in memory; SSR-D 4.8k against 6.1-6.3k). `in_memory_batches` reads the parsed ids once into one tensor per
feature (int64 ids take 8 bytes per value: 8 single-valued fields and one 6-wide list are 112 bytes a row)
and serves `[batch]` index gathers, reshuffling every row each epoch.

Example:

>>> features = {"user": tf.constant([1, 2, 3, 4, 5], tf.int64)}
>>> parsed = tf.data.Dataset.from_tensor_slices((features, tf.constant([0., 1., 0., 1., 1.]))).batch(2)
>>> rows, dataset = in_memory_batches(parsed, batch_size=4, shuffle=True, seed=0)
>>> rows, [batch[1].shape[0] for batch in dataset]
(5, [4, 1])
"""

from __future__ import annotations

from typing import Dict, Tuple

import numpy as np
import tensorflow as tf

from ssr_keras.data import csv_files

# Splits with at most this many data rows are held in memory by default (`TrainConfig.in_memory_rows`):
# about 0.5 GB for MovieLens-1M-shaped rows.
DEFAULT_IN_MEMORY_ROWS = 4_000_000
# Lines sampled from each file's start to estimate its rows from its size.
_SAMPLE_LINES = 1000


def estimated_rows(paths: csv_files.Paths) -> int:
    """The data rows of `paths` estimated from their sizes and the mean length of their first lines."""
    total = 0.0
    for path in csv_files.resolve_paths(paths):
        size = tf.io.gfile.stat(path).length
        with tf.io.gfile.GFile(path, "rb") as f:
            sample = [len(line) for line, _ in zip(f, range(_SAMPLE_LINES))]
        total += size / max(1.0, sum(sample) / max(1, len(sample)))
    return int(total)


def in_memory_batches(parsed: tf.data.Dataset, batch_size: int, shuffle: bool, seed: int = 0,
                      repeat: bool = False, drop_remainder: bool = False,
                      max_rows: int | None = None) -> Tuple[int, tf.data.Dataset | None]:
    """Reads `parsed` (`(features, labels)` batches, in file order) once; returns its rows and a dataset over them.

    With `max_rows`, reading stops as soon as the rows exceed it and the result is `(rows so far, None)`:
    the caller streams instead.

    Args:
        parsed: batches of `{field: ids}` and labels, e.g. `make_dataset(..., shuffle=False)`.
        batch_size: rows per batch of the result.
        shuffle: reshuffle all rows every epoch (seeded); False keeps file order.
        seed: the shuffle seed.
        repeat: repeat forever.
        drop_remainder: drop the last partial batch.
    """
    parts, rows = [], 0
    for part in parsed.as_numpy_iterator():
        parts.append(part)
        rows += len(part[1])
        if max_rows is not None and rows > max_rows:
            return rows, None
    if not parts:
        raise ValueError("in_memory_batches: the dataset holds no rows.")
    features: Dict[str, tf.Tensor] = {name: tf.constant(np.concatenate([p[0][name] for p in parts]))
                                      for name in parts[0][0]}
    labels = tf.constant(np.concatenate([p[1] for p in parts]))

    @tf.autograph.experimental.do_not_convert  # plain gathers; skip AutoGraph's trace
    def gather(indices: tf.Tensor):
        return {name: tf.gather(values, indices) for name, values in features.items()}, tf.gather(labels, indices)

    indices = tf.data.Dataset.range(rows)
    if shuffle:
        indices = indices.shuffle(rows, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        indices = indices.repeat()
    batches = indices.batch(batch_size, drop_remainder=drop_remainder)
    return rows, batches.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(2)
