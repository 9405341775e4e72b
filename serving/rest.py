"""TF Serving's REST API on a second port (`--rest_api_port`), on tornado.

Endpoints, as `tensorflow_model_server` serves them (see TF Serving's `api_rest.md`):

* `POST /v1/models/<name>[/versions/<v>|/labels/<l>]:predict`: row form `{"instances": [...]}`
  answered `{"predictions": [...]}`, columnar form `{"inputs": ...}` answered `{"outputs": ...}`;
  `{"b64": "..."}` stands for bytes (e.g. a serialized `tf.Example`);
* `...:classify` / `...:regress`: `{"examples": [{feature: value|list}], "context": {...}}` answered
  `{"result": [[[label, score], ...], ...]}` / `{"result": [value, ...]}`; integers become int64
  features, other numbers float features, strings and `{"b64": ...}` bytes features;
* `GET /v1/models/<name>[/versions/<v>|/labels/<l>]` (status) and `.../metadata`;
* `GET /monitoring/prometheus/metrics` (`serving.metrics`).

Each request is turned into the gRPC request proto and answered by the same `serving.inference`
functions on the same `ModelManager`, so REST and gRPC give the same scores. Errors are
`{"error": "<message>"}` with the HTTP status TF Serving maps the gRPC code to. Inference runs on a
thread pool, never on the event loop.

Example:

>>> server = RestServer(manager, limits, port=8501, host="127.0.0.1")  # doctest: +SKIP
>>> server.start()  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import threading
import time
from concurrent import futures
from typing import Any, Callable, Dict, List

import grpc
import numpy as np
import tensorflow as tf
import tornado.httpserver
import tornado.netutil
import tornado.web
from google.protobuf import json_format
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_pb2,
    predict_pb2,
    regression_pb2,
)

from serving import errors, inference, metrics

logger = logging.getLogger(__name__)

# TF Serving's ToHTTPStatusCode (model_servers/http_rest_api_handler / util/net_http).
HTTP_STATUS = {
    grpc.StatusCode.OK: 200, grpc.StatusCode.CANCELLED: 499, grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400, grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404, grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403, grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 412, grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400, grpc.StatusCode.UNIMPLEMENTED: 501, grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503, grpc.StatusCode.DATA_LOSS: 500, grpc.StatusCode.UNAUTHENTICATED: 401,
}
_MODEL = r"/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>[0-9]+)|/labels/(?P<label>[^/:]+))?"
_VERBS = ("predict", "classify", "regress")


class RestServer:
    """TF Serving's REST API over a `ModelManager`, in a background thread.

    Args:
        models: the `ModelManager` (or a `ModelRegistry`) requests are answered from.
        limits: per-request limits, as for gRPC.
        port: TCP port; 0 picks a free one (see `port` after `start`).
        host: interface to bind.
        num_threads: requests computed at once.
        max_body_bytes: largest request body (413 beyond it).
        ssl_options: an `ssl.SSLContext` for HTTPS (`serving.tls.ssl_context`), or None.
        metrics_path: where Prometheus metrics are served; None: not served.
    """

    def __init__(self, models, limits: inference.Limits, *, port: int, host: str = "127.0.0.1",
                 num_threads: int = 8, max_body_bytes: int = 64 << 20, ssl_options=None,
                 metrics_path: str | None = metrics.DEFAULT_PATH):
        self.models = models
        self.limits = limits
        self.executor = futures.ThreadPoolExecutor(max_workers=num_threads, thread_name_prefix="ssr-rest")
        self.app = tornado.web.Application([(re.escape(metrics_path), _MetricsHandler)] * bool(metrics_path) + [
            (_MODEL + r"(?P<metadata>/metadata)?", _ModelHandler, {"server": self}),
            (_MODEL + r":(?P<verb>[a-z]+)", _InferenceHandler, {"server": self}),
        ], default_handler_class=_NotFoundHandler, log_function=_log_request)
        self._sockets = tornado.netutil.bind_sockets(port, address=host, reuse_port=False)
        self.port = self._sockets[0].getsockname()[1]
        self._http_options = {"ssl_options": ssl_options, "max_body_size": max_body_bytes}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    def start(self) -> None:
        """Serves in a daemon thread running its own event loop."""
        def run() -> None:
            asyncio.set_event_loop(asyncio.new_event_loop())
            self._loop = asyncio.get_event_loop()
            self._http = tornado.httpserver.HTTPServer(self.app, **self._http_options)
            self._http.add_sockets(self._sockets)
            self._started.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=run, name="ssr-rest", daemon=True)
        self._thread.start()
        self._started.wait()

    def stop(self) -> None:
        """Stops listening, lets running requests finish, stops the loop."""
        if self._loop is None:
            return

        async def shutdown() -> None:
            self._http.stop()
            await self._http.close_all_connections()
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop)
        self._thread.join(timeout=30)
        self.executor.shutdown(wait=True)
        self._loop = None

    def run(self, work: Callable[[], Any]) -> asyncio.Future:
        return asyncio.get_event_loop().run_in_executor(self.executor, work)


class _Handler(tornado.web.RequestHandler):
    def initialize(self, server: RestServer | None = None) -> None:
        self.server = server

    def write_json(self, status: int, body: Dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def write_error(self, status_code: int, **kwargs) -> None:  # tornado's own errors (e.g. 405, 413)
        self.write_json(status_code, {"error": self._reason})


class _NotFoundHandler(_Handler):
    def prepare(self) -> None:
        self.write_json(404, {"error": f"Malformed request: {self.request.method} {self.request.path}"})


class _MetricsHandler(_Handler):
    def get(self) -> None:
        self.set_header("Content-Type", metrics.CONTENT_TYPE)
        self.finish(metrics.exposition())


class _ModelHandler(_Handler):
    """GET status / metadata."""

    async def get(self, name: str, version: str | None, label: str | None, metadata: str | None) -> None:
        spec = _model_spec(name, version, label)
        method = "GetModelMetadata" if metadata else "GetModelStatus"
        work = (lambda: self._metadata(spec)) if metadata else (lambda: self._status(spec))
        await _answer(self, method, spec, work)

    def _status(self, spec: model_pb2.ModelSpec) -> Dict[str, Any]:
        response = get_model_status_pb2.GetModelStatusResponse()
        for status in self.server.models.statuses(spec):
            entry = response.model_version_status.add(version=status.version, state=status.state)
            entry.status.SetInParent()  # TF Serving always writes it: {"error_code": "OK", "error_message": ""}
            if status.error:
                entry.status.error_code = grpc.StatusCode.UNKNOWN.value[0]
                entry.status.error_message = status.error
        return _to_json(response)

    def _metadata(self, spec: model_pb2.ModelSpec) -> Dict[str, Any]:
        request = get_model_metadata_pb2.GetModelMetadataRequest(model_spec=spec, metadata_field=["signature_def"])
        with self.server.models.acquire(spec) as servable:
            response = inference.metadata(servable, request)
            signature_defs = servable.signature_def_map()
        body = {"model_spec": _to_json(response.model_spec),
                "metadata": {"signature_def": _to_json(signature_defs)}}
        return body


class _InferenceHandler(_Handler):
    """POST :predict, :classify, :regress."""

    async def post(self, name: str, version: str | None, label: str | None, verb: str) -> None:
        spec = _model_spec(name, version, label)
        if verb not in _VERBS:
            self.write_json(400, {"error": f"Malformed request: POST {self.request.path}: unknown verb {verb!r}; "
                                           f"expected one of {', '.join(_VERBS)}."})
            return
        body = self.request.body
        work = {"predict": lambda: self._predict(spec, body), "classify": lambda: self._classify(spec, body),
                "regress": lambda: self._regress(spec, body)}[verb]
        await _answer(self, verb.capitalize(), spec, work)

    def _predict(self, spec: model_pb2.ModelSpec, body: bytes) -> Dict[str, Any]:
        document = _parse_body(body)
        spec.signature_name = _signature_name(document)
        has_rows, has_columns = "instances" in document, "inputs" in document
        if has_rows == has_columns:
            raise errors.invalid_argument("Missing 'inputs' or 'instances' key" if not has_rows else
                                          "Not both 'inputs' and 'instances' keys may be given.")
        with self.server.models.acquire(spec) as servable:
            definition = servable.signature(spec.signature_name).definition
            aliases = {alias: info.dtype for alias, info in definition.inputs.items()}
            columns = (_rows_to_columns(document["instances"], list(aliases)) if has_rows
                       else _columns(document["inputs"], list(aliases)))
            request = predict_pb2.PredictRequest(model_spec=spec)
            for alias, values in columns.items():
                if alias not in aliases:
                    raise errors.invalid_argument(f"input {alias!r} is not an input of signature "
                                                  f"{spec.signature_name or 'serving_default'}; expected "
                                                  f"{sorted(aliases)}.")
                request.inputs[alias].CopyFrom(_tensor_proto(alias, values, aliases[alias]))
            response = inference.predict(servable, request, self.server.limits)
        outputs = {alias: tf.make_ndarray(proto) for alias, proto in response.outputs.items()}
        if has_rows:
            return {"predictions": _outputs_to_rows(outputs)}
        return {"outputs": _to_json_value(next(iter(outputs.values()))) if len(outputs) == 1
                else {alias: _to_json_value(value) for alias, value in outputs.items()}}

    def _classify(self, spec: model_pb2.ModelSpec, body: bytes) -> Dict[str, Any]:
        document = _parse_body(body)
        spec.signature_name = _signature_name(document)
        request = classification_pb2.ClassificationRequest(model_spec=spec)
        _fill_input(request.input, document)
        with self.server.models.acquire(spec) as servable:
            response = inference.classify(servable, request, self.server.limits)
        return {"result": [[[entry.label, entry.score] for entry in classifications.classes]
                           for classifications in response.result.classifications]}

    def _regress(self, spec: model_pb2.ModelSpec, body: bytes) -> Dict[str, Any]:
        document = _parse_body(body)
        spec.signature_name = _signature_name(document)
        request = regression_pb2.RegressionRequest(model_spec=spec)
        _fill_input(request.input, document)
        with self.server.models.acquire(spec) as servable:
            response = inference.regress(servable, request, self.server.limits)
        return {"result": [regression.value for regression in response.result.regressions]}


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """At DEBUG only (tornado logs every request at INFO): one line, method, path and status."""
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("REST %s %r -> %d in %.2f ms", handler.request.method, handler.request.path[:200],
                     handler.get_status(), 1e3 * handler.request.request_time())


async def _answer(handler: _Handler, method: str, spec: model_pb2.ModelSpec, work: Callable[[], Dict]) -> None:
    """Runs `work` on the pool; writes its JSON or TF Serving's `{"error": ...}`; counts the request."""
    started = time.perf_counter()
    try:
        body = await handler.server.run(work)
        status, code = 200, grpc.StatusCode.OK
    except errors.ServingError as error:
        code, body = error.code, {"error": error.message}
        status = HTTP_STATUS.get(code, 500)
        version = spec.version_label or (spec.version.value if spec.HasField("version") else "latest")
        # As for gRPC: one escaped, truncated line per failed request, never the request's bytes.
        logger.info("%s", errors.log_line(f"REST {method}", f"{spec.name}/{version}/"
                                          f"{spec.signature_name or 'serving_default'}", error))
    except Exception as error:  # a bug, not a bad request: say what broke
        logger.exception("REST %s failed unexpectedly.", method)
        code, status, body = grpc.StatusCode.INTERNAL, 500, {"error": f"{type(error).__name__}: {error}"}
    metrics.observe_request("rest", method, spec.name, spec.signature_name, code.name, time.perf_counter() - started)
    handler.write_json(status, body)


# ---- JSON <-> protos -----------------------------------------------------------------------------

def _model_spec(name: str, version: str | None, label: str | None) -> model_pb2.ModelSpec:
    spec = model_pb2.ModelSpec(name=name)
    if version is not None:
        spec.version.value = int(version)
    if label is not None:
        spec.version_label = label
    return spec


def _parse_body(body: bytes) -> Dict[str, Any]:
    try:
        document = json.loads(body or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise errors.invalid_argument(f"JSON Parse error: {error}") from None
    if not isinstance(document, dict):
        raise errors.invalid_argument("JSON Value: the request body must be a JSON object.")
    return document


def _signature_name(document: Dict[str, Any]) -> str:
    name = document.get("signature_name", "")
    if not isinstance(name, str):
        raise errors.invalid_argument(f"'signature_name' key must be a string; got {json.dumps(name)[:100]}.")
    return name


def _decode(value: Any) -> Any:
    """`{"b64": "..."}` -> bytes, recursively through lists; strings -> UTF-8 bytes; numbers kept."""
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if isinstance(value, dict):
        if set(value) != {"b64"} or not isinstance(value["b64"], str):
            raise errors.invalid_argument(f"JSON object {json.dumps(value)[:100]} is not a value: only "
                                          '{"b64": "<base64>"} objects are allowed here.')
        try:
            return base64.b64decode(value["b64"], validate=True)
        except ValueError:
            raise errors.invalid_argument(f"Unable to base64 decode {value['b64'][:50]!r}.") from None
    if isinstance(value, str):
        return value.encode("utf-8")
    return value


def _rows_to_columns(instances: Any, aliases: List[str]) -> Dict[str, List[Any]]:
    """Row form: a list of values (one input) or of `{alias: value}` objects (any inputs)."""
    if not isinstance(instances, list) or not instances:
        raise errors.invalid_argument("'instances' must be a non-empty JSON list.")
    named = all(isinstance(row, dict) and set(row) != {"b64"} for row in instances)
    if not named:
        if len(aliases) != 1:
            raise errors.invalid_argument(f"The signature has inputs {sorted(aliases)}: each instance must be an "
                                          "object naming them.")
        return {aliases[0]: instances}
    columns: Dict[str, List[Any]] = {}
    keys = set(instances[0])
    for number, row in enumerate(instances):
        if set(row) != keys:
            raise errors.invalid_argument(f"instance {number} has inputs {sorted(row)}; instance 0 has "
                                          f"{sorted(keys)}: every instance must name the same inputs.")
        for alias, value in row.items():
            columns.setdefault(alias, []).append(value)
    return columns


def _columns(inputs: Any, aliases: List[str]) -> Dict[str, Any]:
    """Columnar form: a value (one input) or `{alias: value}`."""
    if isinstance(inputs, dict) and set(inputs) != {"b64"}:
        return dict(inputs)
    if len(aliases) != 1:
        raise errors.invalid_argument(f"The signature has inputs {sorted(aliases)}: 'inputs' must be an object "
                                      "naming them.")
    return {aliases[0]: inputs}


def _tensor_proto(alias: str, values: Any, dtype: int):
    dtype = tf.dtypes.as_dtype(dtype)
    try:
        array = np.array(_decode(values), dtype=object if dtype == tf.string else dtype.as_numpy_dtype)
        return tf.make_tensor_proto(array, dtype=dtype)
    except errors.ServingError:
        raise
    except (TypeError, ValueError) as error:
        raise errors.invalid_argument(f"input {alias!r}: the JSON values do not form a {dtype.name} tensor "
                                      f"({error}).") from None


def _feature(name: str, value: Any) -> tf.train.Feature:
    values = _decode(value if isinstance(value, list) else [value])
    if all(isinstance(v, bool) or isinstance(v, int) for v in values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=values))
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))
    if all(isinstance(v, bytes) for v in values):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
    raise errors.invalid_argument(f"feature {name!r}: values must be all numbers or all strings / "
                                  f'{{"b64": ...}}; got {json.dumps(value)[:100]}.')


def _example(row: Any, where: str) -> tf.train.Example:
    if not isinstance(row, dict):
        raise errors.invalid_argument(f"{where} must be a JSON object of feature -> value; got "
                                      f"{json.dumps(row)[:100]}.")
    return tf.train.Example(features=tf.train.Features(
        feature={name: _feature(name, value) for name, value in row.items()}))


def _fill_input(target, document: Dict[str, Any]) -> None:
    """The `Input` of a Classify/Regress request from `examples` (and `context`)."""
    examples = document.get("examples")
    if not isinstance(examples, list) or not examples:
        raise errors.invalid_argument("'examples' must be a non-empty JSON list of objects.")
    parsed = [_example(row, f"examples[{i}]") for i, row in enumerate(examples)]
    if "context" in document:
        target.example_list_with_context.context.CopyFrom(_example(document["context"], "context"))
        target.example_list_with_context.examples.extend(parsed)
    else:
        target.example_list.examples.extend(parsed)


def _to_json_value(array: np.ndarray) -> Any:
    if array.dtype == object or array.dtype.kind == "S":
        return np.vectorize(_bytes_to_json, otypes=[object])(array).tolist() if array.size else array.tolist()
    return array.tolist()


def _bytes_to_json(value: bytes) -> Any:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(value).decode("ascii")}


def _outputs_to_rows(outputs: Dict[str, np.ndarray]) -> List[Any]:
    """Row form: one entry per row; a bare value for a single output, else `{alias: value}`."""
    rows = {alias: _to_json_value(value) for alias, value in outputs.items()}
    if len(rows) == 1:
        return next(iter(rows.values()))
    count = min(len(value) for value in rows.values())
    return [{alias: value[i] for alias, value in rows.items()} for i in range(count)]


def _to_json(message) -> Dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True, including_default_value_fields=True)
