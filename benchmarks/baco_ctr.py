"""BACO in a ranking model: SSR-D on frappe-ctr with full user/item tables vs codebooks at 25% of their rows.

The issue-9 protocol: the winning SSR-D recipe (`TrainConfig` defaults, early stopping on validation AUC)
trained with the user and item fields embedded by one row per id (`table`), or by codebook rows shared by
co-clustered users and items (`baco`, `ssr_keras.training.codebooks`), or by the baselines at the same
number of rows (`random-hash`, `frequency-hash`, `louvain`). The codebooks are fitted on the training
split's positive (user, item) rows only; the other eight fields keep their tables. Test AUC and log-loss
per seed; the table gives mean ± std and the AUC difference to `table`.

Every finished run is appended to `benchmarks/results/baco_ctr.json` and skipped on re-run (resumable);
the table goes to `baco_ctr.md`. `--budget` sets the row fraction: runs at several budgets give one table
row per (method, budget) and `baco_ctr.png`, test AUC against the fraction of rows kept.

`--baco JSON` gives `fit_baco` other settings than its defaults (the paper's gamma 0.1308, single level)
through `TrainConfig.embedding_options`, e.g. `--baco '{"gamma": 4.0, "levels": 5}'`; such runs are
recorded with their `settings` and listed as their own table row (runs without `settings` are the paper's form).

Usage:

    nice -n 10 python benchmarks/baco_ctr.py --seeds 0 1 2
    nice -n 10 python benchmarks/baco_ctr.py --methods baco frequency-hash --budget 0.5 --seeds 0 \
        --baco '{"gamma": 4.0, "levels": 5, "head_fraction": 0.5}'
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

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

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


def run_key(record) -> tuple:
    """What a run is: its table row (method and settings), its row budget and its seed."""
    return label(record), record["embedding_budget"], record["seed"]


def by_row(records) -> dict:
    """(label, budget) -> that row's runs, by method, then largest budget first."""
    rows = {}
    for record in sorted(records, key=lambda r: (METHODS.index(r["method"]), -r["embedding_budget"])):
        rows.setdefault(run_key(record)[:2], []).append(record)
    return rows


def table(records) -> str:
    lines = ["| method | user+item rows | row % | test AUC (mean ± std) | Δ AUC vs table | test log-loss | seeds |",
             "|---|---|---|---|---|---|---|"]
    rows = by_row(records)
    tables = [r for r in records if r["method"] == "table"]
    full = statistics.mean(r["test_auc"] for r in tables) if tables else None
    for (method, _), runs in rows.items():
        aucs = [r["test_auc"] for r in runs]
        mean = statistics.mean(aucs)
        std = statistics.stdev(aucs) if len(aucs) > 1 else 0.0
        delta = f"{mean - full:+.4f}" if full is not None else "n/a"
        lines.append(f"| {method} | {runs[0]['user_item_rows']} | {100 * runs[0]['row_fraction']:.1f} | "
                     f"{mean:.4f} ± {std:.4f} | {delta} | "
                     f"{statistics.mean(r['test_logloss'] for r in runs):.4f} | {len(runs)} |")
    return "\n".join(lines)


def plot_auc_by_budget(records, path: pathlib.Path) -> None:
    """Test AUC (mean, min-max bar over seeds) against the fraction of user+item rows, one line per method."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    lines = {}
    for (method, _), runs in by_row(records).items():
        if runs[0]["method"] != "table":
            lines.setdefault(method, []).append((runs[0]["row_fraction"], [r["test_auc"] for r in runs]))
    for method, points in lines.items():
        points.sort()
        xs = [x for x, _ in points]
        means = [statistics.mean(aucs) for _, aucs in points]
        spread = [[m - min(a) for m, (_, a) in zip(means, points)], [max(a) - m for m, (_, a) in zip(means, points)]]
        ax.errorbar(xs, means, yerr=spread, marker="o", capsize=3, label=method)
    tables = [r["test_auc"] for r in records if r["method"] == "table"]
    if tables:
        full = statistics.mean(tables)
        ax.axhline(full, color="black", lw=1, label="table (all rows)")
        ax.axhline(full - 0.002, color="black", lw=1, ls=":", label="table - 0.002")
        low, high = ax.get_ylim()
        ax.set_ylim(low, max(high, full + 0.001))
    ax.set_xlabel("user + item rows kept (fraction of ids)")
    ax.set_ylabel("test AUC")
    ax.set_title("frappe-ctr, SSR-D: codebook rows vs AUC")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
    done = {run_key(r) for r in read_records(output)}
    planned = lambda method, seed: {"method": method, "settings": args.settings, "seed": seed,  # noqa: E731
                                    "embedding_budget": 1.0 if method == "table" else args.budget}
    todo = [(m, s) for s in args.seeds for m in args.methods if run_key(planned(m, s)) not in done]
    print(f"{len(done)} runs already recorded in {output}; {len(todo)} to go.", flush=True)
    for index, (method, seed) in enumerate(todo, 1):
        print(f"[{index}/{len(todo)}] {method} seed {seed} ...", end=" ", flush=True)
        record = run(method, seed, args)
        append_record(output, record)
        print(f"test AUC {record['test_auc']:.4f} ({record['user_item_rows']} rows, "
              f"{record['epochs_trained']} epochs, {record['seconds']:.0f} s)", flush=True)
    records = read_records(output)
    text = table(records)
    output.with_suffix(".md").write_text(text + "\n")
    print(text)
    if len({r["embedding_budget"] for r in records if r["method"] != "table"}) > 1:
        plot_auc_by_budget(records, output.with_suffix(".png"))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
