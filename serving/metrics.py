"""Prometheus metrics of the server (`prometheus_client`), served on the REST port.

TF Serving exposes its metrics at `/monitoring/prometheus/metrics` when `--monitoring_config_file`
enables them; `ssr-serve` serves them there whenever the REST port is on (the config file is
accepted and may change the path). Every gRPC and REST request is counted once:

* `ssr_serving_requests_total{api, method, model, signature, status}`: requests by outcome (status is
  the gRPC code name, e.g. OK, INVALID_ARGUMENT, NOT_FOUND);
* `ssr_serving_request_latency_seconds{api, method, model}`: time from receipt to response;
* `ssr_serving_request_batch_size{model, signature}`: examples per request;
* `ssr_serving_formed_batch_size{model, signature}`: rows per batch the batch op ran (`--enable_batching`).

Example:

>>> observe_request("grpc", "Predict", "toy", "serving_default", "OK", 0.002)
>>> b"ssr_serving_requests_total" in exposition()
True
"""

from __future__ import annotations

import prometheus_client

DEFAULT_PATH = "/monitoring/prometheus/metrics"  # TF Serving's PrometheusExporter::kPrometheusPath
REGISTRY = prometheus_client.CollectorRegistry()
prometheus_client.ProcessCollector(registry=REGISTRY)  # RSS, CPU, open files of the server

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 65536, 262144)

REQUESTS = prometheus_client.Counter(
    "ssr_serving_requests", "Requests by API (grpc/rest), method, model, signature and status.",
    ["api", "method", "model", "signature", "status"], registry=REGISTRY)
LATENCY = prometheus_client.Histogram(
    "ssr_serving_request_latency_seconds", "Request latency from receipt to response.",
    ["api", "method", "model"], buckets=_LATENCY_BUCKETS, registry=REGISTRY)
REQUEST_BATCH_SIZE = prometheus_client.Histogram(
    "ssr_serving_request_batch_size", "Examples per request.", ["model", "signature"],
    buckets=_BATCH_BUCKETS, registry=REGISTRY)
FORMED_BATCH_SIZE = prometheus_client.Histogram(
    "ssr_serving_formed_batch_size", "Rows per batch formed by request batching (--enable_batching).",
    ["model", "signature"], buckets=_BATCH_BUCKETS, registry=REGISTRY)


def observe_request(api: str, method: str, model: str, signature: str, status: str, seconds: float,
                    batch_size: int | None = None) -> None:
    """Counts one finished request (`signature` "" = serving_default) and its latency and size."""
    signature = signature or "serving_default"
    REQUESTS.labels(api, method, model, signature, status).inc()
    LATENCY.labels(api, method, model).observe(seconds)
    if batch_size is not None:
        REQUEST_BATCH_SIZE.labels(model, signature).observe(batch_size)


def request_batch_size(request: object) -> int | None:
    """Examples in a Predict (first input's dimension 0), Classify/Regress/MultiInference request."""
    inputs = getattr(request, "inputs", None)
    if inputs is not None and hasattr(inputs, "values"):
        dims = next((proto.tensor_shape.dim for proto in inputs.values()), None)
        return dims[0].size if dims else None
    source = getattr(request, "input", None)
    kind = source.WhichOneof("kind") if source is not None else None
    return len(getattr(source, kind).examples) if kind else None


def observe_formed_batch(model: str, signature: str, size: int) -> None:
    FORMED_BATCH_SIZE.labels(model, signature).observe(size)


def exposition() -> bytes:
    """The metrics in Prometheus' text format."""
    return prometheus_client.generate_latest(REGISTRY)


CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST
