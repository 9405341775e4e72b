import json

import pytest
import tensorflow as tf

from ssr_keras.cli import analyze, train, train_command
from ssr_keras.data.layouts import get_layout
from ssr_keras.export.tf_example import layout_example

pytestmark = pytest.mark.slow

FRAPPE_COLUMNS = get_layout("frappe").columns


@pytest.mark.parametrize("module, prog", [(train, "ssr-train"), (analyze, "ssr-analyze")])
def test_help(module, prog, capsys):
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: {prog}" in out and "--model" in out


@pytest.mark.parametrize("config, message", [
    ("[1, 2]", "--config: expected a JSON object of training config keys, got [1, 2]"),
    ('{"epoch": 2}', r"Unknown training config key(s) ['epoch']"),
    ('{"backbone_config": {}, "embedding_l2": -1}', "embedding_l2 must be a number >= 0. Received: -1"),
])
def test_bad_config_is_one_line_and_exit_code_2(config, message, capsys):
    assert train.main(["--data", "x", "--layout", "frappe", "--output", "y", "--config", config]) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("ssr-train: error:")


def test_flags_win_over_config_and_defaults_are_the_recipe():
    args = train.build_parser().parse_args(["--data", "x", "--layout", "frappe", "--output", "y", "--epochs", "3",
                                            "--config", '{"epochs": 7, "seed": 4, "backbone": "dnn"}'])
    config = train_command.train_config(args)
    assert (config.epochs, config.seed, config.backbone) == (3, 4, "dnn")
    assert (config.embedding_normalization, config.embedding_l2) == ("batch", 1e-3)


def test_embedding_options_flag_reaches_the_config_and_bad_json_is_a_usage_error(capsys):
    args = train.build_parser().parse_args(["--data", "x", "--layout", "frappe", "--output", "y",
                                            "--embedding", "baco", "--embedding-options", '{"levels": 5}'])
    assert train_command.train_config(args).embedding_options == {"levels": 5}
    with pytest.raises(SystemExit):
        train.build_parser().parse_args(["--data", "x", "--layout", "frappe", "--output", "y",
                                         "--embedding-options", "[5]"])
    assert "--embedding-options: expected a JSON object, got [5]. Received: '[5]'" in capsys.readouterr().err


def test_old_style_backbone_config_still_works_with_a_deprecation_message(capsys):
    args = train.build_parser().parse_args(["--data", "x", "--layout", "frappe", "--output", "y",
                                            "--config", '{"num_views": 2}'])
    assert train_command.train_config(args).backbone_config == {"num_views": 2}
    assert "deprecated" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_run(data_dir, tmp_path_factory):
    output = tmp_path_factory.mktemp("run")
    code = train.main([
        "--data", str(data_dir / "frappe-ctr"), "--layout", "frappe", "--model", "ssr-d",
        "--output", str(output), "--epochs", "1", "--batch-size", "128", "--max-train-rows", "600",
        "--max-valid-rows", "300", "--config", '{"num_views": 2, "view_dim": 16}', "--quiet",
    ])
    assert code == 0
    return output


def test_tiny_run_writes_metrics_logs_and_servable_model(tiny_run):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    assert 0.0 <= metrics["test_auc"] <= 1.0 and metrics["test_logloss"] > 0
    assert metrics["params_non_embedding"] > 0 and metrics["flops_per_example"] > 0
    assert metrics["config"]["backbone_config"] == {"num_views": 2, "view_dim": 16}
    assert "val_ssr_d_block_0_ics_sparsity" in metrics["history"]
    assert list((tiny_run / "tensorboard").rglob("events.out.tfevents.*"))
    assert (tiny_run / "vocabularies.json").is_file()

    loaded = tf.saved_model.load(metrics["saved_model"])
    row = dict(zip(FRAPPE_COLUMNS, "1,16,28,morning,friday,workday,home,free,sunny,Canada,133".split(",")))
    example = layout_example(get_layout("frappe"), row)  # typed as TFX's CsvExampleGen types it
    output = loaded.signatures["predict"](examples=tf.constant([example.SerializeToString()]))
    assert output["probabilities"].shape == (1, 1)


def test_analyze_cli_on_trained_model(tiny_run, tmp_path):
    saved_model = json.loads((tiny_run / "metrics.json").read_text())["saved_model"]
    report_path, plot_path = tmp_path / "report.json", tmp_path / "hist.png"
    assert analyze.main(["--model", saved_model, "--threshold", "0.05", "--plot", str(plot_path),
                         "--json", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    assert report["threshold"] == 0.05 and report["kernels"]
    assert all("embedding" not in k["name"] for k in report["kernels"])
    assert 0.0 <= report["near_zero_fraction"] <= 1.0 and 0.0 < report["top_input_mass_share"] <= 1.0
    assert plot_path.stat().st_size > 1000
