"""`create_history_pipeline`: MovieLens ratings -> a blessed GateSID history ranker in TF Serving layout.

    HistoryExampleGen -> HistoryTablesGen -> HistoryTrainer -> Evaluator -> Pusher
         (time split)    (train split only:     (GateSIDRankingModel,   ^-- latest blessed model
                          SIDs, statistics)      export_history_ranker)

The components are in `pipeline/history_components.py`; the Evaluator (TFMA on the served signature,
the ranker pipeline's `eval_config`) and the Pusher (never pushes the same SavedModel twice) are the
ranker pipeline's. The pushed model takes raw requests (`ssr_keras.export.history_ranker`).

Example:

>>> from tfx import v1 as tfx
>>> p = create_history_pipeline(pipeline_name="gatesid", pipeline_root="runs/gatesid",
...                             data_root="../shared/data/movielens-latest-small",
...                             serving_model_dir="runs/gatesid/serving/gatesid",
...                             metadata_path="runs/gatesid/metadata.sqlite")  # doctest: +SKIP
>>> tfx.orchestration.LocalDagRunner().run(p)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping, Sequence

from tfx import v1 as tfx
from tfx.dsl.components.base import executor_spec

from pipeline import pusher
from pipeline.configs import DEFAULT_BEAM_ARGS, MAX_AUC_DROP, MIN_AUC
from pipeline.history_components import HistoryExampleGen, HistoryTablesGen, HistoryTrainer
from pipeline.pipeline import eval_config
from ssr_keras.models.ranking_history import MODES

# The GateSID benchmark's SSR-D backbone (benchmarks/gatesid.py).
HISTORY_BACKBONE_CONFIG = {"num_layers": 2, "num_views": 4, "view_dim": 64}


def create_history_pipeline(*, pipeline_name: str, pipeline_root: str, data_root: str, serving_model_dir: str,
                            metadata_path: str, mode: str = "gatesid", epochs: int = 3, batch_size: int = 512,
                            learning_rate: float = 3e-4, backbone_config: Mapping[str, Any] | None = None,
                            history_length: int = 20, num_levels: int = 4, codebook_size: int = 256,
                            rq_epochs: int = 50, seed: int = 0, min_auc: float = MIN_AUC,
                            max_auc_drop: float = MAX_AUC_DROP, beam_pipeline_args: Sequence[str] = (),
                            enable_cache: bool = True) -> tfx.dsl.Pipeline:
    """Builds the history (GateSID) pipeline on an ml-latest-small folder (`ratings.csv`, `movies.csv`, `tags.csv`).

    Args:
        pipeline_name / pipeline_root / serving_model_dir / metadata_path / min_auc / max_auc_drop /
            beam_pipeline_args / enable_cache: as in `pipeline.pipeline.create_pipeline`.
        data_root: the MovieLens folder.
        mode: `GateSIDRankingModel` mode (`MODES`).
        epochs / batch_size / learning_rate / seed: training; the best eval-AUC epoch is kept.
        backbone_config: SSR-D settings (default `HISTORY_BACKBONE_CONFIG`).
        history_length: N, the liked items a history keeps.
        num_levels / codebook_size / rq_epochs: the RQ-VAE of the semantic IDs.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}. Received: {mode!r}")
    missing = [f for f in ("ratings.csv", "movies.csv") if not os.path.exists(os.path.join(data_root, f))]
    if missing:
        raise ValueError(f"data_root {data_root!r} must be an ml-latest-small folder; it lacks {missing}.")
    example_gen = HistoryExampleGen(data_root=data_root, history_length=history_length)
    tables = HistoryTablesGen(examples=example_gen.outputs["examples"], data_root=data_root, num_levels=num_levels,
                              codebook_size=codebook_size, rq_epochs=rq_epochs, seed=seed)
    trainer = HistoryTrainer(
        examples=example_gen.outputs["examples"], tables=tables.outputs["tables"], mode=mode, epochs=epochs,
        batch_size=batch_size, learning_rate=learning_rate, history_length=history_length, seed=seed,
        backbone_config_json=json.dumps(dict(HISTORY_BACKBONE_CONFIG if backbone_config is None else backbone_config)))
    model_resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("LatestBlessedModelResolver")
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"], model=trainer.outputs["model"],
        baseline_model=model_resolver.outputs["model"], eval_config=eval_config(min_auc, max_auc_drop))
    pusher_component = tfx.components.Pusher(
        model=trainer.outputs["model"], model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving_model_dir)),
        custom_executor_spec=executor_spec.ExecutorClassSpec(pusher.Executor))
    return tfx.dsl.Pipeline(
        pipeline_name=pipeline_name, pipeline_root=pipeline_root,
        components=[example_gen, tables, trainer, model_resolver, evaluator, pusher_component],
        enable_cache=enable_cache,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(metadata_path),
        beam_pipeline_args=list(DEFAULT_BEAM_ARGS) + list(beam_pipeline_args))
