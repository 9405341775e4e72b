"""Scaling benchmark: test AUC against non-embedding parameters, dense backbones vs SSR-D, per data set.

`--dataset frappe-ctr` (the first study; 100k training rows, 8 epochs): families

* `dnn-wider`: 3 hidden layers of 64 ... 512 units;   `dnn-deeper`: 1 ... 8 hidden layers of 256;
* `ssr-views`: 2 layers of 1 ... 16 views of 32;   `ssr-wider`: 2 layers of 4 views of 8 ... 128;
* `ssr-deeper`: 1 ... 8 layers of 4 views of 32;   `ssr-deeper-residual`: the same with a residual
  between blocks (`block_residual=True`; alone: `--families ssr-deeper-residual --output FILE`).

  SSR here is SSR-D without the multiplicative gate (`use_gate=False`, the paper's pseudocode), the
  stronger SSR-D variant on frappe in `quality.py`.

`--dataset movielens-1m` (issue 12; the full 1.6M-row training split, 8 fields of 16 = 128 inputs): the
official gated SSR-D, each family over more than 100x in non-embedding parameters except the deeper
ones (depth alone spans 63x for SSR-D at 64 blocks), up to several million:

* `dnn-wider`: 3 layers of 32 ... 1024 (6.8k - 2.2M);   `dnn-deeper`: 1 ... 64 layers of 256 (34k - 4.2M);
* `dcnv2`: 2 cross layers of rank 4 ... full with a 3-layer deep tower of 16 ... 1024;
* `ssr-views`: 2 layers of 1 ... 64 views of 32 (13k - 9.1M);   `ssr-wider`: 2 layers of 8 views of
  4 ... 256 (11k - 10M);   `ssr-deeper`: 1 ... 64 layers of 8 views of 16 (36k - 2.3M).

A configuration shared by several families is trained once per seed. The recipe is `TrainConfig`'s
defaults (the frappe-chosen recipe; `quality_movielens_1m.py` chooses one per model on validation).
Runs go smallest first, seed by seed, so a partial study already has whole curves.

Resumable: every finished run is appended to the JSON (`benchmarks/results/scaling.json` or
`scaling-movielens-1m.json`) and skipped on re-run; progress lines say which run of how many is going.
At the end (and with `--report-only`) the table (`.md`) and the plot (`.png`, AUC vs parameters, log x,
one line per family) are written from all recorded runs.

Usage:

    python benchmarks/scaling.py --dataset frappe-ctr --seeds 0 1 --epochs 8 --max-train-rows 100000
    nice -n 10 python benchmarks/scaling.py --dataset movielens-1m --seeds 0 1
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

from ssr_keras.analysis.benchmark_records import (  # noqa: E402
    append_record,
    benchmark_record,
    read_records,
    summary_table,
)
from ssr_keras.training import TrainConfig, run_experiment  # noqa: E402

FRAPPE_FAMILIES = {
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
MOVIELENS_1M_FAMILIES = {
    "dnn-wider": [("dnn", {"hidden_units": [w] * 3}) for w in (32, 64, 128, 256, 512, 1024)],
    "dnn-deeper": [("dnn", {"hidden_units": [256] * d}) for d in (1, 2, 4, 8, 16, 32, 64)],
    "dcnv2": [("dcnv2", {"num_cross_layers": 2, "projection_dim": r, "deep_units": [w] * 3})
              for r, w in ((4, 16), (8, 32), (16, 64), (32, 128), (64, 256), (None, 512), (None, 1024))],
    "ssr-views": [("ssr-d", {"num_layers": 2, "num_views": v, "view_dim": 32}) for v in (1, 2, 4, 8, 16, 32, 64)],
    "ssr-wider": [("ssr-d", {"num_layers": 2, "num_views": 8, "view_dim": d}) for d in (4, 8, 16, 32, 64, 128, 256)],
    "ssr-deeper": [("ssr-d", {"num_layers": n, "num_views": 8, "view_dim": 16}) for n in (1, 2, 4, 8, 16, 32, 64)],
}
# data set -> (layout, families, default max epochs, default max train rows, default max valid rows, output)
STUDIES = {
    "frappe-ctr": ("frappe", FRAPPE_FAMILIES, 8, 100_000, 20_000, "scaling.json"),
    "movielens-1m": ("movielens-1m", MOVIELENS_1M_FAMILIES, 4, None, None, "scaling-movielens-1m.json"),
}


def plot(records, families, title: str, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for family in families:
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
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_key(family: str, model: str, backbone_config: dict, seed: int) -> tuple:
    return family, model, json.dumps(backbone_config, sort_keys=True), seed


def record_key(record: dict) -> tuple:
    return run_key(record["family"], record["config"]["backbone"], record["config"]["backbone_config"],
                   record["seed"])


def report(records, families, dataset: str, args, output: str) -> None:
    for r in records:
        r["size"] = f"{r['family']} {r['params_non_embedding']:,}"
    order = {name: i for i, name in enumerate(families)}
    records = sorted(records, key=lambda r: (order.get(r["family"], len(order)), r["params_non_embedding"]))
    table = summary_table(records, group_by="size")
    for r in records:
        del r["size"]
    print(table)
    stem = pathlib.Path(output).with_suffix("")
    plot(records, families, f"{dataset}: scaling the dense part", f"{stem}.png")
    pathlib.Path(f"{stem}.md").write_text(
        f"{table}\n\nRecipe: {json.dumps(RECIPE)}, max epochs {args.epochs}, seeds {args.seeds}, "
        f"max train rows {args.max_train_rows or 'all'}, max valid rows {args.max_valid_rows or 'all'}.\n",
        encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=list(STUDIES), default="frappe-ctr", help="which study to run")
    parser.add_argument("--data", default=None, help="the data folder (default: ../shared/data/<dataset>)")
    parser.add_argument("--families", nargs="+", default=None, help="families to run (default: all of the study)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--epochs", type=int, default=None, help="maximum epochs (early stopping ends sooner)")
    parser.add_argument("--max-train-rows", type=int, default=None, help="first N training rows only")
    parser.add_argument("--max-valid-rows", type=int, default=None, help="first N validation rows only")
    parser.add_argument("--output", default=None, help="records JSON (default: benchmarks/results/<study>.json)")
    parser.add_argument("--report-only", action="store_true", help="write the table and plot of recorded runs")
    args = parser.parse_args()
    layout, families, epochs, max_train, max_valid, output = STUDIES[args.dataset]
    unknown = sorted(set(args.families or ()) - set(families))
    if unknown:
        parser.error(f"--families: {unknown} are not families of {args.dataset}; expected some of {list(families)}")
    families = {name: families[name] for name in (args.families or families)}
    args.epochs = args.epochs or epochs
    args.max_train_rows = args.max_train_rows or max_train
    args.max_valid_rows = args.max_valid_rows or max_valid
    data = args.data or str(REPO.parent / "shared" / "data" / args.dataset)
    output = args.output or str(RESULTS / output)

    records = read_records(output)
    done = {record_key(r): r for r in records}
    todo = [(family, model, backbone_config, seed) for seed in args.seeds
            for index in range(max(len(sizes) for sizes in families.values()))
            for family, sizes in families.items() if index < len(sizes)
            for model, backbone_config in [sizes[index]]]
    todo = [run for run in todo if run_key(*run) not in done]
    print(f"{args.dataset}: {len(records)} runs recorded in {output}, {len(todo)} to go.", flush=True)
    trained = {}  # a configuration shared by families is trained once per seed
    for number, (family, model, backbone_config, seed) in enumerate([] if args.report_only else todo, 1):
        shared = (model, json.dumps(backbone_config, sort_keys=True), seed)
        twin = next((r for r in read_records(output) if record_key(r)[1:] == shared), None)
        if twin is None and shared not in trained:
            config = TrainConfig(layout=layout, backbone=model, backbone_config=backbone_config, seed=seed,
                                 epochs=args.epochs, max_train_rows=args.max_train_rows,
                                 max_valid_rows=args.max_valid_rows)
            print(f"[{number}/{len(todo)}] {family} {json.dumps(backbone_config)} seed {seed} ...", flush=True)
            start = time.perf_counter()
            result = run_experiment(config, data, verbose=2)  # one line per epoch
            trained[shared] = (result.metrics, round(time.perf_counter() - start, 1))
        metrics, seconds = trained.get(shared) or (twin, twin["wall_seconds"])
        record = benchmark_record(metrics, family=family, wall_seconds=seconds, epochs=metrics["epochs_trained"])
        append_record(output, record)
        print(f"  {family:10s} {record['params_non_embedding']:>10,} params  test AUC {record['test_auc']:.4f}  "
              f"({record['epochs_trained']} epochs, {seconds} s)", flush=True)

    report(read_records(output), families, args.dataset, args, output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
