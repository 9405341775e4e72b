"""The work of `ssr-client` (its flags: `serving.client_cli`): send CSV rows or retrieval queries, print."""

from __future__ import annotations

import argparse
import csv
import sys
import time
from typing import Dict, List

import grpc
import numpy as np
import tensorflow as tf

from serving.client import PredictionClient
from serving.client_cli import _histories
from ssr_keras.analysis.classification_metrics import log_loss, roc_auc
from ssr_keras.data import csv_files
from ssr_keras.data.layouts import get_layout
from ssr_keras.export.signature_names import CLASSIFY_SIGNATURE, DEFAULT_SIGNATURE
from ssr_keras.export.tf_example import layout_example


def _titles(path: str | None) -> Dict[int, str]:
    if not path:
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {int(row["item"]): row["title"] for row in csv.DictReader(f)}


def retrieve(args: argparse.Namespace) -> int:
    if bool(args.user_ids) == bool(args.history):
        raise ValueError("--method retrieve takes either --user-ids or --history.")
    try:
        name, ids = ("user_ids", np.asarray(args.user_ids, np.int64)) if args.user_ids else \
            ("history", np.asarray(_histories(args.history), np.int64))
        titles = _titles(args.titles)
    except KeyError as error:
        raise ValueError(f"--titles {args.titles}: no column {error}; expected columns item,title") from None
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


def run(args: argparse.Namespace) -> int:
    if args.method == "retrieve":
        return retrieve(args)
    if not args.layout or not args.csv:
        raise ValueError(f"--method {args.method} needs --layout and --csv.")
    layout = get_layout(args.layout)
    rows = list(csv_files.iter_dict_rows(layout, args.csv, max_rows=args.max_rows, require_label=False))
    if not rows:
        raise ValueError(f"{args.csv}: no data rows.")
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
