"""BACO benchmark: LightGCN with full embedding tables vs shared codebooks at the same number of rows.

Protocol (the BACO paper's, arXiv 2604.18351, supplement Table 8): LightGCN (2 layers, dim 64, symmetric
normalisation, mean over layers 0..2), BPR with one uniform negative per positive, Adam 1e-3, batch 1024,
early stopping on validation Recall@20 (training items masked); test Recall@k / NDCG@k (k = 10, 20, 50) with
training and validation items masked, `ssr_keras.analysis.retrieval_metrics` conventions.

Methods (`method` in the records): `full` (one row per user and item), `baco` (`fit_baco` at `--budget`,
gamma per data set), and with BACO's number of rows as their budget: `random-hash`, `frequency-hash` (exactly
BACO's rows), `louvain` (networkx Louvain at a fixed resolution per data set, found by `fit_louvain`'s search:
just under BACO's rows).
Codebook rows replace the ego tables of users and items (`CodebookEmbedding`, one unseen row per table, not
counted in `embedding_rows`).

Compute cap: the paper trains up to 1000 epochs (patience 50). On the shared 2-core machine an epoch of
full-graph LightGCN takes 30-50 s, so the recorded runs use `--epochs 15 --eval-every 5` (validation at epochs
5, 10, 15; the best of the three is restored) for every method alike (an epoch cap, not a time cap, so that
the methods get the same training whatever the load; MovieLens-1M: `--epochs 3 --eval-every 3`, ~80 s per
epoch): the numbers are *under-trained* relative to the paper.
`--max-seconds` adds a time cap instead.

BACO's settings per data set are `BACO_SETTINGS` + `GAMMA` (chosen with `--search`, which trains the same way
and scores VALIDATION Recall@20 only, into `baco.search.json`); `--baco JSON` overrides them. A replaced BACO
record (the paper's form) moves to `baco.paper_gamma.json` and stays listed under the table.

Every finished run is appended to `benchmarks/results/baco.json` and skipped on re-run; clustering timings
(Beauty and MovieLens-1M, warm JIT) go to `baco.timing.json`; the table to `baco.md`.

Usage:

    nice -n 10 python benchmarks/baco.py --datasets amazon-beauty --epochs 15 --eval-every 5
    nice -n 10 python benchmarks/baco.py --datasets amazon-beauty movielens-1m --timing-only --scaling
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tf_keras as keras  # noqa: E402

from ssr_keras.analysis.benchmark_records import append_record, read_records  # noqa: E402
from ssr_keras.data.interactions import read_edge_splits, read_movielens_positives  # noqa: E402
from ssr_keras.embeddings.codebook import fit_baco, fit_codebook  # noqa: E402
from ssr_keras.embeddings.codebook.codebook_embedding import CodebookEmbedding  # noqa: E402
from ssr_keras.models.retrieval.bpr_model import EMBEDDING_STDDEV  # noqa: E402
from ssr_keras.models.retrieval.bpr_training import evaluate_retrieval, train_bpr  # noqa: E402
from ssr_keras.models.retrieval.lightgcn import LightGCN  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = pathlib.Path(os.environ.get("SSR_DATA_DIR", REPO.parent / "shared" / "data"))
RESULTS = REPO / "benchmarks" / "results"
METHODS = ("full", "baco", "random-hash", "frequency-hash", "louvain")
KS = (10, 20, 50)
EMBEDDING_DIM = 64
# BACO's resolution and Louvain's resolution giving just under BACO's rows at a 22% budget (fit_louvain search:
# Beauty 167.35 -> 7,555 of 7,582 rows). Beauty's gamma was chosen on validation Recall@20 (`baco.search.json`:
# multilevel, gamma 4.0, 0.1092; the paper's 0.1308 with a single level: 0.0734); MovieLens-1M keeps the
# paper's Beauty value, untuned, single level.
GAMMA = {"amazon-beauty": 4.0, "movielens-1m": 0.1308}
# fit_baco's other arguments per data set, chosen on validation (`baco.search.json`); empty: the paper's form.
BACO_SETTINGS = {"amazon-beauty": {"levels": 5}, "movielens-1m": {}}
LOUVAIN_RESOLUTION = {"amazon-beauty": 167.35, "movielens-1m": None}
# The paper's supplement Table 8 (Beauty, %): R@10, N@10, R@50, N@50.
PAPER_BEAUTY = {"full": (7.619, 4.814, 16.343, 6.998), "baco": (6.308, 3.733, 14.036, 5.643),
                "SCC (best baseline)": (5.920, 3.640, 13.072, 5.456)}


def load(dataset: str):
    if dataset == "amazon-beauty":
        return read_edge_splits(DATA / "amazon-beauty")
    if dataset == "movielens-1m":
        return read_movielens_positives(DATA / "movielens-1m" / "positives.csv.gz", split="random", seed=0)[0]
    raise SystemExit(f"unknown dataset {dataset!r}")


def cluster_timing(datasets, path: pathlib.Path) -> None:
    """Warm-JIT seconds of fit_baco at a 22% budget and per full sweep, on every data set."""
    done = {r["dataset"] for r in read_records(path)}
    fit_baco(np.array([[0, 0], [1, 1]]), 2, 2, budget=2)  # JIT warm-up (or cache load)
    for dataset in datasets:
        if dataset in done:
            continue
        data = load(dataset)
        runs = []
        for seed in range(3):
            started = time.perf_counter()
            result = fit_baco(data.train_edges, data.num_users, data.num_items, budget=0.22, gamma=GAMMA[dataset],
                              seed=seed, **BACO_SETTINGS[dataset])
            runs.append(time.perf_counter() - started)
        started = time.perf_counter()
        sweeps = fit_baco(data.train_edges, data.num_users, data.num_items, budget=2, gamma=GAMMA[dataset],
                          iterations=5, stop_within_sweep=False, seed=0)
        five = time.perf_counter() - started
        record = {"dataset": dataset, "edges": data.num_train, "nodes": data.num_users + data.num_items,
                  "settings": dict(BACO_SETTINGS[dataset], gamma=GAMMA[dataset]),
                  "seconds_at_22pct": runs, "rows": result.num_rows, "sweeps_at_22pct": result.params["sweeps"],
                  "seconds_5_sweeps": five, "sweeps_run": sweeps.params["sweeps"],
                  "us_per_edge_per_sweep": 1e6 * five / max(sweeps.params["sweeps"], 1) / data.num_train}
        print(f"[timing] {dataset}: {record}", flush=True)
        append_record(path, record)


def edge_scaling(path: pathlib.Path) -> None:
    """Seconds of 5 full BACO sweeps on 25/50/100% of MovieLens-1M's 1,000,209 interactions (best of 3)."""
    frame = pd.read_csv(DATA / "movielens-1m" / "positives.csv.gz", usecols=["user_id", "movie_id"])
    edges = np.stack([np.unique(frame[c].to_numpy(), return_inverse=True)[1] for c in frame.columns], 1)
    num_users, num_items = int(edges[:, 0].max()) + 1, int(edges[:, 1].max()) + 1
    order = np.random.default_rng(0).permutation(len(edges))
    fit_baco(edges[:10], num_users, num_items, budget=2)  # JIT warm-up
    records = []
    for fraction in (0.25, 0.5, 1.0):
        sample = edges[order[:int(fraction * len(edges))]]
        times = []
        for _ in range(3):
            started = time.perf_counter()
            result = fit_baco(sample, num_users, num_items, budget=2, gamma=GAMMA["movielens-1m"], iterations=5,
                              stop_within_sweep=False, seed=0)
            times.append(time.perf_counter() - started)
        records.append({"edges": len(sample), "sweeps": result.params["sweeps"], "seconds": min(times),
                        "us_per_edge_per_sweep": 1e6 * min(times) / len(sample) / result.params["sweeps"]})
        print(f"[scaling] {records[-1]}", flush=True)
    path.write_text(json.dumps(records, indent=1) + "\n")


def baco_settings(dataset: str, args) -> dict:
    """fit_baco's keyword arguments for `dataset`: the chosen setting (or the paper's gamma) + `--baco`."""
    settings = dict(BACO_SETTINGS.get(dataset, {}), gamma=GAMMA[dataset], iterations=args.iterations)
    settings.update(json.loads(args.baco) if args.baco else {})
    return settings


def cluster_stats(assignment, edges: np.ndarray) -> dict:
    """Cluster-size diagnostics of an assignment (primary codes): largest row, Gini, top row's edge share."""
    def gini(sizes):
        sizes = np.sort(sizes).astype(np.float64)
        n = sizes.size
        return float((2 * np.arange(1, n + 1) - n - 1).dot(sizes) / (n * sizes.sum()))

    users = np.bincount(assignment.user_codes[:, 0], minlength=assignment.num_user_codes)
    items = np.bincount(assignment.item_codes, minlength=assignment.num_item_codes)
    user_edges = np.bincount(assignment.user_codes[edges[:, 0], 0], minlength=assignment.num_user_codes)
    item_edges = np.bincount(assignment.item_codes[edges[:, 1]], minlength=assignment.num_item_codes)
    return {"rows": assignment.num_rows, "user_rows": assignment.num_user_codes,
            "item_rows": assignment.num_item_codes, "secondary": assignment.num_secondary,
            "largest_user_row": int(users.max()), "largest_item_row": int(items.max()),
            "gini_user_rows": gini(users), "gini_item_rows": gini(items),
            "top_user_row_edge_share": float(user_edges.max() / len(edges)),
            "top_item_row_edge_share": float(item_edges.max() / len(edges)),
            "folded": assignment.params.get("folded", 0), "sweeps": assignment.params.get("sweeps"),
            "levels_used": assignment.params.get("levels_used", 1),
            "rows_per_sweep": assignment.params.get("rows_per_sweep"),
            "cluster_seconds": assignment.params["seconds"]}


def codebook_embedders(assignment):
    return tuple(
        CodebookEmbedding.from_assignment(
            assignment, side, EMBEDDING_DIM, id_offset=0, name=f"{side}_codebook",
            embeddings_initializer=keras.initializers.RandomNormal(stddev=EMBEDDING_STDDEV))
        for side in ("user", "item"))


def search(dataset: str, data, settings_list, args, path: pathlib.Path) -> None:
    """Validation search over BACO settings: cluster, train LightGCN exactly as `run`, score on VALID only.

    Every setting's record holds its settings, valid Recall/NDCG@k of the restored best weights (train items
    masked), the early-stopping curve and the cluster statistics; the test split is never touched.
    """
    done = [r["settings"] for r in read_records(path) if r["dataset"] == dataset]
    for extra in settings_list:
        settings = dict({"gamma": GAMMA[dataset], "iterations": args.iterations}, **extra)
        if settings in done:
            print(f"[skip] search {settings}", flush=True)
            continue
        print(f"[search] {dataset} {settings}", flush=True)
        assignment = fit_baco(data.train_edges, data.num_users, data.num_items, budget=args.budget,
                              seed=args.seed, **settings)
        stats = cluster_stats(assignment, data.train_edges)
        print(f"  {stats}", flush=True)
        user_embedder, item_embedder = codebook_embedders(assignment)
        keras.utils.set_random_seed(args.seed)
        model = LightGCN(data.train, num_layers=2, embedding_dim=EMBEDDING_DIM, user_embedder=user_embedder,
                         item_embedder=item_embedder)
        history = train_bpr(model, data, epochs=args.epochs, eval_every=args.eval_every, patience=args.patience,
                            max_seconds=args.max_seconds, seed=args.seed)
        valid = evaluate_retrieval(model, data.valid, data.train, ks=KS)
        record = {"dataset": dataset, "settings": settings, "budget": args.budget, "seed": args.seed,
                  "epochs": history["epochs"], "best_epoch": history["best_epoch"],
                  "valid_curve": history["valid"], "train_seconds": history["seconds"]}
        record.update({f"valid_{key}": value for key, value in valid.items()})
        record["cluster"] = stats
        append_record(path, record)
        print(f"[done] valid recall@20 {valid['recall@20']:.4f}", flush=True)


def run(dataset: str, method: str, data, args) -> dict:
    total = data.num_users + data.num_items
    user_embedder = item_embedder = None
    rows, cluster_seconds = total, 0.0
    settings = None
    if method != "full":
        settings = baco_settings(dataset, args)
        baco = fit_baco(data.train_edges, data.num_users, data.num_items, budget=args.budget, seed=args.seed,
                        **settings)
        if method == "baco":
            assignment = baco
        else:
            kwargs = {"resolution": LOUVAIN_RESOLUTION[dataset]} if method == "louvain" else {}
            assignment = fit_codebook(method, data.train_edges, data.num_users, data.num_items,
                                      budget=baco.num_rows, seed=args.seed, **kwargs)
        cluster_seconds = assignment.params["seconds"]
        rows = assignment.num_rows
        user_embedder, item_embedder = codebook_embedders(assignment)
        print(f"  {method}: {assignment.num_user_codes} user + {assignment.num_item_codes} item rows "
              f"({rows / total:.1%}), {assignment.num_secondary} secondary, {cluster_seconds:.2f}s", flush=True)
    keras.utils.set_random_seed(args.seed)
    model = LightGCN(data.train, num_layers=2, embedding_dim=EMBEDDING_DIM, user_embedder=user_embedder,
                     item_embedder=item_embedder)
    history = train_bpr(model, data, epochs=args.epochs, eval_every=args.eval_every, patience=args.patience,
                        max_seconds=args.max_seconds, seed=args.seed)
    metrics = evaluate_retrieval(model, data.test, data.train + data.valid, ks=KS)
    record = {"dataset": dataset, "method": method, "embedding_rows": int(rows), "row_fraction": rows / total}
    record.update({key: metrics[key] for k in KS for key in (f"recall@{k}", f"ndcg@{k}")})
    record.update(cluster_seconds=cluster_seconds, train_seconds=history["seconds"])
    # Extra keys (training budget actually used) are kept beside the fields.
    record.update(epochs=history["epochs"], best_epoch=history["best_epoch"], valid_recall20=history["best_valid"])
    if settings is not None:
        # BACO's settings (the baselines' row budget is BACO's rows under them).
        record["settings"] = settings
    return record


def table(records, replaced=()) -> str:
    """The results table; `replaced`: earlier BACO records (the paper's form) listed below it."""
    def rows(runs, name=None):
        header = ["| dataset | method | rows | row % | R@10 | N@10 | R@20 | N@20 | R@50 | N@50 | cluster s "
                  "| train s | epochs |", "|" + "---|" * 13]
        return header + [
            f"| {r['dataset']} | {name or r['method']} | {r['embedding_rows']} | {100 * r['row_fraction']:.1f} | "
            + " | ".join(f"{100 * r[f'{m}@{k}']:.3f}" for k in KS for m in ("recall", "ndcg"))
            + f" | {r['cluster_seconds']:.2f} | {r['train_seconds']:.0f} | {r.get('epochs', '')} |" for r in runs]

    datasets = list(dict.fromkeys(r["dataset"] for r in records))
    lines = rows(sorted(records, key=lambda r: (datasets.index(r["dataset"]), METHODS.index(r["method"]))))
    lines.append("")
    settings = [f"{r['dataset']}: " + ", ".join(f"{k} {v}" for k, v in r["settings"].items())
                for r in records if r["method"] == "baco" and r.get("settings")]
    if settings:
        lines.append("BACO settings (chosen on validation Recall@20, `baco.search.json`; each baseline's budget "
                     "is BACO's rows when the baseline ran, e.g. Beauty's baselines have the 7,582 rows of the "
                     "paper-gamma BACO, one more than the chosen setting's 7,581): " + "; ".join(settings))
        lines.append("")
    if replaced:
        lines.append("Replaced BACO runs (the paper's form: gamma 0.1308, single level), same protocol:")
        lines.append("")
        lines.extend(rows(replaced, "baco (paper gamma)"))
        lines.append("")
    lines.append("Paper, supplement Table 8 (Beauty, %, fully trained): " + "; ".join(
        f"{name} R@10 {v[0]} N@10 {v[1]} R@50 {v[2]} N@50 {v[3]}" for name, v in PAPER_BEAUTY.items()))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["amazon-beauty"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--budget", type=float, default=0.22, help="BACO's rows (int) or fraction of ids")
    parser.add_argument("--gamma", type=float, default=None, help="BACO's resolution (default: per data set)")
    parser.add_argument("--iterations", type=int, default=10, help="BACO's most sweeps (per level)")
    parser.add_argument("--baco", default=None, help="JSON of extra fit_baco arguments (override the chosen)")
    parser.add_argument("--search", default=None,
                        help="JSON list of fit_baco settings to score on VALIDATION (writes baco.search.json)")
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--eval-every", type=int, default=5)
    parser.add_argument("--patience", type=int, default=3, help="validations without improvement")
    parser.add_argument("--max-seconds", type=float, default=None, help="training time cap per run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--timing-only", action="store_true")
    parser.add_argument("--scaling", action="store_true", help="also time BACO on 25/50/100%% of ML-1M")
    parser.add_argument("--output", default=str(RESULTS / "baco.json"))
    args = parser.parse_args()
    if args.gamma is not None:
        GAMMA.update({dataset: args.gamma for dataset in args.datasets})
    if args.budget >= 1:
        args.budget = int(args.budget)
    RESULTS.mkdir(parents=True, exist_ok=True)
    output = pathlib.Path(args.output)
    fit_baco(np.array([[0, 0], [1, 1], [0, 1]]), 3, 3, budget=2, levels=3, iterations=1)  # JIT warm-up
    if not args.skip_timing:
        cluster_timing(args.datasets, output.with_suffix(".timing.json"))
    if args.scaling:
        edge_scaling(output.with_suffix(".scaling.json"))
    if args.timing_only:
        return
    if args.search:
        for dataset in args.datasets:
            search(dataset, load(dataset), json.loads(args.search), args, output.with_suffix(".search.json"))
        return
    for dataset in args.datasets:
        data = None
        for method in args.methods:
            if any(r["dataset"] == dataset and r["method"] == method for r in read_records(output)):
                print(f"[skip] {dataset} {method}: already in {output.name}", flush=True)
                continue
            data = data or load(dataset)
            print(f"[run] {dataset} {method}", flush=True)
            record = run(dataset, method, data, args)
            append_record(output, record)
            print(f"[done] {json.dumps(record)}", flush=True)
    text = table(read_records(output), read_records(output.with_suffix(".paper_gamma.json")))
    print(text)
    output.with_suffix(".md").write_text(text + "\n")


if __name__ == "__main__":
    main()
