"""`ssr-client`: scores CSV rows of a layout against a TF Serving-compatible server.

Each CSV row becomes a `tf.Example` carrying every feature column of the layout as a `bytes` feature
(see `ssr_keras.data.raw_examples`), so the same command works against `ssr-serve` and real TF Serving.
Rows are read and checked by `ssr_keras.data.csv_files` (the label column may be absent); with it
present, the run ends with AUC and log-loss over all rows.

With `--method retrieve` it queries a top-k retriever instead (`ssr_keras.export.retriever`): user ids
(`--user-ids`) or item histories (`--history`, item ids separated by `|`), printing each answer's items,
with their titles when `--titles` names a CSV of `item,title`.

Usage:

    ssr-client --layout frappe --csv ../shared/data/frappe-ctr/test.csv --server 127.0.0.1:8500 \\
        --model-name frappe --method classify --max-rows 2000
    ssr-client --method retrieve --model-name beauty --user-ids 0 7 123
    ssr-client --method retrieve --model-name elsa --history "12|45|7" --titles titles.csv
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from typing import Dict, List, Sequence

import grpc
import numpy as np
import tensorflow as tf

from serving.client import PredictionClient
from ssr_keras.analysis.classification_metrics import log_loss, roc_auc
from ssr_keras.data import csv_files
from ssr_keras.data.layouts import LAYOUTS, get_layout
from ssr_keras.export.signature_names import CLASSIFY_SIGNATURE, DEFAULT_SIGNATURE
from ssr_keras.export.tf_example import layout_example


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssr-client", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--layout", choices=sorted(LAYOUTS), help="data set layout (predict, classify)")
    parser.add_argument("--csv", help="CSV file of raw rows, header optional (predict, classify)")
    parser.add_argument("--server", default="127.0.0.1:8500", help="host:port of the gRPC server")
    parser.add_argument("--model-name", required=True, help="served model name")
    parser.add_argument("--method", choices=["predict", "classify", "retrieve"], default="predict",
                        help="predict / classify CSV rows on a ranker, or retrieve top items from a retriever")
    parser.add_argument("--user-ids", type=int, nargs="+", help="retrieve: user ids to ask for")
    parser.add_argument("--history", action="append", default=[],
                        help="retrieve: one user's item ids separated by |, repeatable")
    parser.add_argument("--titles", help="retrieve: CSV with columns item,title to print titles")
    parser.add_argument("--signature", default=None,
                        help="signature key (default: serving_default for predict, classification for classify)")
    parser.add_argument("--batch-size", type=int, default=256, help="examples per request")
    parser.add_argument("--max-rows", type=int, default=None, help="score only the first N rows")
    version = parser.add_mutually_exclusive_group()
    version.add_argument("--version", type=int, default=None, help="model version (default: latest)")
    version.add_argument("--version-label", default=None, help="model version label, e.g. stable")
    parser.add_argument("--show", type=int, default=10, help="print the first N rows (retrieve: items per answer)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    return parser


def _histories(texts: Sequence[str]) -> np.ndarray:
    """`["1|5", "7"]` -> `[[1, 5], [7, -1]]` (int64, padded with -1)."""
    try:
        lists = [[int(item) for item in text.split("|") if item.strip()] for text in texts]
    except ValueError:
        raise ValueError(f"--history takes item ids separated by |. Received: {list(texts)}") from None
    width = max(map(len, lists))
    return np.array([items + [-1] * (width - len(items)) for items in lists], np.int64)


def _titles(path: str | None) -> Dict[int, str]:
    if not path:
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {int(row["item"]): row["title"] for row in csv.DictReader(f)}


def retrieve(args: argparse.Namespace) -> int:
    if bool(args.user_ids) == bool(args.history):
        raise SystemExit("ssr-client: --method retrieve takes either --user-ids or --history.")
    try:
        name, ids = ("user_ids", np.asarray(args.user_ids, np.int64)) if args.user_ids else \
            ("history", _histories(args.history))
        titles = _titles(args.titles)
    except (ValueError, OSError, KeyError) as error:
        raise SystemExit(f"ssr-client: {error}") from None
    with PredictionClient(args.server, args.model_name, version=args.version, version_label=args.version_label,
                          timeout=args.timeout) as client:
        try:
            answer = client.retrieve(name, ids, args.signature or DEFAULT_SIGNATURE)
        except grpc.RpcError as error:
            print(f"ssr-client: retrieve failed: {error.code().name}: {error.details()}", file=sys.stderr)
            return 1
    queries = args.user_ids or args.history
    for query, items, scores in zip(queries, answer.item_ids, answer.scores):
        print(f"{'user' if args.user_ids else 'history'} {query}: version {answer.model_version}")
        for rank, (item, score) in enumerate(zip(items[:args.show], scores[:args.show]), start=1):
            print(f"  {rank:>3}. item {item:<8} {score:9.4f}  {titles.get(int(item), '')}".rstrip())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.method == "retrieve":
        return retrieve(args)
    if not args.layout or not args.csv:
        raise SystemExit(f"ssr-client: --method {args.method} needs --layout and --csv.")
    if args.batch_size < 1:
        raise SystemExit(f"ssr-client: --batch-size must be >= 1; got {args.batch_size}.")
    try:
        layout = get_layout(args.layout)
        rows = list(csv_files.iter_dict_rows(layout, args.csv, max_rows=args.max_rows, require_label=False))
    except (ValueError, OSError) as error:
        raise SystemExit(f"ssr-client: {error}") from None
    if not rows:
        raise SystemExit(f"ssr-client: no rows in {args.csv}.")
    signature = args.signature or (DEFAULT_SIGNATURE if args.method == "predict" else CLASSIFY_SIGNATURE)

    scores: List[np.ndarray] = []
    versions = set()
    started = time.perf_counter()
    with PredictionClient(args.server, args.model_name, version=args.version, version_label=args.version_label,
                          timeout=args.timeout) as client:
        call = client.predict if args.method == "predict" else client.classify
        for start in range(0, len(rows), args.batch_size):
            examples = [layout_example(layout, row) for row in rows[start:start + args.batch_size]]
            try:
                result = call(examples, signature)
            except grpc.RpcError as error:
                print(f"ssr-client: {args.method} failed: {error.code().name}: {error.details()}", file=sys.stderr)
                return 1
            scores.append(result.scores)
            versions.add(result.model_version)
    elapsed = time.perf_counter() - started
    all_scores = np.concatenate(scores)

    has_label = layout.label in rows[0]
    labels = (tf.cast(layout.to_label(tf.constant([row[layout.label] for row in rows])), tf.int32).numpy()
              if has_label else None)
    print("row\tscore" + ("\tlabel" if has_label else ""))
    for i in range(min(args.show, len(rows))):
        print(f"{i}\t{all_scores[i]:.6f}" + (f"\t{labels[i]}" if has_label else ""))
    summary = (f"scored {len(rows)} rows with {args.method} on {args.server} model {args.model_name} "
               f"version(s) {sorted(versions)} in {elapsed:.2f} s ({len(rows) / elapsed:.0f} rows/s)")
    print(summary)
    if has_label:
        print(f"AUC {roc_auc(labels, all_scores):.4f}  log-loss {log_loss(labels, all_scores):.4f}  "
              f"positives {int(labels.sum())}/{len(labels)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
