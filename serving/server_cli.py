"""`ssr-serve`: a TF Serving-compatible model server (gRPC, optional REST) with version hot swap.

Serves one model from a TF Serving-style base path (`<base>/<version>/saved_model.pb`), or every model
of a `--model_config_file` (TF Serving's `ModelServerConfig` text format, reloaded on SIGHUP and every
`--model_config_file_poll_wait_seconds`). New versions are picked up by polling, loaded and warmed
before an atomic swap; a SIGTERM stops accepting calls and lets in-flight calls finish.

Usage:

    ssr-serve --model-base-path runs/demo/serving/frappe --model-name frappe --port 8500 \\
        --rest_api_port 8501 --version-labels stable=1,canary=2
    ssr-serve --model_config_file models.config --enable_batching --batching_parameters_file batching.config \\
        --ssl_config_file ssl.config --rest_api_port 8501

TF Serving's flag spellings (`--model_name`, `--rest_api_port`, ...) and dashed ones both work.
Clients: `ssr-client`, any TF Serving gRPC client, or TF Serving's REST API on `--rest_api_port`.

This module only parses arguments (no TensorFlow import, so `--help` answers at once); the server
itself is `serving.server`, imported once the arguments are valid.
"""

from __future__ import annotations

import argparse
import importlib
import os
from typing import Dict, Sequence

from serving.server_defaults import (
    DEFAULT_CONFIG_POLL_SECONDS,
    DEFAULT_MAX_BATCH_SIZE,
    DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_THREADS,
)


def parse_version_labels(text: str) -> Dict[str, int]:
    """`"stable=3,canary=4"` -> `{"stable": 3, "canary": 4}`; ValueError naming the bad entry."""
    labels: Dict[str, int] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        label, sep, version = entry.partition("=")
        if not sep or not label.strip() or not version.strip().isdigit():
            raise ValueError(f"Bad version label {entry!r}: expected LABEL=VERSION, e.g. stable=3.")
        labels[label.strip()] = int(version)
    return labels


def _version_labels_arg(text: str) -> Dict[str, int]:
    try:
        return parse_version_labels(text)
    except ValueError as error:  # argparse would replace a ValueError's message with a generic one
        raise argparse.ArgumentTypeError(str(error)) from None


def _flag(parser: argparse.ArgumentParser, name: str, **kwargs) -> None:
    """Adds `--a-b` and TF Serving's `--a_b` spelling of one option."""
    dashed = "--" + name.replace("_", "-")
    underscored = "--" + name.replace("-", "_")
    names = [dashed] if dashed == underscored else [dashed, underscored]
    parser.add_argument(*names, dest=name.replace("-", "_"), **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssr-serve", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    models = parser.add_argument_group("models (one model by flags, or --model_config_file)")
    _flag(models, "model-base-path", help="directory of numeric version sub-directories, each a SavedModel")
    _flag(models, "model-name", help="name requests address (ModelSpec.name)")
    _flag(models, "num-latest-versions", type=int, default=1, help="how many newest versions to serve")
    _flag(models, "version-labels", default="", type=_version_labels_arg,
          help="LABEL=VERSION pairs, e.g. stable=3,canary=4 (labelled versions stay loaded)")
    _flag(models, "model-config-file", default="",
          help="TF Serving ModelServerConfig text file (model_config_list); replaces the flags above")
    _flag(models, "model-config-file-poll-wait-seconds", type=float, default=DEFAULT_CONFIG_POLL_SECONDS,
          help="re-read --model_config_file this often (0: only at start and on SIGHUP)")
    _flag(models, "poll-seconds", type=float, default=2.0,
          help="how often to look for new versions (0: never); TF Serving: --file_system_poll_wait_seconds")
    network = parser.add_argument_group("network")
    _flag(network, "port", type=int, default=8500, help="gRPC port (0: pick a free one)")
    _flag(network, "rest-api-port", type=int, default=0, help="REST API port (0: no REST server)")
    _flag(network, "host", default="0.0.0.0", help="interface to bind")
    _flag(network, "ssl-config-file", default="", help="TF Serving SSLConfig text file: TLS on gRPC and REST")
    _flag(network, "monitoring-config-file", default="",
          help="TF Serving MonitoringConfig text file (Prometheus path); metrics are served on the REST port")
    requests = parser.add_argument_group("requests")
    _flag(requests, "num-threads", type=int, default=DEFAULT_THREADS, help="request handler threads")
    _flag(requests, "max-message-bytes", type=int, default=DEFAULT_MAX_MESSAGE_BYTES,
          help="largest request or response message")
    _flag(requests, "max-batch-size", type=int, default=DEFAULT_MAX_BATCH_SIZE,
          help="most examples per request (0: unlimited); larger -> INVALID_ARGUMENT")
    _flag(requests, "enable-batching", action="store_true", help="merge concurrent requests into batches")
    _flag(requests, "batching-parameters-file", default="",
          help="TF Serving BatchingParameters text file (max_batch_size, batch_timeout_micros, ...)")
    _flag(requests, "enable-signature-method-name-check", action="store_true",
          help="Classify/Regress require classify/regress method names, as TF Serving's flag")
    _flag(requests, "shutdown-grace-seconds", type=float, default=30.0,
          help="on SIGTERM, how long in-flight requests may take to finish")
    parser.add_argument("--log-level", "--log_level", dest="log_level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="DEBUG logs every request")
    parser.add_argument("-v", "--verbose", action="store_true", help="same as --log-level DEBUG, with TF's logs")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parsed and checked arguments; SystemExit with a message naming the flag otherwise."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        args.log_level = "DEBUG"
    if args.model_config_file:
        if args.model_base_path or args.model_name:
            parser.error("--model_config_file replaces --model-base-path/--model-name: give one or the other.")
    elif not (args.model_base_path and args.model_name):
        parser.error("give --model-base-path and --model-name, or --model_config_file.")
    for name in ("num_threads", "max_message_bytes", "num_latest_versions"):
        if getattr(args, name) < 1:
            parser.exit(2, f"ssr-serve: --{name.replace('_', '-')} must be >= 1; got {getattr(args, name)}.\n")
    for name in ("max_batch_size", "rest_api_port", "port", "poll_seconds", "model_config_file_poll_wait_seconds"):
        if getattr(args, name) < 0:
            parser.exit(2, f"ssr-serve: --{name.replace('_', '-')} must be >= 0; got {getattr(args, name)}.\n")
    if args.batching_parameters_file and not args.enable_batching:
        parser.error("--batching_parameters_file needs --enable_batching.")
    for name in ("model_config_file", "batching_parameters_file", "ssl_config_file", "monitoring_config_file"):
        path = getattr(args, name)
        if path and not os.path.isfile(path):
            parser.exit(2, f"ssr-serve: --{name} {path} is not a file.\n")
    if args.model_base_path and not os.path.isdir(args.model_base_path):
        parser.exit(2, f"ssr-serve: --model-base-path {args.model_base_path} is not a directory.\n")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.log_level != "DEBUG":
        # TensorFlow's C++ warnings can echo request bytes: keep them out of the log unless debugging.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    # Imported only now: TensorFlow takes seconds to load, and --help or a bad flag must not wait for it.
    server = importlib.import_module("serving.server")
    return server.serve(args)


if __name__ == "__main__":
    raise SystemExit(main())
