"""Every command answers at once: flags parsed before TensorFlow loads, help for every flag, one-line errors."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import pytest

from pipeline import cli as pipeline_cli
from serving import client_cli
from ssr_keras.cli import analyze, launch, layout, segments, train

ENTRY_MODULES = ("ssr_keras.cli.train", "ssr_keras.cli.analyze", "ssr_keras.cli.segments", "ssr_keras.cli.layout",
                 "pipeline.cli", "serving.client_cli")
PARSERS = {"ssr-train": train.build_parser, "ssr-analyze": analyze.build_parser,
           "ssr-segments": segments.build_parser, "ssr-layout": layout.build_parser,
           "ssr-pipeline": pipeline_cli.build_parser, "ssr-client": client_cli._parser}
HEAVY = ("tensorflow", "tf_keras", "tfx", "apache_beam", "grpc", "numpy")


def _script(name: str) -> str:
    return os.path.join(os.path.dirname(sys.executable), name)


def test_entry_modules_import_no_heavy_package():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in ENTRY_MODULES)
            + f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr[-2000:]


@pytest.mark.parametrize("command", ["ssr-train", "ssr-analyze", "ssr-segments", "ssr-pipeline", "ssr-client",
                                     "ssr-layout"])
def test_help_answers_at_once(command):
    started = time.perf_counter()
    result = subprocess.run([_script(command), "--help"], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    assert result.returncode == 0 and f"usage: {command}" in result.stdout, result.stderr[-2000:]
    assert result.stderr == ""
    # Well under a second on an idle machine (~0.3 s); the bound leaves room for a loaded CI box, and
    # is far below the ~8 s an import of TensorFlow costs.
    assert seconds < 5.0, seconds


def _actions(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _actions(sub)
        elif not isinstance(action, argparse._HelpAction):
            yield parser.prog, action


@pytest.mark.parametrize("command", sorted(PARSERS))
def test_every_flag_has_help_and_prints_its_default_once(command):
    parser = PARSERS[command]()
    for prog, action in _actions(parser):
        assert action.help, f"{prog} {action.option_strings or action.dest}: no help"
        text = parser.formatter_class(prog)._expand_help(action) if action.help else ""
        assert text.count("(default") <= 1, f"{prog} {action.option_strings}: {text!r}"


def test_help_names_every_registered_backbone_embedding_and_strategy():
    from ssr_keras.models.ranking import BACKBONES
    from ssr_keras.training.config import EMBEDDINGS
    from ssr_keras.training.strategy import STRATEGIES

    assert launch.BACKBONE_NAMES.split(", ") == list(BACKBONES)
    assert launch.EMBEDDING_NAMES.split(", ") == list(EMBEDDINGS)
    assert launch.STRATEGY_NAMES.split(", ") == list(STRATEGIES)


@pytest.mark.parametrize("argv, message", [
    (["--data", "d", "--layout", "frapp", "--output", "o"], "argument --layout: unknown layout 'frapp'"),
    (["--data", "d", "--layout", "frappe", "--output", "o", "--epochs", "0"],
     "argument --epochs: expected an integer >= 1, got 0"),
    (["--data", "d", "--layout", "frappe", "--output", "o", "--batch-size", "x"],
     "argument --batch-size: expected an integer >= 1, got 'x'"),
])
def test_bad_flags_are_usage_errors_before_tensorflow(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_layout_file_is_named_with_its_key(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nlabel: y\ncolumns: [{name: y}, {name: u, kind: categorial}]\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--data", "d", "--layout", str(bad), "--output", "o"])
    assert exit_info.value.code == 2
    assert f"argument --layout: {bad}: columns[1].kind: unknown kind 'categorial'" in capsys.readouterr().err


def test_user_errors_are_one_line_with_exit_code_2_and_a_traceback_with_v(tmp_path, capsys):
    argv = ["--data", str(tmp_path / "missing"), "--layout", "frappe", "--output", str(tmp_path / "out")]
    assert train.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"ssr-train: error: {tmp_path / 'missing' / 'train.csv'} not found: the data folder must hold "
                   "['train.csv', 'valid.csv', 'test.csv']."]
    with pytest.raises(FileNotFoundError):
        train.main(argv + ["-v"])


def test_error_report_prefers_the_innermost_user_error():
    try:
        try:
            raise ValueError("data.csv, line 8, column 'label': expected a number, found 'yes'")
        except ValueError as inner:
            raise RuntimeError("Beam worker failed\nwith a long dump") from inner
    except RuntimeError as error:
        assert launch.error_report("ssr-x", error) == (
            "ssr-x: error: data.csv, line 8, column 'label': expected a number, found 'yes'", 2)
    assert launch.error_report("ssr-x", KeyError("k")) == ("ssr-x: error: 'k' [KeyError; -v shows the traceback]", 1)
