"""Many models: `--model_config_file` parsing, version policies, adding and removing models live."""

import threading

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import get_model_status_pb2, model_pb2, predict_pb2

from serving import testing
from serving.errors import ServingError
from serving.model_manager import ModelConfig, ModelManager, read_model_config
from serving.registry import ModelRegistry
from serving.servable import Servable
from serving.version_policy import VersionPolicy
from ssr_keras.export import make_example

from .conftest import install_version
from .servers import serve_models

pytestmark = pytest.mark.timeout(180)
State = get_model_status_pb2.ModelVersionStatus

CONFIG = """
model_config_list {
  config {
    name: "ranker"
    base_path: "%(ranker)s"
    model_platform: "tensorflow"
    model_version_policy { specific { versions: 1 versions: 3 } }
    version_labels { key: "stable" value: 1 }
  }
  config {
    name: "retriever"
    base_path: "%(retriever)s"
    model_version_policy { all {} }
  }
  config { name: "third" base_path: "/models/third" model_version_policy { latest { num_versions: 2 } } }
}
"""


def _fake_load(name, version, path):
    return Servable(name, version, path, signatures={})


def _add_version(base, version):
    (base / str(version)).mkdir(parents=True)
    (base / str(version) / "saved_model.pb").write_bytes(b"")


def _spec(name, version=None, label=None):
    spec = model_pb2.ModelSpec(name=name)
    if version is not None:
        spec.version.value = version
    if label:
        spec.version_label = label
    return spec


def _fake_manager():
    return ModelManager(lambda c: ModelRegistry(c.name, c.base_path, version_labels=c.version_labels,
                                                version_policy=c.version_policy, load=_fake_load))


def test_reads_tf_serving_model_server_config(tmp_path):
    path = tmp_path / "models.config"
    path.write_text(CONFIG % {"ranker": "/models/ranker", "retriever": "/models/retriever"})
    ranker, retriever, third = read_model_config(str(path))
    assert ranker == ModelConfig("ranker", "/models/ranker", VersionPolicy.specific_versions([1, 3]), {"stable": 1})
    assert retriever.version_policy == VersionPolicy.every_version()
    assert third.version_policy == VersionPolicy.latest_versions(2)


@pytest.mark.parametrize("text, message", [
    ("model_config_list { config { name: 'a' } }", "every config needs a name and a base_path"),
    ("model_config_list { config { name: 'a' base_path: '/a' } config { name: 'a' base_path: '/b' } }",
     "configured twice"),
    ("model_config_list { config { name: 'a' base_path: '/a' model_platform: 'onnx' } }", "'onnx' is not served"),
    ("model_config_list { config { name: 'a' base_path: '/a' bogus: 1 } }", "not a text-format ModelServerConfig"),
])
def test_bad_config_files_are_named(tmp_path, text, message):
    path = tmp_path / "models.config"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as raised:
        read_model_config(str(path))
    assert str(path) in str(raised.value)


def test_version_policies(tmp_path):
    for version in (1, 2, 3, 4):
        _add_version(tmp_path / "m", version)
    manager = _fake_manager()
    base = str(tmp_path / "m")
    assert manager.apply([ModelConfig("m", base)]) == {"m": [4]}
    assert manager.apply([ModelConfig("m", base, VersionPolicy.latest_versions(2))]) == {"m": [3, 4]}
    assert manager.apply([ModelConfig("m", base, VersionPolicy.specific_versions([1, 3, 9]))]) == {"m": [1, 3]}
    assert manager.apply([ModelConfig("m", base, VersionPolicy.every_version(), {"canary": 2})]) == {"m": [1, 2, 3, 4]}
    with manager.acquire(_spec("m", label="canary")) as servable:
        assert servable.version == 2


def test_removed_model_finishes_in_flight_requests_then_unloads(tmp_path):
    _add_version(tmp_path / "a", 1)
    _add_version(tmp_path / "b", 1)
    manager = _fake_manager()
    both = [ModelConfig("a", str(tmp_path / "a")), ModelConfig("b", str(tmp_path / "b"))]
    assert manager.apply(both) == {"a": [1], "b": [1]}
    registry_b = manager.registry("b")
    with manager.acquire(_spec("b")) as in_flight:
        assert manager.apply(both[:1]) == {"a": [1]}
        with pytest.raises(ServingError) as raised:  # new requests: NOT_FOUND at once
            with manager.acquire(_spec("b")):
                pass
        assert raised.value.code == grpc.StatusCode.NOT_FOUND
        assert in_flight.version == 1  # the in-flight request keeps its version...
        assert [s.state for s in registry_b.statuses(_spec("b"))] == [State.UNLOADING]
    assert [s.state for s in registry_b.statuses(_spec("b"))] == [State.END]  # ...unloaded once it ends
    assert manager.apply(both) == {"a": [1], "b": [1]}  # added back: loaded again


def test_reload_skips_a_broken_file_and_keeps_serving(tmp_path):
    _add_version(tmp_path / "a", 1)
    manager = _fake_manager()
    manager.apply([ModelConfig("a", str(tmp_path / "a"))])

    def broken():
        raise ValueError("--model_config_file x: not a text-format ModelServerConfig")

    assert manager.reload(broken) is False
    assert manager.served_versions() == {"a": [1]}


def _predict(running, name, rows):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    request.inputs["examples"].CopyFrom(tf.make_tensor_proto([make_example(r).SerializeToString() for r in rows]))
    return tf.make_ndarray(running.prediction.Predict(request, 30).outputs["probabilities"])


def test_two_models_served_at_once_and_one_removed_under_load(toy_exports, tmp_path):
    for name, version in (("ranker", 1), ("retriever", 2)):
        (tmp_path / name).mkdir()
        install_version(tmp_path / name, version, toy_exports[version])
    configs = [ModelConfig("ranker", str(tmp_path / "ranker")), ModelConfig("retriever", str(tmp_path / "retriever"))]
    rows = testing.toy_rows(8)
    with serve_models(configs) as running:
        ranker, retriever = _predict(running, "ranker", rows), _predict(running, "retriever", rows)
        assert not np.array_equal(ranker, retriever)  # two different models answer
        stop, outcomes = threading.Event(), []

        def hammer():
            while not stop.is_set():
                try:
                    _predict(running, "retriever", rows)
                    outcomes.append("OK")
                except grpc.RpcError as error:
                    outcomes.append(error.code().name if error.code() == grpc.StatusCode.NOT_FOUND
                                    else f"{error.code().name}: {error.details()}")

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            while len(outcomes) < 20:
                threading.Event().wait(0.01)
            running.manager.apply(configs[:1])
            count = len(outcomes)
            while len(outcomes) < count + 20:
                threading.Event().wait(0.01)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        # Before the removal every request succeeds; after it, new requests get NOT_FOUND while the ones
        # in flight (at most one per client) still finish OK on the version they hold: none fails.
        first_not_found = outcomes.index("NOT_FOUND")
        assert set(outcomes[:first_not_found]) == {"OK"}
        assert set(outcomes[first_not_found:]) <= {"OK", "NOT_FOUND"}, outcomes
        assert outcomes[first_not_found:].count("OK") <= len(threads)
        with pytest.raises(grpc.RpcError) as raised:
            _predict(running, "retriever", rows)
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND
        np.testing.assert_array_equal(_predict(running, "ranker", rows), ranker)


def test_config_file_is_polled_for_changes(tmp_path):
    _add_version(tmp_path / "a", 1)
    _add_version(tmp_path / "b", 1)
    path = tmp_path / "models.config"
    entry = 'config {{ name: "{0}" base_path: "{1}" }}'
    path.write_text(f"model_config_list {{ {entry.format('a', tmp_path / 'a')} }}")
    manager = _fake_manager()
    manager.apply(read_model_config(str(path)))
    manager.watch_config(lambda: read_model_config(str(path)), poll_seconds=0.05)
    try:
        path.write_text(f"model_config_list {{ {entry.format('b', tmp_path / 'b')} }}")
        for _ in range(400):
            if manager.served_versions() == {"b": [1]}:
                break
            threading.Event().wait(0.05)
        assert manager.served_versions() == {"b": [1]}
    finally:
        manager.stop_watching()
