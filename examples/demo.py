"""The main job end to end: TFX pipeline on CSV -> pushed model -> gRPC server -> client scores and test AUC.

Runs, as separate processes and exactly as a user would from a shell:
  1. `ssr-pipeline run` on the data's train/valid split (ExampleGen ... Evaluator -> Pusher),
  2. `ssr-serve` on the pushed model folder (TF Serving layout), bound to 127.0.0.1 only, waiting until
     the model is AVAILABLE,
  3. `ssr-client` sending the held-out `test.csv` rows over gRPC (Predict), printing scores and the AUC,
  4. then stops the server with SIGTERM (graceful shutdown).

The training recipe is `ssr_keras.training.TrainConfig`'s defaults, the same a user gets from
`ssr-pipeline run`; the demo only caps the epochs to keep its run short.

Usage:
    python -m examples.demo --data ../shared/data/frappe-ctr --output runs/demo [--model ssr-d]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
from typing import List

import grpc
from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _step(title: str) -> None:
    print(f"\n=== {title} ===", flush=True)


def _run(args: List[str]) -> None:
    print("$ " + " ".join(args), flush=True)
    subprocess.run(args, check=True)


def _wait_until_available(host_port: str, model_name: str, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(host_port) as channel:
        stub = model_service_pb2_grpc.ModelServiceStub(channel)
        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = model_name
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SystemExit(f"the server exited with code {server.returncode} before serving")
            try:
                status = stub.GetModelStatus(request, timeout=2)
                if any(v.state == v.AVAILABLE for v in status.model_version_status):
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.5)
    raise SystemExit(f"model {model_name!r} was not AVAILABLE on {host_port} within {timeout:.0f} s")


def main(argv: List[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="folder with the layout's train.csv, valid.csv, test.csv")
    parser.add_argument("--layout", default="frappe")
    parser.add_argument("--model", default="ssr-d", help="backbone: ssr-d, ssr-s, dnn or dcnv2")
    parser.add_argument("--model-name", default="ssr")
    parser.add_argument("--output", default="runs/demo", help="pipeline root and serving base folder")
    parser.add_argument("--epochs", type=int, default=4, help="maximum training epochs")
    parser.add_argument("--max-test-rows", type=int, default=0, help="0 sends every test row")
    args, pipeline_extra = parser.parse_known_args(argv)

    data, output = pathlib.Path(args.data), pathlib.Path(args.output)
    test_csv = data / "test.csv"
    if not test_csv.is_file():
        raise SystemExit(f"--data {data}: no test.csv to send to the server")
    python = sys.executable

    _step(f"1/3 TFX pipeline: {args.layout} -> {args.model} -> push")
    _run([python, "-m", "pipeline.cli", "run", "--data", str(data), "--layout", args.layout, "--model", args.model,
          "--model-name", args.model_name, "--output", str(output), "--epochs", str(args.epochs)] + pipeline_extra)
    base_path = output / "serving" / args.model_name
    if not base_path.is_dir() or not any(p.name.isdigit() for p in base_path.iterdir()):
        raise SystemExit(f"no pushed model under {base_path}: the Evaluator did not bless the model")

    _step("2/3 gRPC server (TF Serving PredictionService API)")
    port = _free_port()
    host_port = f"{HOST}:{port}"
    # `ssr-serve`'s own entry point; it binds HOST only (its default, 0.0.0.0, would be every interface).
    server_cmd = [python, "-m", "serving.server_cli", "--model-base-path", str(base_path),
                  "--model-name", args.model_name, "--host", HOST, "--port", str(port)]
    print(f"binding {host_port} only (loopback: not reachable from other machines)", flush=True)
    print("$ " + " ".join(server_cmd), flush=True)
    server = subprocess.Popen(server_cmd, env=dict(os.environ))
    try:
        _wait_until_available(host_port, args.model_name, server, timeout=180)
        print(f"serving {args.model_name!r} on {host_port}", flush=True)

        _step("3/3 client: held-out test rows over gRPC")
        client_cmd = [python, "-m", "serving.client_cli", "--layout", args.layout, "--csv", str(test_csv),
                      "--server", host_port, "--model-name", args.model_name]
        if args.max_test_rows:
            client_cmd += ["--max-rows", str(args.max_test_rows)]
        _run(client_cmd)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            code = server.wait()
        print(f"server stopped (exit code {code})", flush=True)


if __name__ == "__main__":
    main()
