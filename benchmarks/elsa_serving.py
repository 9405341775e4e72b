"""ELSA serving cost: a history retriever with a sparse (compressed) vs a dense item matrix, batch 1 and 64.

Exports `ssr_keras.export.export_history_retriever` for MovieLens-1M-sized item matrices (3,706 items) at the
benchmark's budgets: compressed ELSA (2,048 dims, 16 non-zeros = 128 B per item, as `tf.SparseTensor`) and
dense ELSA (512 dims = 2,048 B per item, and 32 dims = 128 B per item, dense matmuls). Latency does not
depend on the trained values, only on shapes and sparsity, so the matrices are random with those
shapes. Each export is timed in process (the loaded signature) and over gRPC Predict through `ssr-serve`,
one client, real MovieLens-1M histories (the first 64 users' items). Writes
`benchmarks/results/elsa_serving.json` and prints a table.

Usage:
    python benchmarks/elsa_serving.py [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import sys
import tempfile
import time
from typing import Callable, Dict, List

# The repository root, for `serving` (a script's own folder is what Python puts first on sys.path).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import grpc  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc  # noqa: E402

from serving.testing import start_server_process  # noqa: E402
from ssr_keras.data.interactions import read_movielens_positives  # noqa: E402
from ssr_keras.export import export_history_retriever  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "movielens-1m"
MODEL_NAME = "elsa"
TOP_N = 100
# name -> (factors, non-zeros per item or None for dense)
MATRICES = {"compressed 2048x16nnz (128 B)": (2048, 16), "dense 512 (2048 B)": (512, None),
            "dense 32 (128 B)": (32, None)}


def item_matrix(num_items: int, factors: int, nnz: int | None, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    if nnz is None:
        return sp.csr_matrix(rng.normal(size=(num_items, factors)).astype(np.float32))
    columns = np.stack([rng.choice(factors, nnz, replace=False) for _ in range(num_items)])
    rows = np.repeat(np.arange(num_items), nnz)
    return sp.csr_matrix((rng.normal(size=rows.size).astype(np.float32), (rows, columns.ravel())),
                         shape=(num_items, factors))


def histories(batch: int) -> np.ndarray:
    data, _ = read_movielens_positives(str(DATA / "positives.csv.gz"))
    matrix = data.train
    lists = [matrix.indices[matrix.indptr[u]:matrix.indptr[u + 1]] for u in range(batch)]
    width = max(map(len, lists))
    return np.array([np.pad(items, (0, width - len(items)), constant_values=-1) for items in lists], np.int64)


def latencies(call: Callable[[], object], requests: int) -> List[float]:
    for _ in range(5):  # warm-up
        call()
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def summary(times: List[float], batch: int) -> Dict[str, float]:
    return {"p50_ms": round(1e3 * float(np.percentile(times, 50)), 3),
            "p99_ms": round(1e3 * float(np.percentile(times, 99)), 3),
            "examples_per_sec": round(batch * len(times) / sum(times), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per setting")
    parser.add_argument("--output", default=str(RESULTS / "elsa_serving.json"))
    args = parser.parse_args()

    all_histories = histories(64)
    num_items = 3706
    records = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, (factors, nnz) in MATRICES.items():
            base = os.path.join(scratch, name.split()[0] + str(factors))
            matrix = item_matrix(num_items, factors, nnz)
            export_history_retriever(matrix, os.path.join(base, "1"), k=TOP_N, sparse=nnz is not None)
            signature = tf.saved_model.load(os.path.join(base, "1")).signatures["serving_default"]
            process, port = start_server_process(base, MODEL_NAME)
            try:
                stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
                for batch in (1, 64):
                    history = all_histories[:batch]
                    request = predict_pb2.PredictRequest()
                    request.model_spec.name = MODEL_NAME
                    request.inputs["history"].CopyFrom(tf.make_tensor_proto(history))
                    constant = tf.constant(history)
                    calls = (("in-process", lambda c=constant, f=signature: f(history=c)),
                             ("grpc", lambda r=request, s=stub: s.Predict(r, 60)))
                    for where, call in calls:
                        record = {"matrix": name, "factors": factors, "nnz_per_item": nnz or factors,
                                  "bytes_per_item": 8 * nnz if nnz else 4 * factors, "batch": batch,
                                  "where": where, **summary(latencies(call, args.requests), batch)}
                        records.append(record)
                        print(f"{name:32s} batch {batch:>2} {where:10s} p50 {record['p50_ms']:8.2f} ms  "
                              f"p99 {record['p99_ms']:8.2f} ms  {record['examples_per_sec']:>9,.0f} ex/s", flush=True)
            finally:
                process.terminate()
                process.wait()
    RESULTS.mkdir(exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump({"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                   "num_items": num_items, "top_n": TOP_N, "requests": args.requests, "records": records}, f, indent=1)


if __name__ == "__main__":
    main()
