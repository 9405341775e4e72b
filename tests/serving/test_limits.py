"""No batch cap by default, large requests scored in chunks, bounded server memory, sanitised logs.

Memory bound checked here (toy model, 50,000 examples in one Predict): the server's RSS after the
request is at most `RSS_GROWTH_BOUND_MB` above its RSS before it. The 200,000-example frappe figure is
measured by `benchmarks/serving_memory.py` (`benchmarks/results/serving_memory.json`).
"""

from __future__ import annotations

import logging
import os
import re
import time

import grpc
import numpy as np
import psutil
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from serving import errors, inference, server_cli, testing
from ssr_keras.export import make_example

from .conftest import MODEL_NAME, serve

RSS_GROWTH_BOUND_MB = 200
LARGE_REQUEST = 50_000
# Marks the bytes of a bad request, to look for in the logs (with bytes no log line may carry raw).
MARKER = "SECRET-PAYLOAD"


def _predict(examples, name=MODEL_NAME) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    request.inputs["examples"].CopyFrom(tf.make_tensor_proto(examples, dtype=tf.string))
    return request


def _bad_example() -> bytes:
    # The toy model wants bytes features: an int64 `user` fails parsing; the bytes `item` is junk.
    example = tf.train.Example()
    example.features.feature["user"].int64_list.value.append(7)
    example.features.feature["item"].bytes_list.value.append(f"{MARKER}\n\x00\x1b[31m\xff".encode("latin-1") * 50)
    return example.SerializeToString()


def test_no_batch_cap_by_default():
    assert inference.Limits().max_batch_size == 0
    assert server_cli.DEFAULT_MAX_BATCH_SIZE == 0


def test_a_configured_cap_answers_as_tf_serving(two_versions):
    rows = [make_example(row).SerializeToString() for row in testing.toy_rows(5)]
    with serve(two_versions, max_batch_size=4) as served:
        with pytest.raises(grpc.RpcError) as error:
            served.prediction.Predict(_predict(rows), 30)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details() == "Task size 5 is larger than maximum input batch size 4"


def test_requests_larger_than_a_chunk_score_as_one_call(two_versions, monkeypatch):
    rows = [make_example(row).SerializeToString() for row in testing.toy_rows(23, seed=3)]
    with serve(two_versions, max_batch_size=0) as served:
        whole = tf.make_ndarray(served.prediction.Predict(_predict(rows), 30).outputs["probabilities"])
        calls = []
        original = inference.Signature.run

        def counting_run(self, inputs):
            calls.append(len(next(iter(inputs.values()))))
            return original(self, inputs)

        monkeypatch.setattr(inference, "CHUNK_EXAMPLES", 5)
        monkeypatch.setattr(inference.Signature, "run", counting_run)
        chunked = tf.make_ndarray(served.prediction.Predict(_predict(rows), 30).outputs["probabilities"])
    assert calls == [5, 5, 5, 5, 3]
    np.testing.assert_allclose(chunked, whole, rtol=1e-6)


def test_a_failed_request_logs_one_escaped_truncated_line(two_versions, caplog):
    with serve(two_versions) as served, caplog.at_level(logging.INFO, logger="serving.servicer"):
        with pytest.raises(grpc.RpcError) as error:
            served.prediction.Predict(_predict([_bad_example()]), 30)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Key: user" in error.value.details()
    lines = [r.getMessage() for r in caplog.records if r.name == "serving.servicer"]
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith(f"Predict {MODEL_NAME}/latest/serving_default -> INVALID_ARGUMENT: ")
    reason = line.split(" -> INVALID_ARGUMENT: ", 1)[1]
    assert len(reason) <= errors.MAX_LOG_REASON_CHARS
    assert re.fullmatch(r"[ -~]*", line), line  # printable ASCII only: no newline, escape, NUL or \xff
    assert re.fullmatch(r"[ -~]*", error.value.details())


def test_server_process_keeps_request_bytes_out_of_its_log_and_its_memory_bounded(two_versions, monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # the server must set it itself
    log = []
    process, port, _ = testing.start_server(["--model-base-path", str(two_versions), "--model-name", MODEL_NAME,
                                             "--poll-seconds", "0", "--max-message-bytes", str(16 << 20)], log=log)
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 16 << 20)])
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        small = [make_example(row).SerializeToString() for row in testing.toy_rows(64)]
        stub.Predict(_predict(small), 60)
        for _ in range(3):
            with pytest.raises(grpc.RpcError) as error:
                stub.Predict(_predict([_bad_example()]), 60)
            assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT

        server = psutil.Process(process.pid)
        before = server.memory_info().rss
        large = small * (LARGE_REQUEST // len(small)) + small[:LARGE_REQUEST % len(small)]
        response = stub.Predict(_predict(large), 300)
        assert tf.make_ndarray(response.outputs["probabilities"]).shape == (LARGE_REQUEST, 1)
        after = server.memory_info().rss
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=60)
    time.sleep(0.2)  # the log thread reads the last lines
    text = "".join(log)
    assert (after - before) / 2**20 <= RSS_GROWTH_BOUND_MB, (before, after)
    assert "OP_REQUIRES" not in text  # TensorFlow's C++ warning quoting the request
    failures = [line for line in log if "-> INVALID_ARGUMENT" in line]
    assert len(failures) == 3, text[-2000:]
    assert all(line in failures for line in log if MARKER in line)  # request data only in the (escaped) reason
    assert all(re.fullmatch(r"[ -~]*\n?", line) for line in log), [line for line in log
                                                                   if not re.fullmatch(r"[ -~]*\n?", line)][:3]
    assert os.environ.get("TF_CPP_MIN_LOG_LEVEL") is None
