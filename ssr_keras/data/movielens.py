"""MovieLens ml-latest-small -> flat CSV splits in the `movielens` layout.

Example:

>>> from ssr_keras.data.movielens import prepare_movielens
>>> sizes = prepare_movielens("ml-latest-small", "data/movielens", split="time")  # doctest: +SKIP
>>> sizes  # doctest: +SKIP
{'train': 80668, 'valid': 10084, 'test': 10084}
"""

from __future__ import annotations

import csv
import os
import re
from typing import Dict, List, Tuple

import numpy as np
import tensorflow as tf

from ssr_keras.data.csv_files import PathLike
from ssr_keras.data.layouts import MOVIELENS

_YEAR_IN_TITLE = re.compile(r"\((\d{4})(?:\s*[-\u2013]\s*\d{0,4})?\)\s*$")  # "(1995)", "(2006-2007)"
_NO_GENRES = "(no genres listed)"
_SPLITS = ("train", "valid", "test")


def _read_csv(path: str) -> List[Dict[str, str]]:
    with tf.io.gfile.GFile(path, "r") as f:
        return list(csv.DictReader(f))


def _title_year(title: str) -> str:
    match = _YEAR_IN_TITLE.search(title)
    return match.group(1) if match else ""


def _read_movies(path: str) -> Dict[str, Tuple[str, str]]:
    """movieId -> (genres "A|B" or "", year or "")."""
    movies = {}
    for row in _read_csv(path):
        genres = row["genres"].strip()
        movies[row["movieId"]] = ("" if genres == _NO_GENRES else genres, _title_year(row["title"]))
    return movies


def _split_indices(timestamps: np.ndarray, split: str, seed: int) -> List[np.ndarray]:
    n = len(timestamps)
    if split == "time":
        # Global 80 % / 90 % timestamp quantiles as cut points; a timestamp equal to a cut goes to the
        # later split, so every train rating strictly precedes every valid one, and valid precedes test.
        order = np.argsort(timestamps, kind="stable")
        ordered = timestamps[order]
        cut_valid, cut_test = ordered[int(0.8 * n)], ordered[int(0.9 * n)]
        return [order[ordered < cut_valid], order[(ordered >= cut_valid) & (ordered < cut_test)],
                order[ordered >= cut_test]]
    if split == "row":
        order = np.random.default_rng(seed).permutation(n)
        return [order[:int(0.8 * n)], order[int(0.8 * n):int(0.9 * n)], order[int(0.9 * n):]]
    raise ValueError(f"split must be 'time' or 'row', received {split!r}.")


def prepare_movielens(src_dir: PathLike, dst_dir: PathLike, split: str = "time",
                      seed: int = 2026) -> Dict[str, int]:
    """Joins ratings with movie metadata and writes `train.csv`, `valid.csv`, `test.csv`.

    Each output row is `rating,user,movie,genres,year,timestamp` (the `movielens` layout's columns,
    with a header): `genres` is the movie's "A|B|C" list ("(no genres listed)" becomes blank) and
    `year` comes from the title's "(1995)" suffix (blank when the title has none). The layout turns
    `rating >= 4` into the positive label.

    Splits (80 % / 10 % / 10 %):

    * `split="time"`: by global timestamp quantiles. Ratings before the 80 % quantile train, those up
      to the 90 % quantile validate, the rest test; no rating in a later split precedes one in an
      earlier split (ratings sharing the cut timestamp all go to the later split, so sizes are
      approximately 80/10/10). Rows are written in time order; shuffle when reading.
    * `split="row"`: a uniform random permutation of the ratings seeded by `seed`, cut at exactly
      80 % and 90 %, written in permuted order.

    Args:
        src_dir: the unzipped `ml-latest-small` folder (with `ratings.csv` and `movies.csv`).
        dst_dir: where to write the three files (created if needed).
        split: `"time"` or `"row"`.
        seed: the permutation seed of `split="row"`.

    Returns:
        Row counts `{"train": ..., "valid": ..., "test": ...}`.

    Raises:
        FileNotFoundError: `ratings.csv` or `movies.csv` is missing from `src_dir`.
        ValueError: an unknown `split`, or a rating of a movie absent from `movies.csv`.
    """
    src_dir, dst_dir = os.fspath(src_dir), os.fspath(dst_dir)
    ratings_path, movies_path = os.path.join(src_dir, "ratings.csv"), os.path.join(src_dir, "movies.csv")
    for path in (ratings_path, movies_path):
        if not tf.io.gfile.exists(path):
            raise FileNotFoundError(f"{path} not found: expected the unzipped ml-latest-small folder.")
    if split not in ("time", "row"):
        raise ValueError(f"split must be 'time' or 'row', received {split!r}.")
    movies = _read_movies(movies_path)
    ratings = _read_csv(ratings_path)
    rows = []
    for line, rating in enumerate(ratings, start=2):
        if rating["movieId"] not in movies:
            raise ValueError(f"{ratings_path}, line {line}: movieId {rating['movieId']!r} is not in {movies_path}.")
        genres, year = movies[rating["movieId"]]
        rows.append((rating["rating"], rating["userId"], rating["movieId"], genres, year, rating["timestamp"]))
    timestamps = np.array([int(row[-1]) for row in rows], dtype=np.int64)
    tf.io.gfile.makedirs(dst_dir)
    sizes = {}
    for name, indices in zip(_SPLITS, _split_indices(timestamps, split, seed)):
        with tf.io.gfile.GFile(os.path.join(dst_dir, f"{name}.csv"), "w") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(MOVIELENS.columns)
            writer.writerows(rows[i] for i in indices)
        sizes[name] = len(indices)
    return sizes
