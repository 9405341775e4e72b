"""GateSID on MovieLens ml-latest-small: cold- and warm-item AUC of ID / SID / fused rankers with an SSR-D backbone.

Steps:

1. the time-split CTR task of `ssr_keras.data.movielens_history` (80 % / 10 % / 10 % by time,
   label rating >= 4, history = last 20 liked items, cold = item unseen in training or first rated
   under 30 days before the event);
2. item content vectors (`ssr_keras.data.item_content`: title, year, genres, tags before the
   validation cut; 64-d TF-IDF + SVD) for every catalogue movie;
3. an RQ-VAE (`ResidualQuantizer`, 4 x 256 codes, dim 64, k-means init) trained on those vectors,
   frozen. Its codebook perplexity per level, collision figures (before and after the
   collision-breaking level of `disambiguate_collisions`) and loss curve go to the JSON's `rqvae`
   entry and to `gatesid_rqvae.png`. The ranker embeds the 4 *semantic* levels only: items sharing
   a SID share its embedding, which is what a ranker wants (the ID embedding tells them apart), while
   the extra level's "n-th item of the group" code carries no meaning for an unseen item;
4. per model (`id-only`, `sid-only`, `id+sid`, `fixed-gate`, `gatesid`) and seed: train
   `GateSIDRankingModel` (SSR-D backbone; no user-ID embedding, since ~90 % of the test events come
   from users absent from the training window: the liked-items history and the user's past
   event count and like rate represent the user) for up to `--epochs` epochs, keep the epoch with the best
   validation AUC (the only choice made on data), then score the test split once: AUC on all, cold
   and warm events.

Defaults (lr 3e-4, embedding L2 1e-4, up to 5 epochs, batch 512) were chosen on validation AUC only, seed 0,
with `--valid-only` runs: at lr 1e-3 every model peaked after epoch 1; embedding L2 1e-4 gave GateSID's best
validation AUC among {0, 1e-5, 1e-4}.

Resumable: each finished (model, seed) record is appended to the JSON and skipped on re-run; the
SID table is cached next to it (`gatesid_sid_table.npz`).

Usage:
    nice -n 10 python benchmarks/gatesid.py [--seeds 0 1 2] [--models gatesid id-only ...] [--epochs 6]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import time
from typing import Dict, List

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from ssr_keras.analysis.benchmark_records import paired_table  # noqa: E402
from ssr_keras.data.item_content import read_movielens_content  # noqa: E402
from ssr_keras.data.movielens_history import USER_STATS_FEATURES, read_movielens_history  # noqa: E402
from ssr_keras.embeddings.semantic_id import (  # noqa: E402
    ResidualQuantizer,
    codebook_perplexity,
    collision_stats,
    disambiguate_collisions,
)
from ssr_keras.models.ranking_history import MODES, GateSIDRankingModel  # noqa: E402
from ssr_keras.models.ranking_history.gatesid_ranking_model import GATE_INPUTS  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent
DATA = ROOT.parent.parent / "shared" / "data" / "movielens-latest-small"
BACKBONE_CONFIG = {"num_layers": 2, "num_views": 4, "view_dim": 64}
FEATURE_KEYS = ("user", "item", "history", "maturity", "user_stats")


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def build_sid_table(data, out_dir: pathlib.Path, levels: int, codebook_size: int, rq_epochs: int) -> Dict:
    """Content -> RQ-VAE -> disambiguated SID table over catalog ids (row 0 = OOV: -1 codes); cached."""
    cache = out_dir / "gatesid_sid_table.npz"
    if cache.exists():
        saved = np.load(cache, allow_pickle=False)
        return {"table": saved["table"].astype(np.int64), "codebook_sizes": saved["codebook_sizes"].tolist(),
                "stats": json.loads(str(saved["stats"]))}
    _log("content vectors (tags before the validation cut only)")
    content = read_movielens_content(DATA, dim=64, max_timestamp=data.valid_time)
    vectors = content.lookup(data.catalog_keys[1:])
    tf.keras.utils.set_random_seed(0)
    rq = ResidualQuantizer(input_dim=vectors.shape[1], num_levels=levels, codebook_size=codebook_size,
                           codebook_dim=64, encoder_units=[256, 128])
    _log(f"RQ-VAE: k-means init on {len(vectors)} items, then {rq_epochs} epochs")
    rq.initialize_codebooks(vectors, seed=0)
    rq.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = rq.fit(vectors, batch_size=256, epochs=rq_epochs, shuffle=True, verbose=0).history
    rq.trainable = False
    codes = rq.encode(vectors)
    raw = collision_stats(codes)
    unique_codes = disambiguate_collisions(codes)
    extra = int(unique_codes[:, -1].max()) + 1
    stats = {"perplexity_per_level": codebook_perplexity(codes, codebook_size).round(2).tolist(),
             "codes_used_per_level": [int(len(np.unique(codes[:, lv]))) for lv in range(levels)],
             "collisions": raw, "collisions_after_extra_level": collision_stats(unique_codes),
             "extra_level_size": extra, "content_explained_variance": round(content.explained_variance, 4),
             "loss_first_epoch": round(history["loss"][0], 4), "loss_last_epoch": round(history["loss"][-1], 4),
             "reconstruction_first_epoch": round(history["reconstruction_loss"][0], 4),
             "reconstruction_last_epoch": round(history["reconstruction_loss"][-1], 4),
             "loss_history": [round(v, 4) for v in history["loss"]],
             "reconstruction_history": [round(v, 4) for v in history["reconstruction_loss"]]}
    table = np.concatenate([np.full([1, levels], -1, np.int64), codes], axis=0)
    sizes = [codebook_size] * levels
    np.savez_compressed(cache, table=table.astype(np.int16), codebook_sizes=np.array(sizes), stats=json.dumps(stats))
    _plot_rqvae(codes, codebook_size, stats, out_dir / "gatesid_rqvae.png")
    return {"table": table, "codebook_sizes": sizes, "stats": stats}


def _plot_rqvae(codes: np.ndarray, codebook_size: int, stats: Dict, path: pathlib.Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # optional: the JSON has the same figures
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
    for level in range(codes.shape[1]):
        counts = np.sort(np.bincount(codes[:, level], minlength=codebook_size))[::-1]
        axes[0].plot(counts, label=f"level {level} (perplexity {stats['perplexity_per_level'][level]:.0f})")
    axes[0].set(xlabel="code rank", ylabel="items", yscale="log", title="RQ-VAE codebook usage")
    axes[0].legend(fontsize=8)
    axes[1].plot(stats["reconstruction_history"], label="reconstruction")
    axes[1].plot(stats["loss_history"], label="total")
    rate = stats["collisions"]["collision_rate"]
    axes[1].set(xlabel="epoch", ylabel="loss", title=f"RQ-VAE training (collisions: {rate:.3f} of items)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _dataset(split: Dict[str, np.ndarray], batch: int, shuffle_seed: int | None) -> tf.data.Dataset:
    features = {k: split[k] for k in FEATURE_KEYS}
    ds = tf.data.Dataset.from_tensor_slices((features, split["label"]))
    if shuffle_seed is not None:
        ds = ds.shuffle(len(split["label"]), seed=shuffle_seed, reshuffle_each_iteration=True)
    return ds.batch(batch).prefetch(2)


def _predict(model: GateSIDRankingModel, split: Dict[str, np.ndarray], batch: int) -> np.ndarray:
    return np.concatenate([model(features, training=False).numpy().ravel()
                           for features, _ in _dataset(split, 4096, None)])


def _aucs(split: Dict[str, np.ndarray], scores: np.ndarray) -> Dict:
    cold = split["is_cold"]
    auc = lambda m: float(roc_auc_score(split["label"][m], scores[m]))  # noqa: E731
    return {"auc_all": auc(np.ones_like(cold)), "auc_cold": auc(cold), "auc_warm": auc(~cold),
            "n_cold": int(cold.sum()), "n_warm": int((~cold).sum())}


def _mean_gates(model: GateSIDRankingModel, split: Dict[str, np.ndarray]) -> Dict:
    gates = np.concatenate([model.encode(f, training=False)["gate"].numpy().ravel()
                            for f, _ in _dataset(split, 4096, None)])
    cold = split["is_cold"]
    return {"mean_gate_cold": round(float(gates[cold].mean()), 4),
            "mean_gate_warm": round(float(gates[~cold].mean()), 4)}


def run_one(data, sid: Dict, mode: str, seed: int, epochs: int, batch: int, lr: float, valid_only: bool,
            embedding_l2: float, gate_inputs: str = "embedding+maturity", gate_supervision: float = 0.0) -> Dict:
    tf.keras.utils.set_random_seed(seed)
    model = GateSIDRankingModel(num_users=None, num_known_items=data.num_known_items,
                                sid_table=sid["table"], codebook_sizes=sid["codebook_sizes"], mode=mode,
                                num_user_stats=len(USER_STATS_FEATURES), embedding_l2=embedding_l2,
                                gate_inputs=gate_inputs, gate_supervision=gate_supervision,
                                backbone="ssr-d", backbone_config=BACKBONE_CONFIG)
    model.compile(optimizer=keras.optimizers.Adam(lr))
    train = _dataset(data.splits["train"], batch, seed)
    best, best_weights, valid_curve = -1.0, None, []
    for epoch in range(epochs):
        start = time.time()
        model.fit(train, epochs=1, verbose=0)
        valid_auc = _aucs(data.splits["valid"], _predict(model, data.splits["valid"], batch))["auc_all"]
        valid_curve.append(round(valid_auc, 5))
        _log(f"  {mode} seed {seed} epoch {epoch + 1}: valid auc {valid_auc:.4f} ({time.time() - start:.0f}s)")
        if valid_auc > best:
            best, best_weights = valid_auc, model.get_weights()
    model.set_weights(best_weights)
    rounded = lambda d, prefix="": {prefix + k: (round(v, 5) if isinstance(v, float) else v)  # noqa: E731
                                    for k, v in d.items()}
    record = {"model": mode, "seed": seed, "lr": lr, "embedding_l2": embedding_l2, "gate_inputs": gate_inputs,
              "gate_supervision": gate_supervision,
              **rounded(_aucs(data.splits["valid"], _predict(model, data.splits["valid"], batch)), "valid_"),
              "best_epoch": int(np.argmax(valid_curve)) + 1, "valid_curve": valid_curve}
    if valid_only:
        if mode == "gatesid":
            record.update(_mean_gates(model, data.splits["valid"]), valid_gates=True)
        return record
    record.update(rounded(_aucs(data.splits["test"], _predict(model, data.splits["test"], batch))))
    if mode == "gatesid":
        record.update(_mean_gates(model, data.splits["test"]))
    return record


def _table(records: List[Dict]) -> str:
    lines = ["| model | seeds | AUC all | AUC cold | AUC warm |", "|---|---|---|---|---|"]
    for mode in MODES:
        rows = [r for r in records if r.get("model") == mode]
        if not rows:
            continue
        cells = [f"{np.mean([r[k] for r in rows]):.4f} ± {np.std([r[k] for r in rows]):.4f}"
                 for k in ("auc_all", "auc_cold", "auc_warm")]
        lines.append(f"| {mode} | {len(rows)} | " + " | ".join(cells) + " |")
    # GateSID minus each other model on the same seed.
    return "\n".join(lines) + "\n\n" + paired_table(records, "gatesid", ("auc_cold", "auc_warm"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--embedding-l2", type=float, default=1e-4)
    parser.add_argument("--rq-epochs", type=int, default=50)
    parser.add_argument("--gate-inputs", default="embedding+maturity", choices=GATE_INPUTS,
                        help="what the learned gate reads (GateSIDRankingModel gate_inputs)")
    parser.add_argument("--gate-supervision", type=float, default=0.0,
                        help="weight of the weak 'young item -> semantic stream' loss on the gate (0: off)")
    parser.add_argument("--valid-only", action="store_true",
                        help="tuning: score the validation split only (records without test AUCs)")
    parser.add_argument("--out", default=str(ROOT / "results" / "gatesid.json"))
    parser.add_argument("--report-only", action="store_true",
                        help="print the tables of the records already in --out (and write them to its .md); no runs")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(out.read_text()) if out.exists() else {"records": []}
    if args.report_only:
        _report(results, out)
        return
    _log("building the time-split task")
    data = read_movielens_history(DATA)
    sid = build_sid_table(data, out.parent, levels=4, codebook_size=256, rq_epochs=args.rq_epochs)
    results["rqvae"] = sid["stats"]
    results["setup"] = {"valid_time": data.valid_time, "test_time": data.test_time, "epochs": args.epochs,
                        "batch": args.batch, "lr": args.lr, "backbone": "ssr-d", "backbone_config": BACKBONE_CONFIG,
                        "sizes": {k: len(v["label"]) for k, v in data.splits.items()}}
    out.write_text(json.dumps(results, indent=1))
    _log(f"RQ-VAE: perplexity {sid['stats']['perplexity_per_level']}, collision rate "
         f"{sid['stats']['collisions']['collision_rate']:.4f}")
    # Seed-major order, so partial runs have every model on the first seeds.
    for seed in args.seeds:
        for mode in args.models:
            if any(r["model"] == mode and r["seed"] == seed for r in results["records"]):
                _log(f"skip {mode} seed {seed} (done)")
                continue
            _log(f"run {mode} seed {seed}")
            record = run_one(data, sid, mode, seed, args.epochs, args.batch, args.lr, args.valid_only,
                             args.embedding_l2, args.gate_inputs, args.gate_supervision)
            _log(f"  -> {record}")
            results["records"].append(record)
            out.write_text(json.dumps(results, indent=1))
    _report(results, out)


def _report(results: Dict, out: pathlib.Path) -> None:
    text = _table([r for r in results["records"] if "auc_all" in r])
    print(text)
    out.with_suffix(".md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
