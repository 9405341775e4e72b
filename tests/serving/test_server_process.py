"""`ssr-serve` as a process: a `--model_config_file` with two models, REST, metrics, reload on SIGHUP."""

import signal
import socket
import time

import pytest
import requests

from serving import testing

from .conftest import install_version

pytestmark = pytest.mark.timeout(240)

MODEL = 'config {{ name: "{name}" base_path: "{base}" model_version_policy {{ all {{}} }} }}'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_config(path, bases):
    path.write_text("model_config_list {\n" + "\n".join(MODEL.format(name=n, base=b) for n, b in bases.items())
                    + "\n}\n")


def test_config_file_models_rest_metrics_and_sighup_reload(toy_exports, tmp_path):
    bases = {}
    for name in ("ranker", "retriever"):
        bases[name] = tmp_path / name
        bases[name].mkdir()
        for version, export in toy_exports.items():
            install_version(bases[name], version, export)
    config = tmp_path / "models.config"
    _write_config(config, bases)
    log = []
    process, _, rest_port = testing.start_server(
        ["--model_config_file", str(config), "--rest_api_port", str(_free_port()), "--poll-seconds", "0"], log)
    url = f"http://127.0.0.1:{rest_port}"
    try:
        for name in bases:  # policy `all`: both versions of both models
            status = requests.get(f"{url}/v1/models/{name}", timeout=30).json()["model_version_status"]
            assert [(s["version"], s["state"]) for s in status] == [("2", "AVAILABLE"), ("1", "AVAILABLE")]
        rows = testing.toy_rows(3)
        scores = requests.post(f"{url}/v1/models/ranker/versions/1:regress", timeout=30,
                               json={"signature_name": "regression", "examples": rows})
        assert scores.status_code == 200 and len(scores.json()["result"]) == 3
        metrics = requests.get(f"{url}/monitoring/prometheus/metrics", timeout=30).text
        assert ('ssr_serving_requests_total{api="rest",method="Regress",model="ranker",signature="regression",'
                'status="OK"} 1.0') in metrics

        _write_config(config, {"ranker": bases["ranker"]})
        process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while requests.get(f"{url}/v1/models/retriever", timeout=30).status_code != 404:
            assert time.monotonic() < deadline, "".join(log[-20:])
            time.sleep(0.1)
        assert requests.get(f"{url}/v1/models/ranker", timeout=30).status_code == 200
        assert any("Model retriever was removed from the config" in line for line in log)
    finally:
        process.terminate()
        # Once in a fresh-clone run under load the server died with SIGABRT (-6) here: keep its log.
        assert process.wait(timeout=60) == 0, "".join(log[-40:])
