"""The history (GateSID) pipeline's custom components: time-split examples, SID + statistics fit, trainer.

    HistoryExampleGen -> HistoryTablesGen (train split only) -> HistoryTrainer -> Evaluator -> Pusher

* `HistoryExampleGen` turns a MovieLens ml-latest-small folder into the time-split CTR task of
  `ssr_keras.data.movielens_history` (train: events before the 80 % time quantile, eval: up to the
  90 % one) as *raw request* `tf.Example`s: `user`, `item`, `history` (raw ids, most recent last),
  `timestamp` (int64) and `label` (float). They are exactly what a client sends the served model
  (`ssr_keras.export.history_ranker`), so the Evaluator scores what serving will answer.
* `HistoryTablesGen` reads the *train split only*: catalog and user ids, the training window's event
  logs (maturity and user statistics), content vectors (tags before the split only) and the RQ-VAE
  semantic IDs. Nothing after the split time can reach them: its only data input is the train split
  (plus movie titles / genres, which are content, and tags filtered by time).
* `HistoryTrainer` parses the raw examples with the very parser the export embeds
  (`HistoryRequestParser`), so the features it trains on are the served ones, trains
  `GateSIDRankingModel` (best epoch on eval AUC), and exports it with `export_history_ranker` to the
  Model artifact's `Format-Serving` folder (where Evaluator and Pusher look).

A custom trainer component (not `tfx.components.Trainer`) because the model needs the tables
artifact as an input, which the standard Trainer's spec has no slot for.
"""


import glob
import io
import json
import os
from typing import Dict, Iterator, List, Mapping, Tuple

import numpy as np
import tensorflow as tf
import tf_keras as keras
from sklearn.metrics import roc_auc_score
from tfx import v1 as tfx
from tfx.types import artifact, artifact_utils
from tfx.utils import path_utils

from ssr_keras.data.item_content import read_movielens_content
from ssr_keras.data.movielens_history import (
    MATURITY_FEATURES,
    USER_STATS_FEATURES,
    EventLog,
    event_log,
    read_movielens_history,
    training_catalog,
    training_users,
)
from ssr_keras.embeddings.semantic_id import ResidualQuantizer, codebook_perplexity, collision_stats
from ssr_keras.export.history_ranker import (
    ITEM_FEATURE,
    TIMESTAMP_FEATURE,
    USER_FEATURE,
    HistoryRequestParser,
    export_history_ranker,
    history_example,
)
from ssr_keras.models.ranking_history import GateSIDRankingModel

LABEL_FEATURE = "label"
SPLITS = ("train", "eval")
EXAMPLES_FILE = "data_tfrecord-00000-of-00001.gz"
TABLES_FILE = "history_tables.npz"
TABLES_STATS_FILE = "sid_stats.json"


class HistoryTables(artifact.Artifact):
    """Artifact: the training window's catalog / user ids, event logs and semantic-ID table (`TABLES_FILE`)."""

    TYPE_NAME = "SsrHistoryTables"


# --- ExampleGen ------------------------------------------------------------------------------------------

def history_examples(data_root: str, history_length: int) -> Tuple[Dict[str, List[tf.train.Example]], int]:
    """The train and eval splits of the time-split task as raw requests, and the split (valid) time."""
    data = read_movielens_history(data_root, history_length=history_length)
    examples = {}
    for name, split in (("train", data.splits["train"]), ("eval", data.splits["valid"])):
        keys = data.catalog_keys
        examples[name] = []
        for item, history, t, label in zip(split["item"], split["history"],
                                                 split["timestamp"], split["label"]):
            example = history_example(item=int(keys[item]), timestamp=int(t), user=None,
                                      history=[int(keys[h]) for h in history[history >= 0][::-1]])
            example.features.feature[LABEL_FEATURE].float_list.value.append(float(label))
            examples[name].append(example)
    # Users by raw id: the task's user ids are training-window ids, the request carries the raw id.
    raw_users = _raw_users(data_root, data)
    for name in SPLITS:
        for example, user in zip(examples[name], raw_users[name]):
            example.features.feature[USER_FEATURE].int64_list.value.append(int(user))
    return examples, data.valid_time


def _raw_users(data_root: str, data) -> Dict[str, np.ndarray]:
    """Raw user ids of every event of each split, in the task's row order (time, stable)."""
    ratings = np.genfromtxt(os.path.join(data_root, "ratings.csv"), delimiter=",", skip_header=1, dtype=np.int64,
                            usecols=(0, 3))
    users, times = ratings[:, 0], ratings[:, 1]
    order = np.argsort(times, kind="stable")
    users, times = users[order], times[order]
    return {"train": users[times < data.valid_time],
            "eval": users[(times >= data.valid_time) & (times < data.test_time)]}


def write_examples(examples: Mapping[str, List[tf.train.Example]], uri: str) -> None:
    for name, split in examples.items():
        folder = os.path.join(uri, f"Split-{name}")
        tf.io.gfile.makedirs(folder)
        with tf.io.TFRecordWriter(os.path.join(folder, EXAMPLES_FILE), options="GZIP") as writer:
            for example in split:
                writer.write(example.SerializeToString(deterministic=True))


def read_examples(uri: str, split: str) -> Iterator[tf.train.Example]:
    for path in sorted(glob.glob(os.path.join(uri, f"Split-{split}", "*.gz"))):
        for record in tf.data.TFRecordDataset(path, compression_type="GZIP").as_numpy_iterator():
            yield tf.train.Example.FromString(record)


@tfx.dsl.components.component
def HistoryExampleGen(examples: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.Examples],  # noqa: N802
                      data_root: tfx.dsl.components.Parameter[str],
                      history_length: tfx.dsl.components.Parameter[int] = 20) -> None:
    """ratings.csv + movies.csv -> time-split raw request examples (`train`, `eval`)."""
    split_examples, split_time = history_examples(data_root, history_length)
    write_examples(split_examples, examples.uri)
    examples.split_names = artifact_utils.encode_split_names(list(SPLITS))
    examples.set_int_custom_property("split_time", split_time)


# --- Tables (SIDs and statistics) from the train split only ------------------------------------------

def _feature(example: tf.train.Example, name: str) -> List[int]:
    return list(example.features.feature[name].int64_list.value)


def fit_history_tables(train_examples: List[tf.train.Example], data_root: str, *, num_levels: int = 4,
                       codebook_size: int = 256, content_dim: int = 64, rq_epochs: int = 50,
                       min_item_count: int = 2, seed: int = 0) -> Tuple[Dict[str, np.ndarray], Dict]:
    """Catalog / user ids, event logs and semantic IDs from the *training* examples only.

    Returns:
        the arrays of `TABLES_FILE` and the RQ-VAE figures (perplexity per level, collisions).
    """
    users = np.array([_feature(e, USER_FEATURE)[0] for e in train_examples], np.int64)
    items = np.array([_feature(e, ITEM_FEATURE)[0] for e in train_examples], np.int64)
    times = np.array([_feature(e, TIMESTAMP_FEATURE)[0] for e in train_examples], np.int64)
    liked = np.array([e.features.feature[LABEL_FEATURE].float_list.value[0] > 0.5 for e in train_examples])
    # Tags at or after the last training event are future interactions: left out.
    content = read_movielens_content(data_root, dim=content_dim, max_timestamp=int(times.max()) + 1, seed=seed)
    catalog_keys, num_known = training_catalog(items, content.item_keys, min_item_count)
    vectors = content.lookup(catalog_keys[1:])
    keras.utils.set_random_seed(seed)
    rq = ResidualQuantizer(input_dim=vectors.shape[1], num_levels=num_levels, codebook_size=codebook_size,
                           codebook_dim=content_dim, encoder_units=[256, 128])
    rq.initialize_codebooks(vectors, seed=seed)
    rq.compile(optimizer=keras.optimizers.Adam(1e-3))
    rq.fit(vectors, batch_size=256, epochs=rq_epochs, shuffle=True, verbose=0)
    codes = rq.encode(vectors)
    item_log, user_log = event_log(items, times, liked), event_log(users, times, liked)
    tables = {"catalog_keys": catalog_keys, "num_known_items": np.int64(num_known),
              "user_keys": training_users(users),
              "sid_table": np.concatenate([np.full([1, num_levels], -1, np.int64), codes]),
              "codebook_sizes": np.full(num_levels, codebook_size, np.int64),
              "item_keys": item_log.keys, "item_row_splits": item_log.row_splits, "item_times": item_log.times,
              "item_liked": item_log.liked, "user_keys_log": user_log.keys, "user_row_splits": user_log.row_splits,
              "user_times": user_log.times, "user_liked": user_log.liked}
    stats = {"perplexity_per_level": codebook_perplexity(codes, codebook_size).round(2).tolist(),
             "collisions": collision_stats(codes), "num_known_items": num_known,
             "num_catalog_ids": int(len(catalog_keys)), "last_training_time": int(times.max())}
    return tables, stats


def load_tables(uri: str) -> Dict[str, np.ndarray]:
    with tf.io.gfile.GFile(os.path.join(uri, TABLES_FILE), "rb") as f:
        saved = np.load(io.BytesIO(f.read()), allow_pickle=False)
    return {key: saved[key] for key in saved.files}


def event_logs(tables: Mapping[str, np.ndarray]) -> Tuple[EventLog, EventLog]:
    return (EventLog(tables["item_keys"], tables["item_row_splits"], tables["item_times"], tables["item_liked"]),
            EventLog(tables["user_keys_log"], tables["user_row_splits"], tables["user_times"], tables["user_liked"]))


@tfx.dsl.components.component
def HistoryTablesGen(examples: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Examples],  # noqa: N802
                     tables: tfx.dsl.components.OutputArtifact[HistoryTables],
                     data_root: tfx.dsl.components.Parameter[str],
                     num_levels: tfx.dsl.components.Parameter[int] = 4,
                     codebook_size: tfx.dsl.components.Parameter[int] = 256,
                     rq_epochs: tfx.dsl.components.Parameter[int] = 50,
                     seed: tfx.dsl.components.Parameter[int] = 0) -> None:
    """Semantic IDs and maturity statistics from the train split of `examples` (and movie content)."""
    arrays, stats = fit_history_tables(list(read_examples(examples.uri, "train")), data_root, num_levels=num_levels,
                                       codebook_size=codebook_size, rq_epochs=rq_epochs, seed=seed)
    tf.io.gfile.makedirs(tables.uri)
    buffer = io.BytesIO()  # zip needs a seekable file; GFile is not one
    np.savez_compressed(buffer, **arrays)
    with tf.io.gfile.GFile(os.path.join(tables.uri, TABLES_FILE), "wb") as f:
        f.write(buffer.getvalue())
    with tf.io.gfile.GFile(os.path.join(tables.uri, TABLES_STATS_FILE), "w") as f:
        json.dump(stats, f, indent=1)


# --- Trainer ---------------------------------------------------------------------------------------------

def _dataset(uri: str, split: str, parser: HistoryRequestParser, batch_size: int, shuffle_seed: int | None
             ) -> tf.data.Dataset:
    files = sorted(glob.glob(os.path.join(uri, f"Split-{split}", "*.gz")))
    ds = tf.data.TFRecordDataset(files, compression_type="GZIP")
    if shuffle_seed is not None:
        ds = ds.shuffle(100_000, seed=shuffle_seed, reshuffle_each_iteration=True)
    labels = {LABEL_FEATURE: tf.io.FixedLenFeature([], tf.float32)}
    return ds.batch(batch_size).map(lambda s: (parser(s), tf.io.parse_example(s, labels)[LABEL_FEATURE]))


def train_history_model(examples_uri: str, tables: Mapping[str, np.ndarray], export_dir: str, *,
                        mode: str = "gatesid", epochs: int = 3, batch_size: int = 512, learning_rate: float = 3e-4,
                        backbone_config: Mapping | None = None, history_length: int = 20, seed: int = 0) -> Dict:
    """Trains `GateSIDRankingModel` (SSR-D backbone, best eval-AUC epoch) and exports it; returns the eval curve."""
    item_log, user_log = event_logs(tables)
    parser = HistoryRequestParser(tables["catalog_keys"], tables["user_keys"], item_log, user_log, history_length)
    keras.utils.set_random_seed(seed)
    model = GateSIDRankingModel(num_users=None, num_known_items=int(tables["num_known_items"]),
                                sid_table=tables["sid_table"], codebook_sizes=tables["codebook_sizes"].tolist(),
                                mode=mode, num_maturity_features=len(MATURITY_FEATURES),
                                num_user_stats=len(USER_STATS_FEATURES), backbone="ssr-d",
                                backbone_config=dict(backbone_config or {}))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    train = _dataset(examples_uri, "train", parser, batch_size, seed)
    evaluation = _dataset(examples_uri, "eval", parser, 4096, None)
    labels = np.concatenate([y.numpy() for _, y in evaluation])
    best, best_weights, curve = -1.0, None, []
    for _ in range(epochs):
        model.fit(train, epochs=1, verbose=0)
        scores = np.concatenate([model(x, training=False).numpy().ravel() for x, _ in evaluation])
        curve.append(float(roc_auc_score(labels, scores)) if 0 < labels.sum() < len(labels) else float("nan"))
        if best_weights is None or curve[-1] > best:
            best, best_weights = curve[-1], model.get_weights()
    model.set_weights(best_weights)
    export_history_ranker(model, export_dir, catalog_keys=tables["catalog_keys"], user_keys=tables["user_keys"],
                          item_log=item_log, user_log=user_log, history_length=history_length)
    return {"eval_auc_per_epoch": curve, "mode": mode}


@tfx.dsl.components.component
def HistoryTrainer(examples: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Examples],  # noqa: N802
                   tables: tfx.dsl.components.InputArtifact[HistoryTables],
                   model: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.Model],
                   mode: tfx.dsl.components.Parameter[str] = "gatesid",
                   epochs: tfx.dsl.components.Parameter[int] = 3,
                   batch_size: tfx.dsl.components.Parameter[int] = 512,
                   learning_rate: tfx.dsl.components.Parameter[float] = 3e-4,
                   backbone_config_json: tfx.dsl.components.Parameter[str] = "{}",
                   history_length: tfx.dsl.components.Parameter[int] = 20,
                   seed: tfx.dsl.components.Parameter[int] = 0) -> None:
    """`GateSIDRankingModel` on the examples and tables, exported to `<model>/Format-Serving`."""
    export_dir = path_utils.serving_model_dir(model.uri)
    summary = train_history_model(examples.uri, load_tables(tables.uri), export_dir, mode=mode, epochs=epochs,
                                  batch_size=batch_size, learning_rate=learning_rate,
                                  backbone_config=json.loads(backbone_config_json), history_length=history_length,
                                  seed=seed)
    with tf.io.gfile.GFile(os.path.join(model.uri, "training_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
