"""`ModelRegistry`: version policy, labels, retiring versions only after their in-flight requests end."""

import threading

import grpc
import pytest
from tensorflow_serving.apis import get_model_status_pb2, model_pb2

from serving.errors import ServingError
from serving.registry import ModelRegistry
from serving.servable import Servable

State = get_model_status_pb2.ModelVersionStatus


def _fake_load(name, version, path):
    return Servable(name, version, path, signatures={})


def _add_version(base, version):
    (base / str(version)).mkdir()
    (base / str(version) / "saved_model.pb").write_bytes(b"")


def _spec(name="m", version=None, label=None):
    spec = model_pb2.ModelSpec(name=name)
    if version is not None:
        spec.version.value = version
    if label:
        spec.version_label = label
    return spec


def _states(registry):
    return {s.version: s.state for s in registry.statuses(_spec())}


def test_serves_the_newest_versions_and_labelled_ones(tmp_path):
    for version in (1, 2, 3, 4):
        _add_version(tmp_path, version)
    (tmp_path / "not-a-version").mkdir()
    (tmp_path / "7").mkdir()  # no SavedModel in it (yet): not a version
    registry = ModelRegistry("m", str(tmp_path), num_latest_versions=2, version_labels={"stable": 1},
                             load=_fake_load)
    assert registry.refresh() == [1, 3, 4]
    with registry.acquire(_spec()) as servable:
        assert servable.version == 4
    with registry.acquire(_spec(label="stable")) as servable:
        assert servable.version == 1
    with pytest.raises(ServingError) as raised:
        with registry.acquire(_spec(version=2)):
            pass
    assert raised.value.code == grpc.StatusCode.NOT_FOUND
    assert raised.value.message == "Servable not found for request: Specific(m, 2)"


def test_retired_version_stays_until_its_last_request_ends(tmp_path):
    _add_version(tmp_path, 1)
    registry = ModelRegistry("m", str(tmp_path), load=_fake_load)
    registry.refresh()
    with registry.acquire(_spec()) as old:
        _add_version(tmp_path, 2)
        assert registry.refresh() == [2]
        assert _states(registry) == {2: State.AVAILABLE, 1: State.UNLOADING}
        assert old.version == 1  # the in-flight request keeps its version
        with registry.acquire(_spec()) as new:
            assert new.version == 2
    assert _states(registry) == {2: State.AVAILABLE, 1: State.END}


def test_removed_version_is_unloaded_and_older_one_served_again(tmp_path):
    _add_version(tmp_path, 1)
    _add_version(tmp_path, 2)
    registry = ModelRegistry("m", str(tmp_path), load=_fake_load)
    assert registry.refresh() == [2]
    (tmp_path / "2" / "saved_model.pb").unlink()
    assert registry.refresh() == [1]
    assert _states(registry) == {2: State.END, 1: State.AVAILABLE}


def test_failed_load_keeps_serving_and_is_retried_when_files_change(tmp_path):
    _add_version(tmp_path, 1)
    attempts = []

    def load(name, version, path):
        attempts.append(version)
        if version == 2 and len(attempts) < 4:
            raise ValueError("corrupt variables")
        return _fake_load(name, version, path)

    registry = ModelRegistry("m", str(tmp_path), load=load)
    registry.refresh()
    _add_version(tmp_path, 2)
    assert registry.refresh() == [1]
    assert registry.refresh() == [1]  # unchanged files: not retried
    assert attempts == [1, 2]
    (status,) = registry.statuses(_spec(version=2))
    assert status.state == State.END and status.error == "corrupt variables"
    (tmp_path / "2" / "variables.index").write_bytes(b"now complete")
    registry.refresh()  # files changed: retried (and fails once more on purpose)
    (tmp_path / "2" / "variables.data").write_bytes(b"")
    assert registry.refresh() == [2]


def test_warm_up_failure_rejects_the_version(tmp_path):
    _add_version(tmp_path, 1)

    def warm_up(servable):
        raise RuntimeError("warm-up request failed")

    registry = ModelRegistry("m", str(tmp_path), load=_fake_load, warm_up=warm_up)
    assert registry.refresh() == []
    with pytest.raises(ServingError, match="Latest"):
        with registry.acquire(_spec()):
            pass


def test_request_errors(tmp_path):
    _add_version(tmp_path, 1)
    registry = ModelRegistry("m", str(tmp_path), load=_fake_load, version_labels={"stable": 1})
    registry.refresh()
    cases = [(_spec(name="x"), grpc.StatusCode.NOT_FOUND, "Servable not found for request: Latest(x)"),
             (_spec(label="beta"), grpc.StatusCode.INVALID_ARGUMENT, "Unrecognized servable version label: beta")]
    for spec, code, message in cases:
        with pytest.raises(ServingError) as raised:
            with registry.acquire(spec):
                pass
        assert (raised.value.code, raised.value.message) == (code, message)
    with pytest.raises(ServingError, match="Could not find any versions of model x"):
        registry.statuses(_spec(name="x"))


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="model_name"):
        ModelRegistry("", str(tmp_path))
    with pytest.raises(ValueError, match="num_latest_versions"):
        ModelRegistry("m", str(tmp_path), num_latest_versions=0)
    with pytest.raises(FileNotFoundError, match="not a directory"):
        ModelRegistry("m", str(tmp_path / "missing")).refresh()


def test_watcher_reports_changes(tmp_path):
    _add_version(tmp_path, 1)
    registry = ModelRegistry("m", str(tmp_path), load=_fake_load)
    registry.refresh()
    changes = []
    changed = threading.Event()
    registry.start_watching(0.05, on_change=lambda versions: (changes.append(versions), changed.set()))
    try:
        _add_version(tmp_path, 2)
        assert changed.wait(timeout=60)
    finally:
        registry.stop_watching()
    assert changes == [[2]]


def test_memory_is_released_in_a_thread_the_interpreter_joins(tmp_path, monkeypatch):
    # A daemon thread still freeing TensorFlow objects when the interpreter finalises is unwound
    # inside C++ code and aborts the process (seen once as SIGABRT after SIGTERM under load).
    daemon_flags = []
    monkeypatch.setattr("serving.registry.release_memory",
                        lambda: daemon_flags.append(threading.current_thread().daemon))
    _add_version(tmp_path, 1)
    registry = ModelRegistry("m", str(tmp_path), load=_fake_load)
    registry.refresh()
    registry.unload_all()
    for thread in threading.enumerate():
        if thread.name == "release-memory":
            thread.join()
    assert daemon_flags == [False]
