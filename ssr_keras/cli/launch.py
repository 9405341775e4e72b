"""How every ssr-keras command starts: parse the flags at once, then import the command's heavy module.

Each console script is an *entry module* holding only its `argparse` parser (standard library imports,
plus light modules such as `ssr_keras.data.layout_file`), so `--help` and flag errors answer in a
fraction of a second. `run_command` then quiets TensorFlow's start-up noise (unless `-v`), imports the
*command module* by name (`importlib.import_module`: TensorFlow, TFX, gRPC load only now) and calls its
`run(args)`. A user error (bad flag value, missing file, bad CSV row, bad layout file: a `ValueError` or
an `OSError`) is one line on stderr naming the file, line, column or flag, with exit code 2; `-v` shows
the traceback and TensorFlow's own logs.

Example (an entry module)::

    def build_parser() -> argparse.ArgumentParser: ...

    def main(argv=None) -> int:
        args = build_parser().parse_args(argv)
        return run_command("ssr-train", "ssr_keras.cli.train_command", args)
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import warnings
from typing import List, Sequence, Tuple

from ssr_keras.data.layout_file import LayoutError, builtin_layout_names, load_layout_spec
from ssr_keras.json_object import read_json_object

USER_ERRORS = (ValueError, OSError)

# Names of registries that live beside TensorFlow code, for `--help` texts without importing it
# (tests/ssr_keras/cli checks them against `BACKBONES`, `EMBEDDINGS` and `STRATEGIES`; the config
# rejects any other value, naming the accepted ones).
BACKBONE_NAMES = "ssr-d, ssr-s, dnn, dcnv2"
EMBEDDING_NAMES = "table, baco, random-hash, frequency-hash, louvain"
STRATEGY_NAMES = "default, mirrored, multi-worker, parameter-server"
USER_ERROR_EXIT = 2
FAILURE_EXIT = 1


def add_verbose_flag(parser: argparse.ArgumentParser, help_text: str | None = None) -> None:
    """`-v/--verbose`: tracebacks on errors and TensorFlow's start-up and INFO logs."""
    parser.add_argument("-v", "--verbose", action="store_true",
                        help=help_text or "show TensorFlow's logs, and the traceback of an error")


def quiet_tensorflow(verbose: bool) -> None:
    """Silences TensorFlow's C++ start-up lines and Python warnings a command's user cannot act on.

    Must run before TensorFlow is imported (the C++ log level is read once, at import).
    """
    if verbose:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # oneDNN, CUDA stubs, cuFFT/cuDNN/cuBLAS, CPU instructions, TF-TRT
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    for category in (FutureWarning, DeprecationWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def is_tty(stream=None) -> bool:
    """Whether output goes to a terminal (progress bars) rather than a pipe or a log file (one line per epoch)."""
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def keras_verbosity(quiet: bool = False) -> int:
    """Keras `fit` verbosity: a progress bar on a terminal, else one line per epoch (`2`)."""
    return 2 if quiet or not is_tty() else 1


def _chain(error: BaseException) -> List[BaseException]:
    """The error and its causes, outermost first (frameworks such as Beam wrap a worker's error in theirs)."""
    chain = [error]
    while True:
        cause = chain[-1].__cause__ or (None if chain[-1].__suppress_context__ else chain[-1].__context__)
        if cause is None or cause in chain:
            return chain
        chain.append(cause)


def _first_line(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename and error.strerror:
        return f"{error.filename}: {error.strerror}"
    lines = (str(error).strip() or type(error).__name__).splitlines()
    return lines[0] + (" (...)" if len(lines) > 1 else "")


def error_report(prog: str, error: BaseException) -> Tuple[str, int]:
    """`(one line for stderr, exit code)` of a failed command.

    A user error anywhere in the chain (the innermost wins: a Beam worker's `MalformedRowError` inside
    Beam's wrapper) gives its message and exit code 2; anything else the innermost message and exit 1.
    """
    chain = _chain(error)
    user = [e for e in chain if isinstance(e, USER_ERRORS) and str(e).strip()]
    if user:
        return f"{prog}: error: {_first_line(user[-1])}", USER_ERROR_EXIT
    inner = next((e for e in reversed(chain) if str(e).strip()), error)
    return (f"{prog}: error: {_first_line(inner)} [{type(inner).__name__}; -v shows the traceback]",
            FAILURE_EXIT)


def run_command(prog: str, module: str, args: argparse.Namespace, function: str = "run") -> int:
    """Imports `module` and returns `module.run(args)`'s exit code; errors become one line (see module doc)."""
    verbose = bool(getattr(args, "verbose", False))
    quiet_tensorflow(verbose)
    try:
        code = getattr(importlib.import_module(module), function)(args)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 (a command reports any failure as one line; -v shows the traceback)
        if verbose:
            raise
        line, code = error_report(prog, error)
        print(line, file=sys.stderr)
        return code
    return 0 if code is None else int(code)


def main_of(prog: str, module: str, build_parser, argv: Sequence[str] | None = None) -> int:
    """The whole `main` of an entry module: parse `argv` with `build_parser()`, then `run_command`."""
    return run_command(prog, module, build_parser().parse_args(argv))


def positive_int_argument(text: str) -> int:
    """argparse `type=` of a flag that takes an integer >= 1 (the error names the value)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def json_object_argument(text: str) -> dict:
    """argparse `type=` of a flag that takes a JSON object inline (the error names the value)."""
    try:
        return read_json_object(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def layout_argument(text: str) -> str:
    """argparse `type` of `--layout`: a built-in name or a layout file, checked now (no TensorFlow needed)."""
    try:
        load_layout_spec(text)
    except LayoutError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def layout_help(what: str = "data layout") -> str:
    """The help text of `--layout`: the built-in names and the file alternative."""
    return (f"{what}: a built-in name ({', '.join(builtin_layout_names())}) or a layout file "
            "(.yaml/.yml/.json; `ssr-layout infer data.csv` writes one)")
