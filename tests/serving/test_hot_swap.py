"""Version hot swap under 8 concurrent clients: zero failed requests, responses move to the new version."""

import threading
import time

import grpc
import pytest
import tensorflow as tf
from tensorflow_serving.apis import get_model_status_pb2, predict_pb2

from serving import testing
from ssr_keras.export import make_example

from .conftest import MODEL_NAME, install_version, serve

CLIENTS = 8
State = get_model_status_pb2.ModelVersionStatus


def _request():
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL_NAME
    request.inputs["examples"].CopyFrom(
        tf.make_tensor_proto([make_example(row).SerializeToString() for row in testing.toy_rows(8)]))
    return request


def _wait_for(condition, what, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _status(served):
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = MODEL_NAME
    return {s.version: (s.state, s.status.error_message)
            for s in served.model.GetModelStatus(request, 10).model_version_status}


def test_swap_under_concurrent_load_fails_no_request(toy_exports, tmp_path):
    install_version(tmp_path, 1, toy_exports[1])
    with serve(tmp_path, poll_seconds=0.1) as served:
        request = _request()
        stop = threading.Event()
        versions = [[] for _ in range(CLIENTS)]
        failures = []

        def hammer(seen):
            while not stop.is_set():
                try:
                    seen.append(served.prediction.Predict(request, 30).model_spec.version.value)
                except grpc.RpcError as error:
                    failures.append(f"{error.code().name}: {error.details()}")

        threads = [threading.Thread(target=hammer, args=(seen,)) for seen in versions]
        for thread in threads:
            thread.start()
        try:
            _wait_for(lambda: all(len(seen) >= 10 for seen in versions), "every client to be served v1")
            install_version(tmp_path, 2, toy_exports[2])
            _wait_for(lambda: all(seen and seen[-1] == 2 for seen in versions), "every client to reach v2")
            marks = [len(seen) for seen in versions]
            _wait_for(lambda: all(len(seen) >= mark + 10 for seen, mark in zip(versions, marks)),
                      "more requests on v2")
        finally:
            stop.set()
            for thread in threads:
                thread.join()

        assert failures == []
        for seen in versions:
            assert seen[0] == 1 and seen[-1] == 2
            # Each client's requests are sequential: once one saw v2, none may go back to v1.
            assert seen == sorted(seen)
        _wait_for(lambda: _status(served).get(1, (None,))[0] == State.END, "version 1 to be unloaded")
        assert _status(served)[2][0] == State.AVAILABLE
        assert served.registry.served_versions() == [2]


def test_a_broken_new_version_keeps_the_old_one_serving(toy_exports, tmp_path):
    install_version(tmp_path, 1, toy_exports[1])
    with serve(tmp_path, poll_seconds=0.1) as served:
        broken = tmp_path / "3"
        broken.mkdir()
        (broken / "saved_model.pb").write_bytes(b"not a SavedModel")
        _wait_for(lambda: 3 in _status(served), "version 3 to be tried")
        state, error = _status(served)[3]
        assert state == State.END and error
        assert served.prediction.Predict(_request(), 10).model_spec.version.value == 1
        # Fixing the version's files makes the watcher try it again.
        broken.rename(tmp_path / ".broken")
        install_version(tmp_path, 3, toy_exports[2])
        _wait_for(lambda: served.registry.served_versions() == [3], "the repaired version 3")
        assert served.prediction.Predict(_request(), 10).model_spec.version.value == 3
