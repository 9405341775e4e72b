"""Hot-swap memory benchmark: the RSS of an `ssr-serve` process as new versions replace old ones.

Starts `ssr-serve` (version policy: the latest version; `--poll-seconds 0.5`) on an SSR-D ranker over the
10 Frappe fields (vocabularies from frappe-ctr train.csv, untrained weights), then `--swaps` times
copies a new version in (atomically: copied aside, then renamed), waits until the server serves it
and has unloaded the previous one, sends one Predict request to it, waits a second (the unloaded
version's memory is given back in the background) and records the server's RSS (psutil). A server that
keeps what an unloaded version held grows by about the version's size at every swap.

Usage:

    python benchmarks/hot_swap_memory.py --data ../shared/data/frappe-ctr [--swaps 20]

Prints a table and writes `benchmarks/results/hot_swap_memory.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from typing import Sequence

# Run as a script, this file's folder comes first on sys.path and would shadow the `serving` package.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import grpc  # noqa: E402
import psutil  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow_serving.apis import (  # noqa: E402
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from serving import testing  # noqa: E402
from ssr_keras.analysis.benchmark_records import write_records  # noqa: E402
from ssr_keras.data import csv_files  # noqa: E402
from ssr_keras.data.layouts import get_layout  # noqa: E402
from ssr_keras.export import layout_example  # noqa: E402

MODEL_NAME = "frappe"
MB = 2 ** 20
SWAP_TIMEOUT_SECONDS = 120


def wait_until_only(stub: model_service_pb2_grpc.ModelServiceStub, version: int) -> None:
    """Polls GetModelStatus until `version` is AVAILABLE and every other version has ENDed."""
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = MODEL_NAME
    deadline = time.monotonic() + SWAP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        states = {s.version: s.state for s in stub.GetModelStatus(request, timeout=30).model_version_status}
        if states.get(version) == get_model_status_pb2.ModelVersionStatus.AVAILABLE and all(
                state == get_model_status_pb2.ModelVersionStatus.END for v, state in states.items() if v != version):
            return
        time.sleep(0.2)
    raise RuntimeError(f"version {version} was not the only one served after {SWAP_TIMEOUT_SECONDS} s: {states}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data",
                                                       "frappe-ctr"), help="frappe-ctr folder")
    parser.add_argument("--swaps", type=int, default=20, help="new versions installed one after the other")
    parser.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "results",
                                                         "hot_swap_memory.json"))
    args = parser.parse_args(argv)

    layout = get_layout("frappe")
    rows = [row for _, row in zip(range(256), csv_files.iter_dict_rows(layout, os.path.join(args.data, "test.csv")))]
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL_NAME
    request.inputs["examples"].CopyFrom(tf.make_tensor_proto(
        [layout_example(layout, row).SerializeToString() for row in rows], dtype=tf.string))

    records = []
    with tempfile.TemporaryDirectory() as directory:
        base_path = os.path.join(directory, "models")
        export = os.path.join(directory, "export")
        model = testing.export_frappe_ranker(args.data, export, rows)
        shutil.copytree(export, os.path.join(base_path, "1"))
        print(f"exported: {model}", flush=True)
        process, port, _ = testing.start_server(["--model-base-path", base_path, "--model-name", MODEL_NAME,
                                                 "--poll-seconds", "0.5"])
        try:
            server = psutil.Process(process.pid)
            channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            predict = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            status = model_service_pb2_grpc.ModelServiceStub(channel)
            predict.Predict(request, 60)
            time.sleep(1.0)
            start = server.memory_info().rss
            print(f"server up, RSS {start / MB:.0f} MB", flush=True)
            for swap in range(1, args.swaps + 1):
                version = swap + 1
                staging = os.path.join(base_path, f".staging-{version}")
                shutil.copytree(export, staging)
                began = time.perf_counter()
                os.rename(staging, os.path.join(base_path, str(version)))
                wait_until_only(status, version)
                seconds = time.perf_counter() - began
                predict.Predict(request, 60)
                time.sleep(1.0)
                rss = server.memory_info().rss
                records.append({
                    "swap": swap, "version": version, "swap_seconds": round(seconds, 2),
                    "rss_mb": round(rss / MB, 1), "rss_growth_mb": round((rss - start) / MB, 1),
                    "model": model, "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
                    "load_average_1m": round(os.getloadavg()[0], 2),
                })
                print(json.dumps({k: records[-1][k] for k in ("swap", "swap_seconds", "rss_mb", "rss_growth_mb")}),
                      flush=True)
                shutil.rmtree(os.path.join(base_path, str(version - 1)))  # unloaded: its files can go
            channel.close()
        finally:
            process.terminate()
            process.wait(timeout=60)

    growth = records[-1]["rss_growth_mb"] if records else 0.0
    print("\n| swaps | RSS MB | growth since the first version MB |")
    print("|---:|---:|---:|")
    for r in records:
        print(f"| {r['swap']} | {r['rss_mb']} | {r['rss_growth_mb']} |")
    print(f"\n{growth / max(len(records), 1):.2f} MB per swap on average")
    write_records(records, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
