"""`ssr-serve` argument handling: fast `--help`, flags in both spellings, start-up errors that say what is wrong."""

import subprocess
import sys

import pytest

from serving import server_cli

pytestmark = pytest.mark.timeout(120)


def test_parse_version_labels():
    assert server_cli.parse_version_labels("stable=3, canary=4") == {"stable": 3, "canary": 4}
    assert server_cli.parse_version_labels("") == {}


@pytest.mark.parametrize("text", ["stable", "stable=x", "=3", "stable=-1"])
def test_parse_version_labels_rejects_malformed_entries(text):
    with pytest.raises(ValueError, match="expected LABEL=VERSION"):
        server_cli.parse_version_labels(text)


def test_help_does_not_import_tensorflow():
    code = ("import sys\nfrom serving import server_cli\ntry:\n    server_cli.main(['--help'])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'grpc', 'numpy', 'tornado')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--rest_api_port" in result.stdout and "--model_config_file" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_tf_serving_and_dashed_spellings(tmp_path):
    args = server_cli.parse_args(["--model_base_path", str(tmp_path), "--model_name", "m", "--rest_api_port", "8501",
                                  "--enable_batching"])
    assert (args.model_base_path, args.model_name, args.rest_api_port, args.enable_batching) == (
        str(tmp_path), "m", 8501, True)
    args = server_cli.parse_args(["--model-base-path", str(tmp_path), "--model-name", "m", "--rest-api-port", "1"])
    assert args.rest_api_port == 1 and args.max_batch_size == 0


@pytest.mark.parametrize("argv, message", [
    (["--model-base-path", "{tmp}/missing", "--model-name", "m"], "--model-base-path {tmp}/missing is not a directory"),
    (["--model-base-path", "{tmp}", "--model-name", "m", "--max-batch-size", "-1"], "--max-batch-size must be >= 0"),
    (["--model-base-path", "{tmp}", "--model-name", "m", "--version-labels", "stable"], "Bad version label 'stable'"),
    (["--model-base-path", "{tmp}"], "give --model-base-path and --model-name, or --model_config_file"),
    (["--model_config_file", "{tmp}/none.config"], "--model_config_file {tmp}/none.config is not a file"),
    (["--model-base-path", "{tmp}", "--model-name", "m", "--batching_parameters_file", "{tmp}/b"],
     "--batching_parameters_file needs --enable_batching"),
])
def test_bad_flags_are_named(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit):
        server_cli.parse_args([a.format(tmp=tmp_path) for a in argv])
    assert message.format(tmp=tmp_path) in capsys.readouterr().err


@pytest.mark.parametrize("layout, message", [
    ({}, "holds no numbered version folder (expected numbered version folders such as {base}/1/saved_model.pb); "
         "found: nothing."),
    ({"saved_model.pb": "", "variables": None}, "is a SavedModel (a version folder), not a base path"),
    ({"latest": None, "notes.txt": ""}, "found: latest, notes.txt."),
])
def test_base_path_without_version_folder_is_a_start_up_error(tmp_path, layout, message):
    base = tmp_path / "base"
    base.mkdir()
    for name, content in layout.items():
        (base / name).mkdir() if content is None else (base / name).write_text(content)
    with pytest.raises(SystemExit) as raised:
        server_cli.main(["--model-base-path", str(base), "--model-name", "m", "--port", "0"])
    assert message.format(base=base) in str(raised.value)
