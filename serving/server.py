"""The `ssr-serve` server: gRPC (and REST) over a `ModelManager`, run from parsed arguments.

`serving.server_cli` parses the command line without importing TensorFlow and then calls `serve`.
The pieces: `model_manager` (models by name, config reloads), `registry` (versions of one model,
atomic swap), `servable` (one loaded version, optionally batched by `batching`), `servicer` (gRPC
handlers), `rest` (TF Serving's REST API), `tls` (`--ssl_config_file`), `metrics` (Prometheus).

Example:

>>> server, port = build_server(manager, port=0, host="127.0.0.1")  # doctest: +SKIP
>>> server.start()  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import functools
import gc
import logging
import signal
import threading
from concurrent import futures
from typing import List, Tuple

import grpc
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

from serving import inference, metrics
from serving.batching import BatchingOptions
from serving.config_protos import BatchingParameters, MonitoringConfig, SSLConfig, parse_text_file
from serving.memory import release_memory
from serving.model_manager import ModelConfig, ModelManager, read_model_config
from serving.registry import ModelRegistry, check_base_path
from serving.rest import RestServer
from serving.servable import Servable
from serving.server_defaults import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_THREADS
from serving.servicer import ModelServicer, PredictionServicer
from serving.tls import grpc_credentials, read_ssl_config, ssl_context
from serving.version_policy import VersionPolicy

logger = logging.getLogger("serving.server")


def build_server(models, *, port: int, host: str = "0.0.0.0", num_threads: int = DEFAULT_THREADS,
                 max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES, limits: inference.Limits | None = None,
                 ssl_config: SSLConfig | None = None) -> Tuple[grpc.Server, int]:
    """A gRPC server for `models` (not started yet) and the port it bound.

    Args:
        models: a `ModelManager` (or one `ModelRegistry`), already loaded, possibly watching.
        port: TCP port; 0 picks a free one.
        host: interface to bind.
        num_threads: handler threads (concurrent requests being computed).
        max_message_bytes: largest request/response; larger ones get RESOURCE_EXHAUSTED from gRPC.
        limits: per-request limits; default: `DEFAULT_MAX_BATCH_SIZE` examples.
        ssl_config: TLS key, certificate and client CA (`serving.tls`); None: plaintext.
    """
    limits = limits or inference.Limits(max_batch_size=DEFAULT_MAX_BATCH_SIZE,
                                        max_tensor_elements=max_message_bytes)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=num_threads, thread_name_prefix="ssr-serve"),
        options=[("grpc.max_receive_message_length", max_message_bytes),
                 ("grpc.max_send_message_length", max_message_bytes),
                 ("grpc.so_reuseport", 0)])  # a taken port must fail loudly, not be shared
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(PredictionServicer(models, limits), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelServicer(models), server)
    address = f"{host}:{port}"
    bound = (server.add_secure_port(address, grpc_credentials(ssl_config)) if ssl_config is not None
             else server.add_insecure_port(address))
    if not bound:
        raise OSError(f"Could not bind {host}:{port}.")
    return server, bound


def compact_heap(_versions: object = None) -> None:
    """Collects garbage once, freezes every live object out of the cyclic GC's reach, trims the C heap.

    A full collection walks every tracked object; with TensorFlow and a loaded model that is a few
    hundred thousand objects and a ~0.25 s pause with the GIL held, which would otherwise land on some
    unlucky request every now and then (the p99). After a load, the loaded graph is long-lived, so it
    is frozen (`gc.freeze`) and later collections only walk what requests allocate. `gc.unfreeze`
    first, so a retired version's cycles are freed by this collection rather than kept frozen; then
    the freed memory goes back to the system (`serving.memory`).
    """
    gc.unfreeze()
    release_memory()
    gc.freeze()


def model_configs(args: argparse.Namespace) -> List[ModelConfig]:
    """The models to serve: `--model_config_file`'s, or the one the single-model flags name."""
    if args.model_config_file:
        return read_model_config(args.model_config_file)
    return [ModelConfig(args.model_name, args.model_base_path, VersionPolicy.latest_versions(args.num_latest_versions),
                        args.version_labels)]


def batching_options(args: argparse.Namespace) -> BatchingOptions | None:
    if not args.enable_batching:
        return None
    if not args.batching_parameters_file:
        return BatchingOptions()
    params = parse_text_file(args.batching_parameters_file, BatchingParameters, "--batching_parameters_file")
    try:
        return BatchingOptions.from_proto(params)
    except ValueError as error:
        raise ValueError(f"--batching_parameters_file {args.batching_parameters_file}: {error}") from None


def metrics_path(args: argparse.Namespace) -> str | None:
    """Where the REST port serves Prometheus metrics; None if `--monitoring_config_file` disables them."""
    if not args.monitoring_config_file:
        return metrics.DEFAULT_PATH
    config = parse_text_file(args.monitoring_config_file, MonitoringConfig, "--monitoring_config_file")
    if not config.prometheus_config.enable:
        return None
    return config.prometheus_config.path or metrics.DEFAULT_PATH


def serve(args: argparse.Namespace) -> int:
    """Runs the server `server_cli.parse_args` configured until SIGTERM/SIGINT; returns the exit code."""
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        configs = model_configs(args)
        for config in configs:
            check_base_path(config.base_path)
        batching = batching_options(args)
        ssl_config = read_ssl_config(args.ssl_config_file) if args.ssl_config_file else None
        prometheus_path = metrics_path(args)
    except ValueError as error:
        raise SystemExit(f"ssr-serve: {error}") from None

    limits = inference.Limits(max_batch_size=args.max_batch_size, max_tensor_elements=args.max_message_bytes,
                              check_method_names=args.enable_signature_method_name_check)

    def warm_up(servable: Servable) -> None:
        count = inference.warm_up(servable, limits)
        logger.info("Warmed up model %s version %d with %d requests.", servable.name, servable.version, count)

    load = functools.partial(Servable.load, batching=batching, observe_batch=metrics.observe_formed_batch)

    def make_registry(config: ModelConfig) -> ModelRegistry:
        return ModelRegistry(config.name, config.base_path, version_labels=config.version_labels,
                             version_policy=config.version_policy, load=load, warm_up=warm_up)

    manager = ModelManager(make_registry)
    served = manager.apply(configs)
    for config in configs:
        if not served[config.name]:
            logger.warning("No loadable version of model %s under %s yet; waiting for one.", config.name,
                           config.base_path)
        missing = {k: v for k, v in config.version_labels.items() if v not in served[config.name]}
        if missing:
            logger.warning("Version labels %s of model %s name versions that are not loaded.", missing, config.name)
    compact_heap()
    if args.poll_seconds > 0:
        manager.start_watching_versions(args.poll_seconds, on_change=compact_heap)
    read_config = functools.partial(read_model_config, args.model_config_file)
    if args.model_config_file and args.model_config_file_poll_wait_seconds > 0:
        manager.watch_config(read_config, args.model_config_file_poll_wait_seconds, on_change=compact_heap)

    try:
        server, port = build_server(manager, port=args.port, host=args.host, num_threads=args.num_threads,
                                    max_message_bytes=args.max_message_bytes, limits=limits, ssl_config=ssl_config)
        rest = None
        if args.rest_api_port:
            rest = RestServer(manager, limits, port=args.rest_api_port, host=args.host, num_threads=args.num_threads,
                              max_body_bytes=args.max_message_bytes,
                              ssl_options=ssl_context(ssl_config) if ssl_config is not None else None,
                              metrics_path=prometheus_path)
    except OSError as error:  # a port already taken
        manager.stop_watching()
        raise SystemExit(f"ssr-serve: cannot listen on {args.host} (--port {args.port}, --rest_api_port "
                         f"{args.rest_api_port}): {error}") from None
    stopping = threading.Event()
    # The threads below are not daemons, so the interpreter joins them before it finalises: a daemon
    # thread still inside TensorFlow at exit is unwound through C++ code and aborts the process.

    def on_signal(signum: int, _frame) -> None:
        if stopping.is_set():
            return
        stopping.set()
        logger.info("Received %s: finishing in-flight requests (up to %.0f s), then exiting.",
                    signal.Signals(signum).name, args.shutdown_grace_seconds)
        if rest is not None:
            threading.Thread(target=rest.stop, name="rest-stop").start()
        server.stop(args.shutdown_grace_seconds)

    def on_hangup(_signum: int, _frame) -> None:
        logger.info("Received SIGHUP: reloading %s.", args.model_config_file)
        threading.Thread(target=manager.reload, args=(read_config, compact_heap), name="sighup-reload").start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.model_config_file:
        signal.signal(signal.SIGHUP, on_hangup)
    server.start()
    scheme = "TLS" if ssl_config is not None else "plaintext"
    for name, versions in manager.served_versions().items():
        logger.info("Serving model %s versions %s on %s:%d.", name, versions, args.host, port)
    logger.info("gRPC on %s:%d, %s (threads=%d, max batch=%s, max message=%d bytes, batching=%s).", args.host,
                port, scheme, args.num_threads, args.max_batch_size or "unlimited", args.max_message_bytes,
                batching or "off")
    if rest is not None:
        rest.start()
        logger.info("Serving REST API on %s:%d, %s (metrics: %s).", args.host, rest.port, scheme,
                    prometheus_path or "disabled")
    logger.info("ssr-serve ready: grpc port %d, rest port %d.", port, rest.port if rest is not None else 0)
    server.wait_for_termination()
    manager.stop_watching()
    logger.info("Server stopped.")
    return 0
