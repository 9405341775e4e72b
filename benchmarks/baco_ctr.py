"""BACO in a ranking model: SSR-D on frappe-ctr with full user/item tables vs codebooks at 25% of their rows.

The issue-9 protocol: the winning SSR-D recipe (`TrainConfig` defaults, early stopping on validation AUC)
trained with the user and item fields embedded by one row per id (`table`), or by codebook rows shared by
co-clustered users and items (`baco`, `ssr_keras.training.codebooks`), or by the baselines at the same
number of rows (`random-hash`, `frequency-hash`, `louvain`). The codebooks are fitted on the training
split's positive (user, item) rows only; the other eight fields keep their tables. Test AUC and log-loss
per seed; the table gives mean ± std and the AUC difference to `table`.

Every finished run is appended to `benchmarks/results/baco_ctr.json` and skipped on re-run (resumable);
the table goes to `baco_ctr.md`.

`--baco JSON` gives `fit_baco` other settings than its defaults (the paper's gamma 0.1308, single level)
through `TrainConfig.embedding_options`, e.g. `--baco '{"gamma": 4.0, "levels": 5}'`; such runs are
recorded with their `settings` and listed as their own table row (runs without `settings` are the paper's form).

Usage:

    nice -n 10 python benchmarks/baco_ctr.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ssr_keras.analysis.benchmark_records import append_record, read_records  # noqa: E402
from ssr_keras.training import TrainConfig, run_experiment  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = pathlib.Path(os.environ.get("SSR_DATA_DIR", REPO.parent / "shared" / "data"))
RESULTS = REPO / "benchmarks" / "results"
METHODS = ("table", "baco", "random-hash", "frequency-hash", "louvain")


def codebook_rows(model, fields) -> int:
    """Rows of the user and item embedders (codebook rows, or table rows for `table`)."""
    layers = {layer.name: layer for layer in model.submodules if hasattr(layer, "num_codes")}
    if layers:
        return sum(layer.num_codes for layer in layers.values())
    return sum(fields)


def run(method: str, seed: int, args) -> dict:
    config = TrainConfig(layout="frappe", seed=seed, epochs=args.epochs, embedding=method,
                         embedding_budget=args.budget,
                         embedding_options=args.settings if method == "baco" and args.settings else {})
    started = time.perf_counter()
    result = run_experiment(config, str(args.data), verbose=0)
    seconds = time.perf_counter() - started
    sizes = {f.name: f.vocab_size for f in result.vocabularies.field_specs(result.layout)}
    user_item_ids = sizes["user"] + sizes["item"]
    rows = codebook_rows(result.model, (sizes["user"], sizes["item"]))
    metrics = result.metrics
    return {"dataset": "frappe-ctr", "method": method, "seed": seed, "backbone": config.backbone,
            "embedding_budget": args.budget if method != "table" else 1.0,
            "user_item_rows": int(rows), "user_item_ids": int(user_item_ids),
            "row_fraction": rows / user_item_ids,
            "test_auc": metrics["test_auc"], "test_logloss": metrics["test_logloss"],
            "best_val_auc": metrics["best_val_auc"], "epochs_trained": metrics["epochs_trained"],
            "params_embedding": metrics["params_embedding"], "seconds": seconds,
            **({"settings": args.settings} if method == "baco" and args.settings else {})}


def label(record) -> str:
    """The table row of a record: the method, with BACO's settings when not the paper's defaults."""
    settings = record.get("settings")
    if record["method"] != "baco":
        return record["method"]
    if not settings:
        return "baco (paper: gamma 0.1308, 1 level)"
    return "baco (" + ", ".join(f"{key} {value}" for key, value in settings.items()) + ")"


def table(records) -> str:
    lines = ["| method | user+item rows | row % | test AUC (mean ± std) | Δ AUC vs table | test log-loss | seeds |",
             "|---|---|---|---|---|---|---|"]
    by_method = {}
    for record in sorted(records, key=lambda r: METHODS.index(r["method"])):
        by_method.setdefault(label(record), []).append(record)
    tables = by_method.get("table")
    full = statistics.mean(r["test_auc"] for r in tables) if tables else None
    for method, runs in by_method.items():
        if not runs:
            continue
        aucs = [r["test_auc"] for r in runs]
        mean = statistics.mean(aucs)
        std = statistics.stdev(aucs) if len(aucs) > 1 else 0.0
        delta = f"{mean - full:+.4f}" if full is not None else "n/a"
        lines.append(f"| {method} | {runs[0]['user_item_rows']} | {100 * runs[0]['row_fraction']:.1f} | "
                     f"{mean:.4f} ± {std:.4f} | {delta} | "
                     f"{statistics.mean(r['test_logloss'] for r in runs):.4f} | {len(runs)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA / "frappe-ctr"), help="frappe-ctr folder")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--budget", type=float, default=0.25, help="codebook rows as a fraction of user+item ids")
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs, help="most epochs (early stopping)")
    parser.add_argument("--baco", default=None, help="JSON of fit_baco settings (default: the paper's form)")
    parser.add_argument("--output", default=str(RESULTS / "baco_ctr.json"))
    args = parser.parse_args()
    args.settings = json.loads(args.baco) if args.baco else None
    output = pathlib.Path(args.output)
    done = {(label(r), r["seed"]) for r in read_records(output)}
    current = {m: label({"method": m, "settings": args.settings}) for m in args.methods}
    todo = [(m, s) for s in args.seeds for m in args.methods if (current[m], s) not in done]
    print(f"{len(done)} runs already recorded in {output}; {len(todo)} to go.", flush=True)
    for index, (method, seed) in enumerate(todo, 1):
        print(f"[{index}/{len(todo)}] {method} seed {seed} ...", end=" ", flush=True)
        record = run(method, seed, args)
        append_record(output, record)
        print(f"test AUC {record['test_auc']:.4f} ({record['user_item_rows']} rows, "
              f"{record['epochs_trained']} epochs, {record['seconds']:.0f} s)", flush=True)
    text = table(read_records(output))
    output.with_suffix(".md").write_text(text + "\n")
    print(text)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
