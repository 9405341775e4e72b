"""`ssr-client`: scores CSV rows of a layout against a TF Serving-compatible server.

Each CSV row becomes a `tf.Example` carrying every feature column of the layout as a `bytes` feature
(see `ssr_keras.data.raw_examples`), so the same command works against `ssr-serve` and real TF Serving.
Rows are read and checked by `ssr_keras.data.csv_files` (the label column may be absent); with it
present, the run ends with AUC and log-loss over all rows.

Usage:

    ssr-client --layout frappe --csv ../shared/data/frappe-ctr/test.csv --server 127.0.0.1:8500 \\
        --model-name frappe --method classify --max-rows 2000
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import List, Sequence

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
    parser.add_argument("--layout", required=True, choices=sorted(LAYOUTS), help="data set layout")
    parser.add_argument("--csv", required=True, help="CSV file of raw rows (header optional)")
    parser.add_argument("--server", default="127.0.0.1:8500", help="host:port of the gRPC server")
    parser.add_argument("--model-name", required=True, help="served model name")
    parser.add_argument("--method", choices=["predict", "classify"], default="predict")
    parser.add_argument("--signature", default=None,
                        help="signature key (default: serving_default for predict, classification for classify)")
    parser.add_argument("--batch-size", type=int, default=256, help="examples per request")
    parser.add_argument("--max-rows", type=int, default=None, help="score only the first N rows")
    version = parser.add_mutually_exclusive_group()
    version.add_argument("--version", type=int, default=None, help="model version (default: latest)")
    version.add_argument("--version-label", default=None, help="model version label, e.g. stable")
    parser.add_argument("--show", type=int, default=10, help="print the scores of the first N rows")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
