"""Real frappe-ctr rows as ids (`ssr_keras.data.ids`), read without `ssr_keras.data` so model tests stand alone."""

import csv
import itertools

import numpy as np
import pytest

FRAPPE_FIELDS = ("user", "item", "daytime", "weekday", "isweekend", "homework", "cost", "weather",
                 "country", "city")


@pytest.fixture(scope="session")
def frappe_rows(data_dir):
    """(features, labels, vocab_sizes) for the first 2,000 training rows; id 0 is the OOV bucket."""
    with open(data_dir / "frappe-ctr" / "train.csv", newline="") as f:
        rows = list(itertools.islice(csv.DictReader(f), 2000))
    features, vocab_sizes = {}, {}
    for name in FRAPPE_FIELDS:
        vocab = {v: i + 1 for i, v in enumerate(sorted({r[name] for r in rows}))}
        features[name] = np.array([vocab[r[name]] for r in rows], np.int64)
        vocab_sizes[name] = len(vocab) + 1
    labels = np.array([float(r["label"]) for r in rows], np.float32)
    return features, labels, vocab_sizes
