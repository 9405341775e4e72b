"""`ssr-client`: --help, CSV -> tf.Example requests against a server, AUC and log-loss at the end."""

import os
import pathlib
import subprocess
import sys

import pytest

from serving import client_cli
from ssr_keras.data import layouts

from .conftest import MODEL_NAME, serve


def _script(name):
    """A console script of this environment (the venv's bin may not be on PATH)."""
    return os.path.join(os.path.dirname(sys.executable), name)


@pytest.fixture(scope="module")
def served(two_versions):
    with serve(two_versions, max_batch_size=256) as running:
        yield running


def test_help_lists_the_options():
    result = subprocess.run([_script("ssr-client"), "--help"], capture_output=True, text=True, check=True)
    for option in ("--layout", "--csv", "--server", "--model-name", "--method", "--signature", "--batch-size",
                   "--max-rows", "--version"):
        assert option in result.stdout


def test_serve_help_lists_the_options():
    result = subprocess.run([_script("ssr-serve"), "--help"], capture_output=True, text=True, check=True)
    for option in ("--model-base-path", "--model-name", "--port", "--num-threads", "--max-message-bytes",
                   "--max-batch-size", "--version-labels", "--poll-seconds"):
        assert option in result.stdout


@pytest.fixture(scope="module")
def frappe_as_bytes(tmp_path_factory):
    """The frappe layout with every column typed bytes: what the toy model (bytes `user`, `item`) reads."""
    text = (pathlib.Path(layouts.__file__).parent / "builtin_layouts" / "frappe.yaml").read_text(encoding="utf-8")
    path = tmp_path_factory.mktemp("layouts") / "frappe-bytes.yaml"
    path.write_text(text.replace(", dtype: int64}", "}"), encoding="utf-8")
    return path


@pytest.mark.parametrize("method", ["predict", "classify"])
def test_scores_frappe_rows_and_reports_auc(served, data_dir, capsys, method, frappe_as_bytes):
    # The toy model reads `user` and `item`; the other frappe columns are extra features it ignores.
    code = client_cli.main(["--layout", str(frappe_as_bytes), "--csv", str(data_dir / "frappe-ctr" / "test.csv"),
                        "--server", served.address, "--model-name", MODEL_NAME, "--method", method,
                        "--batch-size", "100", "--max-rows", "250", "--show", "3", "--version", "2"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[0] == "row\tscore\tlabel"
    assert len([line for line in out.splitlines() if line[:1].isdigit()]) == 3
    assert "scored 250 rows" in out and "version(s) [2]" in out
    assert "AUC " in out and "log-loss " in out


def test_reports_server_errors(served, data_dir, capsys):
    code = client_cli.main(["--layout", "frappe", "--csv", str(data_dir / "frappe-ctr" / "test.csv"),
                        "--server", served.address, "--model-name", "missing", "--max-rows", "5"])
    assert code == 1
    assert "NOT_FOUND: Servable not found for request: Latest(missing)" in capsys.readouterr().err
