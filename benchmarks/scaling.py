"""Scaling benchmark on frappe-ctr: test AUC against non-embedding parameters, DNN vs SSR-D.

Families (each a line in the plot; DNN spans 33x, SSR 70x in non-embedding parameters):

* `dnn-wider`: 3 hidden layers of 64 ... 512 units;   `dnn-deeper`: 1 ... 8 hidden layers of 256;
* `ssr-views`: 2 layers of 1 ... 16 views of 32;   `ssr-wider`: 2 layers of 4 views of 8 ... 128;
* `ssr-deeper`: 1 ... 8 layers of 4 views of 32;   `ssr-deeper-residual`: the same with a residual
  between blocks (`block_residual=True`; alone: `--families ssr-deeper-residual --output FILE`).

SSR here is SSR-D without the multiplicative gate (`use_gate=False`, the paper's pseudocode), the
stronger SSR-D variant on frappe in `quality.py`.

A configuration shared by several families is trained once per seed. The recipe (embedding size,
L2, optimiser, early stopping) is the quality benchmark's. Writes `benchmarks/results/scaling.json`
(records as in `quality.json`, plus `family`), `scaling.md` and `scaling.png`.

Usage:

    python benchmarks/scaling.py --seeds 0 1 --epochs 8 --max-train-rows 100000
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

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from quality import RECIPE, REPO, RESULTS  # noqa: E402

from ssr_keras.analysis.benchmark_records import benchmark_record, summary_table, write_records  # noqa: E402
from ssr_keras.training import TrainConfig, run_experiment  # noqa: E402

FAMILIES = {
    "dnn-wider": [("dnn", {"hidden_units": [w] * 3}) for w in (64, 128, 256, 512)],
    "dnn-deeper": [("dnn", {"hidden_units": [256] * d}) for d in (1, 2, 4, 8)],
    "ssr-views": [("ssr-d", {"num_layers": 2, "num_views": v, "view_dim": 32, "use_gate": False})
                  for v in (1, 2, 4, 8, 16)],
    "ssr-wider": [("ssr-d", {"num_layers": 2, "num_views": 4, "view_dim": d, "use_gate": False})
                  for d in (8, 16, 32, 64, 128)],
    "ssr-deeper": [("ssr-d", {"num_layers": n, "num_views": 4, "view_dim": 32, "use_gate": False})
                   for n in (1, 2, 4, 8)],
    "ssr-deeper-residual": [("ssr-d", {"num_layers": n, "num_views": 4, "view_dim": 32, "use_gate": False,
                                       "block_residual": True}) for n in (1, 2, 4, 8)],
}


def plot(records, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for family in FAMILIES:
        points = {}
        for r in records:
            if r["family"] == family:
                points.setdefault(r["params_non_embedding"], []).append(r["test_auc"])
        if not points:
            continue
        sizes = sorted(points)
        means = [statistics.mean(points[s]) for s in sizes]
        stds = [statistics.stdev(points[s]) if len(points[s]) > 1 else 0.0 for s in sizes]
        style = "--o" if family.startswith("dnn") else "-s"
        ax.errorbar(sizes, means, yerr=stds, fmt=style, capsize=3, label=family)
    ax.set_xscale("log")
    ax.set_xlabel("non-embedding parameters")
    ax.set_ylabel("test AUC (mean ± std over seeds)")
    ax.set_title("frappe-ctr: scaling the dense part")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "frappe-ctr"))
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--epochs", type=int, default=8, help="maximum epochs (early stopping ends sooner)")
    parser.add_argument("--max-train-rows", type=int, default=100_000, help="first N training rows only")
    parser.add_argument("--max-valid-rows", type=int, default=20_000, help="first N validation rows only")
    parser.add_argument("--output", default=str(RESULTS / "scaling.json"))
    args = parser.parse_args()

    records, done = [], {}
    for seed in args.seeds:
        for family in args.families:
            for model, backbone_config in FAMILIES[family]:
                key = (model, json.dumps(backbone_config, sort_keys=True), seed)
                if key not in done:
                    config = TrainConfig(layout="frappe", backbone=model, backbone_config=backbone_config,
                                         seed=seed, epochs=args.epochs, max_train_rows=args.max_train_rows,
                                         max_valid_rows=args.max_valid_rows)
                    start = time.perf_counter()
                    metrics = run_experiment(config, args.data, verbose=0).metrics
                    done[key] = (metrics, round(time.perf_counter() - start, 1))
                metrics, seconds = done[key]
                record = benchmark_record(metrics, family=family, wall_seconds=seconds)
                records.append(record)
                write_records(records, args.output)
                print(f"{family:10s} {json.dumps(backbone_config):75s} seed {seed}: "
                      f"{record['params_non_embedding']:>9,} params  AUC {record['test_auc']:.4f}  "
                      f"({seconds} s)", flush=True)

    for r in records:
        r["size"] = f"{r['family']} {r['params_non_embedding']:,}"
    table = summary_table(records, group_by="size")
    print(table)
    stem = pathlib.Path(args.output).with_suffix("")
    plot(records, f"{stem}.png")
    for r in records:
        del r["size"]
    write_records(records, args.output)
    pathlib.Path(f"{stem}.md").write_text(
        f"{table}\n\nRecipe: {json.dumps(RECIPE)}, max epochs {args.epochs}, seeds {args.seeds}, "
        f"max train rows {args.max_train_rows}, max valid rows {args.max_valid_rows}.\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
