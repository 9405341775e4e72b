"""gRPC servicers for `tensorflow.serving.PredictionService` and `ModelService`.

Each handler resolves the request's ModelSpec in the `ModelRegistry` (holding the version for the
duration of the call, so a hot swap never pulls a model from under a request), runs `inference`,
and turns every failure into a status: `ServingError` -> its code and message; anything unexpected
-> INTERNAL with the exception named (never an uncaught exception, which gRPC reports as UNKNOWN).

Example:

>>> servicer = PredictionServicer(registry, inference.Limits(max_batch_size=1024))  # doctest: +SKIP
>>> prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(servicer, server)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from typing import Callable, TypeVar

import grpc
from google.protobuf import message
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from serving import errors, inference, metrics
from serving.registry import ModelRegistry
from serving.servable import Servable

logger = logging.getLogger(__name__)

Response = TypeVar("Response", bound=message.Message)


def _model_spec(request: message.Message) -> model_pb2.ModelSpec:
    if not request.HasField("model_spec"):
        raise errors.invalid_argument("Missing ModelSpec")
    return request.model_spec


def _call(method: str, context: grpc.ServicerContext, spec_of: Callable[[], model_pb2.ModelSpec],
          run: Callable[[], Response], request: message.Message | None = None) -> Response:
    """Runs a handler body and answers every failure with a status (see module docstring)."""
    started = time.perf_counter()
    try:
        return _answer(method, context, spec_of, run, started)
    finally:  # counted whatever the outcome (context.abort raises)
        _observe(method, context, spec_of, request, started)


def _observe(method: str, context: grpc.ServicerContext, spec_of: Callable[[], model_pb2.ModelSpec],
             request: message.Message | None, started: float) -> None:
    try:
        spec = spec_of()
    except errors.ServingError:
        spec = model_pb2.ModelSpec()
    code = context.code() if hasattr(context, "code") else None
    status = code.name if isinstance(code, grpc.StatusCode) else "OK"
    metrics.observe_request("grpc", method, spec.name, spec.signature_name, status, time.perf_counter() - started,
                            metrics.request_batch_size(request) if request is not None else None)


def _answer(method: str, context: grpc.ServicerContext, spec_of: Callable[[], model_pb2.ModelSpec],
            run: Callable[[], Response], started: float) -> Response:
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("%s %s started", method, _describe(spec_of))
    try:
        response = run()
    except errors.ServingError as error:
        failure = error
    except Exception as error:  # a bug, not a bad request: say what broke instead of UNKNOWN
        logger.exception("%s failed unexpectedly.", method)
        failure = errors.ServingError(grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}")
    else:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s OK in %.2f ms", method, _describe(spec_of), 1e3 * (time.perf_counter() - started))
        return response
    # One line per failed request, escaped and cut short: never the request's bytes themselves.
    logger.info("%s", errors.log_line(method, _describe(spec_of), failure))
    context.abort(failure.code, failure.message)


def _describe(spec_of: Callable[[], model_pb2.ModelSpec]) -> str:
    try:
        spec = spec_of()
    except errors.ServingError:
        return "(no model_spec)"
    version = spec.version.value if spec.HasField("version") else spec.version_label or "latest"
    return f"{spec.name}/{version}/{spec.signature_name or 'serving_default'}"


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Predict, Classify, Regress, MultiInference and GetModelMetadata over a `ModelRegistry`.

    Args:
        registry: the versions being served.
        limits: per-request limits (batch size, tensor size, method-name check).
    """

    def __init__(self, registry: ModelRegistry, limits: inference.Limits):
        self.registry = registry
        self.limits = limits

    def _serve(self, method: str, request: message.Message, context: grpc.ServicerContext,
               spec_of: Callable[[], model_pb2.ModelSpec],
               infer: Callable[[Servable], Response]) -> Response:
        def run() -> Response:
            with self.registry.acquire(spec_of()) as servable:
                return infer(servable)

        return _call(method, context, spec_of, run, request)

    def Predict(self, request: predict_pb2.PredictRequest, context) -> predict_pb2.PredictResponse:
        return self._serve("Predict", request, context, lambda: _model_spec(request),
                           lambda servable: inference.predict(servable, request, self.limits))

    def Classify(self, request: classification_pb2.ClassificationRequest,
                 context) -> classification_pb2.ClassificationResponse:
        return self._serve("Classify", request, context, lambda: _model_spec(request),
                           lambda servable: inference.classify(servable, request, self.limits))

    def Regress(self, request: regression_pb2.RegressionRequest, context) -> regression_pb2.RegressionResponse:
        return self._serve("Regress", request, context, lambda: _model_spec(request),
                           lambda servable: inference.regress(servable, request, self.limits))

    def MultiInference(self, request: inference_pb2.MultiInferenceRequest,
                       context) -> inference_pb2.MultiInferenceResponse:
        def first_task_spec() -> model_pb2.ModelSpec:
            # As in TF Serving, the first task's ModelSpec picks the servable (all must name one model).
            if not request.tasks:
                raise errors.invalid_argument("MultiInferenceRequest must specify at least one task.")
            return _model_spec(request.tasks[0])

        return self._serve("MultiInference", request, context, first_task_spec,
                           lambda servable: inference.multi_inference(servable, request, self.limits))

    def GetModelMetadata(self, request: get_model_metadata_pb2.GetModelMetadataRequest,
                         context) -> get_model_metadata_pb2.GetModelMetadataResponse:
        return self._serve("GetModelMetadata", request, context, lambda: _model_spec(request),
                           lambda servable: inference.metadata(servable, request))


class ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
    """GetModelStatus over a `ModelRegistry` (HandleReloadConfigRequest stays UNIMPLEMENTED).

    Args:
        registry: the versions being served.
    """

    def __init__(self, registry: ModelRegistry):
        self.registry = registry

    def GetModelStatus(self, request: get_model_status_pb2.GetModelStatusRequest,
                       context) -> get_model_status_pb2.GetModelStatusResponse:
        def run() -> get_model_status_pb2.GetModelStatusResponse:
            response = get_model_status_pb2.GetModelStatusResponse()
            for status in self.registry.statuses(_model_spec(request)):
                entry = response.model_version_status.add(version=status.version, state=status.state)
                if status.error:
                    entry.status.error_code = grpc.StatusCode.UNKNOWN.value[0]
                    entry.status.error_message = status.error
            return response

        return _call("GetModelStatus", context, lambda: _model_spec(request), run)
