"""A small exported model for exercising the serving stack without training a real ranker.

Two string features (`user`, `item`) go through `StringLookup` + `Embedding` into a logistic unit:
it has the shape of a real export (example parsing, lookup tables, ids (`ssr_keras.data.ids`), probabilities
[B, 1]) and loads in well under a second, so server tests and demos can export one per version.

Example:

>>> from serving import testing
>>> testing.export_toy_model("/tmp/models/toy/1", seed=1)  # doctest: +SKIP
>>> testing.toy_rows(2, seed=0)  # doctest: +SKIP
[{'user': 'u3', 'item': 'i7'}, {'user': 'u0', 'item': 'i1'}]
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import threading
from typing import Dict, List, Sequence, Tuple

import numpy as np
import tensorflow as tf

from ssr_keras.data import RawExampleParser, VocabularyIds, build_vocabularies
from ssr_keras.data.layouts import get_layout
from ssr_keras.export import export_ranker, layout_example
from ssr_keras.models import RankingModel

TOY_FEATURE_COLUMNS = ("user", "item")
TOY_VOCABULARIES: Dict[str, List[str]] = {
    "user": [f"u{i}" for i in range(10)],
    "item": [f"i{i}" for i in range(20)],
}


class ToyExampleParser(tf.keras.layers.Layer):
    """Serialized `tf.Example`s with `user`/`item` bytes features -> contract-1 int64 ids.

    A missing feature fails parsing with an InvalidArgument naming it, like a real export.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # StringLookup keeps index 0 for out-of-vocabulary strings, so ids are in [0, len(vocab)].
        self.lookups = {name: tf.keras.layers.StringLookup(vocabulary=vocab, name=f"{name}_lookup")
                        for name, vocab in TOY_VOCABULARIES.items()}

    def call(self, serialized: tf.Tensor) -> Dict[str, tf.Tensor]:
        raw = tf.io.parse_example(serialized, {c: tf.io.FixedLenFeature([], tf.string)
                                               for c in TOY_FEATURE_COLUMNS})
        return {name: lookup(raw[name]) for name, lookup in self.lookups.items()}


def build_toy_model(seed: int = 0, embedding_dim: int = 4) -> tf.keras.Model:
    """A functional Keras model: dict of int64 ids [B] -> probabilities [B, 1]."""
    initializer = tf.keras.initializers.RandomNormal(stddev=1.0, seed=seed)
    inputs, embedded = {}, []
    for name, vocab in TOY_VOCABULARIES.items():
        inputs[name] = tf.keras.Input(shape=(), dtype=tf.int64, name=name)
        embedding = tf.keras.layers.Embedding(len(vocab) + 1, embedding_dim, embeddings_initializer=initializer,
                                              name=f"{name}_embedding")
        embedded.append(embedding(inputs[name]))
    hidden = tf.keras.layers.Concatenate()(embedded)
    probabilities = tf.keras.layers.Dense(1, activation="sigmoid", kernel_initializer=initializer,
                                          name="probability")(hidden)
    return tf.keras.Model(inputs, probabilities, name=f"toy_ranker_{seed}")


def export_toy_model(export_dir: str, seed: int = 0) -> str:
    """Exports `build_toy_model(seed)` with `export_serving_model`; different seeds score differently."""
    return export_ranker(build_toy_model(seed), export_dir, ToyExampleParser(), TOY_FEATURE_COLUMNS,
                                warmup_examples=toy_rows(4, seed=seed))


def export_frappe_ranker(data_dir: str, export_dir: str, rows: Sequence[Dict[str, str]]) -> str:
    """Exports an untrained SSR-D `RankingModel` over Frappe's 10 fields (vocabularies from `data_dir`'s
    train.csv), warmed up on `rows`: the real serving shape for benchmarks. Returns a description."""
    layout = get_layout("frappe")
    vocabularies = build_vocabularies(layout, os.path.join(data_dir, "train.csv"))
    model = RankingModel(vocabularies.field_specs(layout), backbone="ssr-d", embedding_dim=16)
    parser = RawExampleParser(layout, VocabularyIds(layout, vocabularies))
    model(parser(tf.constant([layout_example(layout, row).SerializeToString() for row in rows[:2]])))
    export_ranker(model, export_dir, parser, layout.feature_columns, warmup_examples=rows[:4])
    params = int(sum(np.prod(w.shape) for w in model.weights))
    return f"ssr-d RankingModel, frappe 10 fields, embedding_dim 16, default SSR-D backbone, {params} params"


def toy_rows(count: int, seed: int = 0) -> List[Dict[str, str]]:
    """`count` raw rows for the toy model (about one in ten out of vocabulary)."""
    rng = random.Random(seed)
    return [{"user": f"u{rng.randrange(11)}", "item": f"i{rng.randrange(22)}"} for _ in range(count)]


def start_server_process(base_path: str, model_name: str, extra_args: Sequence[str] = ()
                         ) -> Tuple[subprocess.Popen, int]:
    """Starts `ssr-serve` on `base_path` in a subprocess on a free 127.0.0.1 port; returns it and the port.

    Raises:
        RuntimeError: the server exited before serving.
    """
    process, port, _ = start_server(["--model-base-path", base_path, "--model-name", model_name,
                                     "--poll-seconds", "0", *extra_args])
    return process, port


def _drain(process: subprocess.Popen, log: List[str] | None) -> None:
    for line in iter(process.stderr.readline, ""):
        if log is not None:
            log.append(line)


def start_server(args: Sequence[str], log: List[str] | None = None) -> Tuple[subprocess.Popen, int, int]:
    """Starts `ssr-serve ARGS --port 0 --host 127.0.0.1` in a subprocess; returns it, its gRPC port and its
    REST port (0 if off; pass `--rest_api_port` with a free port to turn REST on).

    Args:
        args: command-line arguments.
        log: if given, every line the server writes to stderr is appended to it (from a thread).

    Raises:
        RuntimeError: the server exited before serving, with its last log lines.
    """
    process = subprocess.Popen([sys.executable, "-m", "serving.server_cli", "--port", "0", "--host", "127.0.0.1",
                                *args], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines = log if log is not None else []
    for line in iter(process.stderr.readline, ""):
        lines.append(line)
        match = re.search(r"ssr-serve ready: grpc port (\d+), rest port (\d+)", line)
        if match:
            # Keep draining stderr so the server never blocks on a full pipe.
            threading.Thread(target=_drain, args=(process, log), daemon=True).start()
            return process, int(match.group(1)), int(match.group(2))
    raise RuntimeError(f"ssr-serve exited with {process.wait()} before serving: {''.join(lines[-5:])}")
