"""`ssr-serve` as a subprocess: SIGTERM lets an in-flight request finish, then the server exits cleanly."""

import os
import queue
import re
import signal
import subprocess
import sys
import threading

import grpc
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from serving import testing
from ssr_keras.export import export_ranker, make_example

SLOW_BATCH = 1500


class SlowToyParser(testing.ToyExampleParser):
    """The toy parser plus busy work proportional to the batch size: a large batch stays in flight."""

    def call(self, serialized):
        features = super().call(serialized)
        matrix = tf.fill([192, 192], 1e-3)
        spun = tf.while_loop(lambda i, m: i < tf.shape(serialized)[0],
                             lambda i, m: (i + 1, tf.matmul(m, matrix)), (0, matrix))[1]
        # Zero, but data-dependent, so the loop cannot be pruned from the graph.
        features["user"] += tf.cast(tf.reduce_sum(spun) * 0.0, tf.int64)
        return features


@pytest.fixture(scope="module")
def slow_model_base(tmp_path_factory):
    base = tmp_path_factory.mktemp("slow_base")
    export_ranker(testing.build_toy_model(seed=1), str(base / "1"), SlowToyParser(),
                         testing.TOY_FEATURE_COLUMNS, warmup_examples=testing.toy_rows(1))
    return base


def _read_lines(stream, lines: queue.Queue):
    for line in iter(stream.readline, ""):
        lines.put(line)


def _wait_for_line(lines: queue.Queue, pattern: str, log: list, timeout: float = 180.0) -> re.Match:
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"server never logged {pattern!r}; log so far:\n{''.join(log)}")
        log.append(line)
        match = re.search(pattern, line)
        if match:
            return match


def test_sigterm_finishes_in_flight_request_then_exits(slow_model_base):
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.Popen(
        [sys.executable, "-m", "serving.server_cli", "--model-base-path", str(slow_model_base), "--model-name", "slow",
         "--port", "0", "--host", "127.0.0.1", "--poll-seconds", "0", "--max-batch-size", "0",
         "--log-level", "DEBUG"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    lines, log = queue.Queue(), []
    threading.Thread(target=_read_lines, args=(process.stderr, lines), daemon=True).start()
    try:
        port = int(_wait_for_line(lines, r"Serving model slow versions \[1\] on 127\.0\.0\.1:(\d+)", log).group(1))
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "slow"
        request.inputs["examples"].CopyFrom(tf.make_tensor_proto(
            [make_example(row).SerializeToString() for row in testing.toy_rows(SLOW_BATCH)]))
        in_flight = stub.Predict.future(request, timeout=120)
        _wait_for_line(lines, r"Predict slow/latest/serving_default started", log)

        process.send_signal(signal.SIGTERM)
        _wait_for_line(lines, r"Received SIGTERM", log)
        response = in_flight.result()
        assert tf.make_ndarray(response.outputs["probabilities"]).shape == (SLOW_BATCH, 1)
        assert process.wait(timeout=120) == 0
        _wait_for_line(lines, r"Server stopped", log)
        channel.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
