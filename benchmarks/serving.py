"""Serving benchmark: `ssr-serve` over 127.0.0.1 against the same SavedModel called in-process.

For each scenario (batch size, concurrent clients with one gRPC channel each, request batching off or
on), measures per-request latency p50/p99 and throughput (examples/s) of Predict on a server running
as a separate process, then the throughput of calling the loaded `serving_default` function directly
with the same serialized batch and the same number of threads. `overhead` = in-process / served
throughput. Scenarios: 1 client x batch 1, 8 clients x batch 1 with batching off and on
(`--enable_batching` with `BATCHING_PARAMETERS`; `batching_speedup` = on / off throughput), and
1 client x batch 256.

The model is an SSR-D `RankingModel` over the 10 Frappe fields (vocabularies from frappe-ctr
train.csv, untrained weights: latency does not depend on their values), exported with
`ssr_keras.export.export_ranker`; requests carry real test.csv rows as raw tf.Examples.
`--model toy` uses `serving.testing`'s small model instead.

Usage:

    python benchmarks/serving.py --data ../shared/data/frappe-ctr [--scale 0.5] [--model ssr-d|toy]

Prints a table and writes `benchmarks/results/serving.json` (a list of records).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from typing import Callable, Dict, List, Sequence, Tuple

# Run as a script, this file's folder comes first on sys.path and this file would shadow the `serving`
# package it benchmarks.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import grpc  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc  # noqa: E402

from serving import testing  # noqa: E402
from serving.server import compact_heap  # noqa: E402
from ssr_keras.analysis.benchmark_records import write_records  # noqa: E402
from ssr_keras.data import csv_files  # noqa: E402
from ssr_keras.data.layouts import get_layout  # noqa: E402
from ssr_keras.export import layout_example  # noqa: E402

MODEL_NAME = "bench"
# (batch, clients, batching): requests per client and round at scale 1 (10 rounds: >= 2000 latencies at batch 1).
SCENARIOS = {(1, 1, False): 200, (1, 8, False): 25, (1, 8, True): 25, (256, 1, False): 10}
# TF Serving's text format (`--batching_parameters_file`): batches of up to one request per client.
BATCHING_PARAMETERS = """max_batch_size { value: 8 }
batch_timeout_micros { value: 1000 }
num_batch_threads { value: 2 }
max_enqueued_batches { value: 100 }
"""
WARMUP_REQUESTS = 3  # per client and round: connects the channel, warms the thread


def export_model(kind: str, data_dir: str, export_dir: str, rows: List[Dict[str, str]]) -> str:
    """Exports the benchmark model; returns a description of it."""
    if kind == "toy":
        testing.export_toy_model(export_dir, seed=1)
        return "toy (StringLookup + Embedding over user/item, serving.testing)"
    return testing.export_frappe_ranker(data_dir, export_dir, rows)


def start_server(base_path: str, batching: bool) -> Tuple[subprocess.Popen, int]:
    extra: List[str] = []
    if batching:
        parameters = os.path.join(base_path, "..", "batching.config")
        with open(parameters, "w", encoding="utf-8") as f:
            f.write(BATCHING_PARAMETERS)
        extra = ["--enable_batching", "--batching_parameters_file", parameters]
    return testing.start_server_process(base_path, MODEL_NAME, extra)


def served_caller(address: str, request: predict_pb2.PredictRequest) -> Callable[[], Callable[[], None]]:
    """Per client: its own channel to the server, calling Predict with `request`."""
    def make_call() -> Callable[[], None]:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(address))
        return lambda: stub.Predict(request, 60)

    return make_call


def in_process_caller(signature: Callable, examples: tf.Tensor) -> Callable[[], Callable[[], None]]:
    """Per client: the loaded signature function called on the same serialized batch."""
    return lambda: (lambda: signature(examples=examples))


def measure(make_call: Callable[[], Callable[[], None]], clients: int, requests_per_client: int,
            batch: int) -> Dict[str, object]:
    """Runs `clients` threads each timing `requests_per_client` calls (after a warm-up)."""
    latencies: List[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client() -> None:
        call = make_call()
        for _ in range(WARMUP_REQUESTS):
            call()
        start.wait()
        local = []
        for _ in range(requests_per_client):
            began = time.perf_counter()
            call()
            local.append(time.perf_counter() - began)
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return {"latencies": latencies, "examples_per_sec": clients * requests_per_client * batch / wall}


def summarize(results: Sequence[Dict[str, object]]) -> Dict[str, float]:
    """Latency percentiles over the requests of all rounds, and the median round's throughput.

    Served and in-process rounds alternate (see `main`), so a burst of load from other processes on
    a shared machine hits both sides instead of skewing their ratio.
    """
    latencies = np.concatenate([r["latencies"] for r in results])
    return {"p50_ms": 1e3 * float(np.percentile(latencies, 50)), "p99_ms": 1e3 * float(np.percentile(latencies, 99)),
            "examples_per_sec": float(np.median([r["examples_per_sec"] for r in results]))}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data",
                                                       "frappe-ctr"), help="frappe-ctr folder")
    parser.add_argument("--model", choices=["ssr-d", "toy"], default="ssr-d")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the number of requests")
    parser.add_argument("--rounds", type=int, default=10, help="alternating served / in-process rounds")
    parser.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "results", "serving.json"))
    args = parser.parse_args(argv)

    layout = get_layout("frappe")
    rows = list(csv_files.iter_dict_rows(layout, os.path.join(args.data, "test.csv"), max_rows=1024))
    serialized = [layout_example(layout, row).SerializeToString() for row in rows]
    with tempfile.TemporaryDirectory() as directory:
        base_path = os.path.join(directory, "models")
        model = export_model(args.model, args.data, os.path.join(base_path, "1"), rows)
        signature = tf.saved_model.load(os.path.join(base_path, "1")).signatures["serving_default"]
        # As the server does after loading (see serving.server.compact_heap): keep full garbage
        # collections of the model's objects out of the in-process and client-side timings too.
        compact_heap()
        records = []
        for batching in (False, True):
            scenarios = [(b, c, n) for (b, c, on), n in SCENARIOS.items() if on == batching]
            process, port = start_server(base_path, batching)
            try:
                for batch, clients, requests_per_client in scenarios:
                    examples = serialized[:batch]
                    request = predict_pb2.PredictRequest()
                    request.model_spec.name = MODEL_NAME
                    request.inputs["examples"].CopyFrom(tf.make_tensor_proto(examples, dtype=tf.string))
                    tensor = tf.constant(examples)
                    count = max(2, int(requests_per_client * args.scale))

                    served_rounds, in_process_rounds = [], []
                    for _ in range(args.rounds):
                        served_rounds.append(measure(served_caller(f"127.0.0.1:{port}", request), clients, count,
                                                     batch))
                        in_process_rounds.append(measure(in_process_caller(signature, tensor), clients, count, batch))
                    served, in_process = summarize(served_rounds), summarize(in_process_rounds)
                    records.append({
                        "batch": batch, "clients": clients, "batching": batching,
                        "p50_ms": round(served["p50_ms"], 3), "p99_ms": round(served["p99_ms"], 3),
                        "examples_per_sec": round(served["examples_per_sec"], 1),
                        "in_process_examples_per_sec": round(in_process["examples_per_sec"], 1),
                        "in_process_p50_ms": round(in_process["p50_ms"], 3),
                        "in_process_p99_ms": round(in_process["p99_ms"], 3),
                        "overhead": round(in_process["examples_per_sec"] / served["examples_per_sec"], 3),
                        "requests": clients * count * args.rounds, "rounds": args.rounds, "model": model,
                        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
                        "load_average_1m": round(os.getloadavg()[0], 2),
                    })
                    if batching:
                        records[-1]["batching_parameters"] = BATCHING_PARAMETERS
                        off = next(r for r in records if (r["batch"], r["clients"], r["batching"]) ==
                                   (batch, clients, False))
                        records[-1]["batching_speedup"] = round(served["examples_per_sec"] / off["examples_per_sec"], 3)
                    print(json.dumps(records[-1]), flush=True)
            finally:
                process.terminate()
                process.wait(timeout=60)

    print("\n| batch | clients | batching | p50 ms | p99 ms | served ex/s | in-process ex/s | in-proc. p50/p99 "
          "| overhead |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in records:
        print(f"| {r['batch']} | {r['clients']} | {'on' if r['batching'] else 'off'} | {r['p50_ms']:.2f} "
              f"| {r['p99_ms']:.2f} | {r['examples_per_sec']:.0f} "
              f"| {r['in_process_examples_per_sec']:.0f} | {r['in_process_p50_ms']:.2f} / {r['in_process_p99_ms']:.2f} "
              f"| {r['overhead']:.2f}x |")
    write_records(records, args.output)
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
