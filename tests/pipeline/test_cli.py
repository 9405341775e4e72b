"""`ssr-pipeline` command line: help, options, data slicing and clear failures."""

import functools
import io
import json
import logging
import os
import subprocess
import sys

import pytest
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from pipeline import cli, run_command, transform
from pipeline.progress import ComponentProgress
from ssr_keras.data import layouts
from ssr_keras.training import TrainConfig, read_config_mapping


def test_console_script_help_lists_the_run_options():
    script = os.path.join(os.path.dirname(sys.executable), "ssr-pipeline")
    result = subprocess.run([script, "run", "--help"], capture_output=True, text=True, check=True)
    for option in ("--data", "--layout", "--model", "--output", "--beam-arg", "--min-auc", "--max-auc-drop",
                   "--max-rows", "--config", "--train-steps", "--metadata"):
        assert option in result.stdout, option


@pytest.mark.parametrize("argv, message", [
    (["run", "--data", "d", "--layout", "nope", "--model", "ssr-d", "--output", "o"],
     "argument --layout: unknown layout 'nope'; expected one of ['avazu', 'criteo', 'frappe'"),
    (["run", "--data", "d", "--layout", "nope.yaml", "--model", "ssr-d", "--output", "o"],
     "argument --layout: nope.yaml: cannot read the layout file"),
    (["run", "--layout", "frappe", "--model", "ssr-d", "--output", "o"], "--data"),
    (["run", "--data", "d", "--layout", "frappe", "--model", "ssr-d", "--output", "o", "--epochs", "0"],
     "argument --epochs: expected an integer >= 1, got 0"),
])
def test_bad_arguments_exit_with_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_unknown_backbone_is_one_line_and_exit_code_2(tmp_path, capsys):
    code = cli.main(["run", "--data", str(tmp_path), "--layout", "frappe", "--model", "mlp", "--output",
                     str(tmp_path / "o")])
    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error == ["ssr-pipeline: error: backbone must be one of ['ssr-d', 'ssr-s', 'dnn', 'dcnv2']. "
                     "Received: 'mlp'"]


def test_flags_override_config_json_and_config_may_be_a_file(tmp_path):
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps({"epochs": 5, "seed": 3, "backbone_config": {"num_views": 4}}))
    args = cli.build_parser().parse_args(["run", "--data", "d", "--layout", "frappe", "--model", "dnn",
                                          "--output", "o", "--epochs", "2", "--config", str(config_file)])
    assert run_command.training_config(args) == TrainConfig(layout="frappe", backbone="dnn", epochs=2, seed=3,
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
        run_command.training_config(args)


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

    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("ssr-pipeline: error:")
    assert "train.csv, line 8, column 'label': expected a number, found 'yes'" in error
    assert not (tmp_path / "out" / "serving").exists()


def test_progress_prints_one_line_per_event_and_writes_each_component_log(tmp_path):
    stream = io.StringIO()
    progress = ComponentProgress(stream=stream, log_dir=str(tmp_path)).install()
    try:
        absl = logging.getLogger("absl")
        absl.info("Component Transform is running.")
        absl.info("artifact dump " * 500)
        absl.warning("something deprecated")
        os.write(1, b"a subprocess or library printing on stdout\n")  # as the setuptools subprocess TFX runs
        absl.info("Component Transform is finished.")
    finally:
        progress.uninstall()
    assert stream.getvalue().splitlines() == [
        "[ssr-pipeline] Transform: running", "[ssr-pipeline] Transform: done in 0.0 s (1 warning in its log)"]
    transform_log = (tmp_path / "Transform.log").read_text(encoding="utf-8")
    assert "artifact dump" in transform_log and "something deprecated" in transform_log
    assert "a subprocess or library printing on stdout" in (tmp_path / "console.log").read_text(encoding="utf-8")
    assert set(progress.log_files) == {"Transform", "console"}


def test_a_layout_file_reaches_transform_inline_with_quantile_edges(tmp_path):
    """`--layout FILE`: the components get the layout inline (`Layout.reference`), Transform computes edges."""
    layout_file = tmp_path / "shop.yaml"
    layout_file.write_text("name: shop\nlabel: y\ncolumns:\n  - {name: y}\n  - {name: u}\n"
                           "  - {name: p, kind: numeric, dtype: float, bucketing: {quantiles: 4}}\n", encoding="utf-8")
    reference = layouts.get_layout(str(layout_file)).reference
    assert reference.startswith("{") and layouts.get_layout(reference).quantile_columns == {"p": 4}
    spec = {"u": tf.io.FixedLenFeature([], tf.string), "p": tf.io.FixedLenFeature([], tf.string),
            "label": tf.io.FixedLenFeature([], tf.float32)}
    rows = [{"u": f"u{i % 3}", "p": str(float(i)), "label": float(i % 2)} for i in range(1, 101)]
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    with tft_beam.Context(temp_dir=str(tmp_path / "tmp")):
        transform_fn = (rows, metadata) | tft_beam.AnalyzeDataset(functools.partial(
            transform.preprocessing_fn, custom_config={"layout": reference, "label_key": "label"}))
        (transformed, _) = ((rows[::10], metadata), transform_fn) | tft_beam.TransformDataset()
    buckets = [row["p"] for row in transformed]  # p = 1, 11, ..., 91 against edges near 25, 50, 75
    assert len(set(buckets)) == 4 and buckets[0] == buckets[2] and buckets[3] == buckets[4] != buckets[0]
