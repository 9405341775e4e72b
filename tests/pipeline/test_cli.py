"""`ssr-pipeline` command line: help, options, data slicing and clear failures."""

import json
import os
import subprocess
import sys

import pytest

from pipeline import cli
from ssr_keras.training import TrainConfig, read_config_mapping


def test_console_script_help_lists_the_run_options():
    script = os.path.join(os.path.dirname(sys.executable), "ssr-pipeline")
    result = subprocess.run([script, "run", "--help"], capture_output=True, text=True, check=True)
    for option in ("--data", "--layout", "--model", "--output", "--beam-arg", "--min-auc", "--max-auc-drop",
                   "--max-rows", "--config", "--train-steps", "--metadata"):
        assert option in result.stdout, option


@pytest.mark.parametrize("argv, message", [
    (["run", "--data", "d", "--layout", "nope", "--model", "ssr-d", "--output", "o"], "invalid choice: 'nope'"),
    (["run", "--data", "d", "--layout", "frappe", "--model", "mlp", "--output", "o"], "invalid choice: 'mlp'"),
    (["run", "--layout", "frappe", "--model", "ssr-d", "--output", "o"], "--data"),
])
def test_bad_arguments_exit_with_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_flags_override_config_json_and_config_may_be_a_file(tmp_path):
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps({"epochs": 5, "seed": 3, "backbone_config": {"num_views": 4}}))
    args = cli.build_parser().parse_args(["run", "--data", "d", "--layout", "frappe", "--model", "dnn",
                                          "--output", "o", "--epochs", "2", "--config", str(config_file)])
    assert cli.training_config(args) == TrainConfig(layout="frappe", backbone="dnn", epochs=2, seed=3,
                                                    backbone_config={"num_views": 4})


@pytest.mark.parametrize("value, message", [("[1, 2]", "JSON object"), ("{bad", "invalid JSON"),
                                            ("missing.json", "no such file")])
def test_bad_config_is_reported(value, message):
    with pytest.raises(ValueError, match=message):
        read_config_mapping(value)


def test_unknown_config_key_is_reported_before_anything_runs():
    args = cli.build_parser().parse_args(["run", "--data", "d", "--layout", "frappe", "--model", "dnn",
                                          "--output", "o", "--config", '{"epoch": 3}'])
    with pytest.raises(ValueError, match=r"Unknown training config key\(s\) \['epoch'\]"):
        cli.training_config(args)


def test_slice_data_keeps_header_and_first_rows_and_leaves_unchanged_files_alone(tmp_path):
    source = tmp_path / "data"
    source.mkdir()
    (source / "train.csv").write_text("a,b\n1,2\n3,4\n5,6\n")
    destination = tmp_path / "slice"

    cli.slice_data(str(source), str(destination), max_rows=2)
    first_mtime = os.stat(destination / "train.csv").st_mtime_ns
    cli.slice_data(str(source), str(destination), max_rows=2)

    assert (destination / "train.csv").read_text() == "a,b\n1,2\n3,4\n"
    # ExampleGen fingerprints modification times: an unchanged slice must not be rewritten.
    assert os.stat(destination / "train.csv").st_mtime_ns == first_mtime


def test_non_numeric_label_stops_the_run_with_the_column_named(tmp_path, data_dir, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("train.csv", "valid.csv"):
        with open(data_dir / "frappe-ctr" / name, encoding="utf-8") as f:
            lines = [next(f) for _ in range(30)]
        if name == "train.csv":
            lines[7] = "yes" + lines[7][1:]
        (data / name).write_text("".join(lines), encoding="utf-8")

    code = cli.main(["run", "--data", str(data), "--layout", "frappe", "--model", "dnn",
                     "--output", str(tmp_path / "out")])

    assert code == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("ssr-pipeline: error:")
    assert "train.csv, line 8, column 'label': expected a number, found 'yes'" in error
    assert not (tmp_path / "out" / "serving").exists()
