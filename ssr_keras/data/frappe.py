"""The raw Frappe app-usage log -> the Frappe CTR benchmark splits in the `frappe` layout.

The raw log (Baltrunas et al. 2015, arXiv:1505.03014) only holds positive events: a user used an app in a
context. As in the Frappe_x1 benchmark, every log row becomes one positive and `negatives_per_positive`
negatives that keep the user and the context but swap in an app the user never used anywhere in the log.

Example:

>>> from ssr_keras.data.frappe import build_frappe_ctr
>>> build_frappe_ctr("Mobile_Frappe/frappe/frappe.csv", "data/frappe-ctr")  # doctest: +SKIP
{'train': 202026, 'valid': 57722, 'test': 28861}
"""

from __future__ import annotations

import csv
import math
import os
from typing import Dict, List, Sequence, Set

import numpy as np
import tensorflow as tf

from ssr_keras.data.csv_files import PathLike
from ssr_keras.data.layouts import FRAPPE

# The raw log's columns: the layout's fields plus `cnt` (usage count, not a model input).
_RAW_COLUMNS = ("user", "item", "cnt", "daytime", "weekday", "isweekend", "homework", "cost", "weather",
                "country", "city")
_SPLITS = ("train", "valid", "test")


def _read_log(path: str) -> List[Dict[str, str]]:
    with tf.io.gfile.GFile(path, "r") as f:
        reader = csv.DictReader(f, delimiter="\t")
        missing = [c for c in _RAW_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: expected the tab-separated Frappe log with columns {list(_RAW_COLUMNS)}; "
                             f"missing {missing} in header {reader.fieldnames}.")
        return list(reader)


def _sample_unused(rng: np.random.Generator, items: Sequence[str], used: Set[str], count: int,
                   user: str) -> List[str]:
    if len(items) - len(used) < count:
        raise ValueError(f"User {user!r} used {len(used)} of the {len(items)} apps: fewer than {count} unused apps "
                         "left to sample negatives from.")
    picked: List[str] = []
    # Rejection sampling: users touch a small share of the apps, so a few draws suffice.
    while len(picked) < count:
        item = items[int(rng.integers(len(items)))]
        if item not in used and item not in picked:
            picked.append(item)
    return picked


def build_frappe_ctr(frappe_csv: PathLike, dst_dir: PathLike, seed: int = 2026, negatives_per_positive: int = 2,
                     split_fractions: Sequence[float] = (0.7, 0.2, 0.1)) -> Dict[str, int]:
    """Builds `train.csv`, `valid.csv`, `test.csv` of the Frappe CTR task from the raw log.

    Every log row gives a positive (label 1, `cnt` dropped) and `negatives_per_positive` negatives
    (label 0) with the same user and context and an app drawn uniformly from the apps in the log the
    user never used (distinct within the row). All rows are shuffled and cut 7:2:1 (train ends at
    `floor(0.7 n)`, valid at `floor(0.9 n)`). One `numpy` generator seeded by `seed` drives sampling
    and shuffling, so the output is reproducible.

    Args:
        frappe_csv: the raw tab-separated `frappe.csv` (with its header).
        dst_dir: the output folder (created if needed); files are in the `frappe` layout with a header.
        seed: the random seed.
        negatives_per_positive: negatives sampled per log row.
        split_fractions: train/valid/test fractions, summing to 1.

    Returns:
        Row counts `{"train": ..., "valid": ..., "test": ...}`.
    """
    if len(split_fractions) != 3 or any(f <= 0 for f in split_fractions) or abs(sum(split_fractions) - 1) > 1e-9:
        raise ValueError(f"split_fractions must be 3 positive fractions summing to 1, received {split_fractions}.")
    if negatives_per_positive < 0:
        raise ValueError(f"negatives_per_positive must be >= 0, received {negatives_per_positive}.")
    frappe_csv, dst_dir = os.fspath(frappe_csv), os.fspath(dst_dir)
    log = _read_log(frappe_csv)
    items = sorted({row["item"] for row in log}, key=lambda item: (len(item), item))  # numeric ids in order
    used: Dict[str, Set[str]] = {}
    for row in log:
        used.setdefault(row["user"], set()).add(row["item"])

    rng = np.random.default_rng(seed)
    context_columns = FRAPPE.columns[3:]  # after label, user, item
    rows = []
    for row in log:
        context = [row[c] for c in context_columns]
        rows.append(["1", row["user"], row["item"], *context])
        for item in _sample_unused(rng, items, used[row["user"]], negatives_per_positive, row["user"]):
            rows.append(["0", row["user"], item, *context])
    order = rng.permutation(len(rows))
    # floor(fraction * n), with a tolerance so that 0.7 * 2700 (= 1889.999...) cuts at 1890.
    cuts = [0, *(math.floor(f * len(rows) + 1e-6) for f in np.cumsum(split_fractions)[:2]), len(rows)]

    tf.io.gfile.makedirs(dst_dir)
    sizes = {}
    for name, start, stop in zip(_SPLITS, cuts[:-1], cuts[1:]):
        with tf.io.gfile.GFile(os.path.join(dst_dir, f"{name}.csv"), "w") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(FRAPPE.columns)
            writer.writerows(rows[i] for i in order[start:stop])
        sizes[name] = stop - start
    return sizes
