"""Serving memory benchmark: the RSS of an `ssr-serve` process around very large Predict requests.

Starts `ssr-serve` (no batch cap: `--max-batch-size` 0 is the default) on an SSR-D ranker over the 10
Frappe fields (vocabularies from frappe-ctr train.csv, untrained weights), then sends `--requests`
Predict requests of `--examples` real test.csv rows each (TFX-typed `tf.Example`s, rows repeated to
reach the count) and records the server's RSS (psutil) before, at its peak during each request
(sampled every 20 ms) and after, with each request's response time. The server scores a large request
`serving.inference.CHUNK_EXAMPLES` examples per signature call, so its peak should stay well under
what scoring the whole request in one call needs.

Usage:

    python benchmarks/serving_memory.py --data ../shared/data/frappe-ctr [--examples 200000] [--requests 3]

Prints a table and writes `benchmarks/results/serving_memory.json`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import tempfile
import threading
import time
from typing import Sequence

# Run as a script, this file's folder comes first on sys.path and would shadow the `serving` package.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import grpc  # noqa: E402
import psutil  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc  # noqa: E402

from serving import inference, testing  # noqa: E402
from ssr_keras.analysis.benchmark_records import write_records  # noqa: E402
from ssr_keras.data import csv_files  # noqa: E402
from ssr_keras.data.layouts import get_layout  # noqa: E402
from ssr_keras.export import layout_example  # noqa: E402

MODEL_NAME = "memory"
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
SAMPLE_SECONDS = 0.02
MB = 1024 * 1024


class PeakRss:
    """Samples a process's RSS in a thread; `peak` is the largest seen since `start`."""

    def __init__(self, process: psutil.Process):
        self.process = process
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(SAMPLE_SECONDS)

    def __enter__(self) -> PeakRss:
        self.peak = self.process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data",
                                                       "frappe-ctr"), help="frappe-ctr folder")
    parser.add_argument("--examples", type=int, default=200_000, help="examples per request")
    parser.add_argument("--requests", type=int, default=3, help="large requests sent one after the other")
    parser.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "results", "serving_memory.json"))
    args = parser.parse_args(argv)

    layout = get_layout("frappe")
    rows = list(csv_files.iter_dict_rows(layout, os.path.join(args.data, "test.csv")))
    serialized = [layout_example(layout, row).SerializeToString() for row in rows]
    examples = list(itertools.islice(itertools.cycle(serialized), args.examples))
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL_NAME
    request.inputs["examples"].CopyFrom(tf.make_tensor_proto(examples, dtype=tf.string))
    request_bytes = request.ByteSize()

    records = []
    with tempfile.TemporaryDirectory() as directory:
        base_path = os.path.join(directory, "models")
        model = testing.export_frappe_ranker(args.data, os.path.join(base_path, "1"), rows)
        print(f"exported: {model}; request of {args.examples} examples, {request_bytes / MB:.1f} MB", flush=True)
        process, port, _ = testing.start_server(["--model-base-path", base_path, "--model-name", MODEL_NAME,
                                                 "--poll-seconds", "0", "--max-message-bytes", str(MAX_MESSAGE_BYTES)])
        try:
            server = psutil.Process(process.pid)
            channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)])
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            small = predict_pb2.PredictRequest()
            small.CopyFrom(request)
            small.inputs["examples"].CopyFrom(tf.make_tensor_proto(examples[:256], dtype=tf.string))
            stub.Predict(small, 120)  # one ordinary request first: the baseline is a server in use
            baseline = server.memory_info().rss
            print(f"server up, RSS {baseline / MB:.0f} MB", flush=True)
            for number in range(1, args.requests + 1):
                with PeakRss(server) as peak:
                    began = time.perf_counter()
                    response = stub.Predict(request, 600)
                    seconds = time.perf_counter() - began
                scores = tf.make_ndarray(response.outputs["probabilities"])
                if scores.shape != (args.examples, 1):
                    raise RuntimeError(f"expected {args.examples} scores, got shape {scores.shape}")
                time.sleep(1.0)
                records.append({
                    "request": number, "examples": args.examples, "request_mb": round(request_bytes / MB, 1),
                    "seconds": round(seconds, 2), "examples_per_sec": round(args.examples / seconds),
                    "rss_before_mb": round(baseline / MB), "rss_peak_mb": round(peak.peak / MB),
                    "rss_after_mb": round(server.memory_info().rss / MB),
                    "chunk_examples": inference.CHUNK_EXAMPLES, "model": model,
                    "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
                    "load_average_1m": round(os.getloadavg()[0], 2),
                })
                print(json.dumps(records[-1]), flush=True)
            channel.close()
        finally:
            process.terminate()
            process.wait(timeout=60)

    print("\n| request | examples | request MB | seconds | RSS before MB | RSS peak MB | RSS after MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in records:
        print(f"| {r['request']} | {r['examples']} | {r['request_mb']} | {r['seconds']:.2f} | {r['rss_before_mb']} "
              f"| {r['rss_peak_mb']} | {r['rss_after_mb']} |")
    write_records(records, args.output)
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
