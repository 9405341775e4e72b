"""Quality on MovieLens-1M: DNN, DCNv2, SSR-S and SSR-D at equal non-embedding parameters, recipes chosen on validation.

The models are `quality.py`'s (sized on frappe; on MovieLens-1M's 8 fields x 16 = 128 inputs they have
423k - 454k non-embedding parameters). Two stages, both recorded in
`benchmarks/results/quality-movielens-1m.json`:

1. `search`: for each model, every recipe of `RECIPES` (learning rate x embedding L2) trained with seed 0
   on the first `--search-train-rows` training rows, early-stopped on the validation split. Only the
   validation AUC is recorded and printed: the test split is not scored in this stage, so no test figure
   can steer the choice.
2. `final`: each model's recipe with the best validation AUC, trained on the full training split with
   3 seeds and scored once on test (records as `quality.json`'s, plus `stage` and `recipe`).

Resumable: every finished run is appended and skipped on re-run; the table goes to `.md`.

Usage:

    nice -n 10 python benchmarks/quality_movielens_1m.py
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from quality import MODELS, REPO, RESULTS  # noqa: E402

from ssr_keras.analysis.benchmark_records import (  # noqa: E402
    append_record,
    benchmark_record,
    paired_table,
    read_records,
    summary_table,
)
from ssr_keras.training import TrainConfig, run_experiment  # noqa: E402

SEARCHED = ("dnn", "dcnv2", "ssr-s", "ssr-d")
# name -> TrainConfig overrides; every other setting is TrainConfig's default recipe.
RECIPES = {
    "lr1e-3_l2e-3": {"learning_rate": 1e-3, "embedding_l2": 1e-3},
    "lr1e-3_l2e-5": {"learning_rate": 1e-3, "embedding_l2": 1e-5},
    "lr3e-3_l2e-3": {"learning_rate": 3e-3, "embedding_l2": 1e-3},
    "lr3e-4_l2e-3": {"learning_rate": 3e-4, "embedding_l2": 1e-3},
}
SEARCH_SEED = 0


def train(name: str, recipe: str, seed: int, args, max_train_rows, evaluate_test: bool) -> dict:
    backbone, backbone_config = MODELS[name]
    config = TrainConfig(layout="movielens-1m", backbone=backbone, backbone_config=backbone_config, seed=seed,
                         epochs=args.epochs, max_train_rows=max_train_rows, **RECIPES[recipe])
    start = time.perf_counter()
    metrics = run_experiment(config, args.data, verbose=2).metrics  # one line per epoch: runs take 10-35 min
    seconds = round(time.perf_counter() - start, 1)
    if evaluate_test:
        return benchmark_record(metrics, model=name, stage="final", recipe=recipe, wall_seconds=seconds)
    # The search stage keeps validation figures only (run_experiment scores test too; it is dropped unread).
    keep = ("model", "seed", "params_non_embedding", "flops_per_example", "train_examples_per_sec",
            "epochs_trained", "best_epoch", "best_val_auc", "config")
    return {**{key: metrics[key] for key in keep}, "model": name, "stage": "search", "recipe": recipe,
            "wall_seconds": seconds}


def best_recipe(records, name: str) -> str | None:
    """The recipe with the best validation AUC of `name`'s search, once every recipe has run."""
    searched = {r["recipe"]: r["best_val_auc"] for r in records if r["stage"] == "search" and r["model"] == name}
    if set(searched) != set(RECIPES):
        return None
    return max(searched, key=searched.get)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "movielens-1m"))
    parser.add_argument("--models", nargs="+", default=list(SEARCHED), choices=SEARCHED)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=6, help="maximum epochs (early stopping ends sooner)")
    parser.add_argument("--search-train-rows", type=int, default=400_000, help="training rows of the search")
    parser.add_argument("--output", default=str(RESULTS / "quality-movielens-1m.json"))
    parser.add_argument("--report-only", action="store_true",
                        help="no runs: the tables of the records already in --output (also written to its .md)")
    args = parser.parse_args()
    output = args.output

    def done(stage, name, recipe, seed):
        return any((r["stage"], r["model"], r["recipe"], r["seed"]) == (stage, name, recipe, seed)
                   for r in read_records(output))

    search = [] if args.report_only else [
        (n, recipe) for n in args.models for recipe in RECIPES if not done("search", n, recipe, SEARCH_SEED)]
    print(f"search: {len(search)} runs to go (validation AUC only)", flush=True)
    for index, (name, recipe) in enumerate(search, 1):
        print(f"[search {index}/{len(search)}] {name} {recipe} ...", flush=True)
        record = train(name, recipe, SEARCH_SEED, args, args.search_train_rows, evaluate_test=False)
        append_record(output, record)
        print(f"  -> valid AUC {record['best_val_auc']:.4f} ({record['epochs_trained']} epochs, "
              f"{record['wall_seconds']} s)", flush=True)

    chosen = {name: best_recipe(read_records(output), name) for name in args.models}
    print("chosen on validation:", json.dumps(chosen), flush=True)
    final = [] if args.report_only else [
        (n, chosen[n], s) for s in args.seeds for n in args.models if not done("final", n, chosen[n], s)]
    for index, (name, recipe, seed) in enumerate(final, 1):
        print(f"[final {index}/{len(final)}] {name} {recipe} seed {seed} ...", flush=True)
        record = train(name, recipe, seed, args, None, evaluate_test=True)
        append_record(output, record)
        print(f"  -> test AUC {record['test_auc']:.4f} ({record['epochs_trained']} epochs, {record['wall_seconds']} s)",
              flush=True)

    finals = [r for r in read_records(output) if r["stage"] == "final"]
    searches = [r for r in read_records(output) if r["stage"] == "search"]
    lines = ["| model | recipe | valid AUC (search, seed 0) |", "|---|---|---|"]
    lines += [f"| {r['model']} | {r['recipe']} | {r['best_val_auc']:.4f} |" for r in searches]
    text = "\n".join(lines) + "\n\nChosen: " + json.dumps(chosen) + "\n\n"
    text += summary_table(finals) if finals else "(no final runs yet)"
    if finals:
        text += "\n\nPaired by seed (same data order and initial draws):\n\n" + "\n\n".join(
            paired_table(finals, subject) for subject in ("ssr-d", "ssr-s"))
    print(text)
    pathlib.Path(output).with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
