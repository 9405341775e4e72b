"""A small history-ranking task, model and export shared by the export and serving tests of `export_history_ranker`."""

from __future__ import annotations

import dataclasses
from typing import Dict, List

import numpy as np
import tf_keras as keras

from ssr_keras.data.movielens_history import (
    USER_STATS_FEATURES,
    EventLog,
    HistoryCTRData,
    build_history_ctr,
    event_log,
)
from ssr_keras.export.history_ranker import export_history_ranker, history_example
from ssr_keras.models.ranking_history import GateSIDRankingModel

DAY = 86400
HISTORY_LENGTH = 3
CATALOG = list(range(100, 130))  # raw movie ids; 125..129 are never rated (content-only items)


@dataclasses.dataclass
class HistoryCase:
    data: HistoryCTRData
    events: Dict[str, np.ndarray]
    item_log: EventLog
    user_log: EventLog
    model: GateSIDRankingModel


def build_case(seed: int = 0) -> HistoryCase:
    rng = np.random.default_rng(seed)
    n = 400
    events = {"user": rng.integers(1, 15, n), "item": rng.integers(100, 125, n),
              "rating": rng.integers(1, 6, n).astype(float), "timestamp": np.sort(rng.integers(0, 200 * DAY, n))}
    data = build_history_ctr(events, CATALOG, history_length=HISTORY_LENGTH, min_item_count=2)
    train = events["timestamp"] < data.valid_time
    liked = events["rating"] >= 4
    item_log = event_log(events["item"][train], events["timestamp"][train], liked[train])
    user_log = event_log(events["user"][train], events["timestamp"][train], liked[train])
    sid_table = np.concatenate([[[-1, -1]], rng.integers(0, 4, (len(data.catalog_keys) - 1, 2))])
    keras.utils.set_random_seed(seed)
    model = GateSIDRankingModel(num_users=data.num_users, num_known_items=data.num_known_items,
                                sid_table=sid_table, codebook_sizes=4, num_user_stats=len(USER_STATS_FEATURES),
                                backbone="dnn", backbone_config={"hidden_units": [8]}, sid_level_dim=4)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    split = data.splits["train"]
    model.fit({k: split[k] for k in ("user", "item", "history", "maturity", "user_stats")}, split["label"],
              batch_size=64, epochs=1, verbose=0)
    return HistoryCase(data, events, item_log, user_log, model)


def export_case(case: HistoryCase, export_dir: str) -> str:
    return export_history_ranker(case.model, export_dir, catalog_keys=case.data.catalog_keys,
                                 user_keys=case.data.user_keys, item_log=case.item_log, user_log=case.user_log,
                                 history_length=HISTORY_LENGTH)


def training_requests(case: HistoryCase) -> List[bytes]:
    """The training split's events as raw requests (raw ids, history most recent last)."""
    split, keys = case.data.splits["train"], case.data.catalog_keys
    return [history_example(item=int(keys[item]), timestamp=int(t), user=int(case.data.user_keys[user]),
                            history=[int(keys[h]) for h in history[history >= 0][::-1]]).SerializeToString()
            for user, item, history, t in zip(split["user"], split["item"], split["history"], split["timestamp"])]
