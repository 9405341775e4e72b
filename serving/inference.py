"""Runs Predict / Classify / Regress / MultiInference requests on one `Servable`.

No gRPC here: these functions take a request proto and return a response proto or raise
`ServingError`, so the servicer, the warm-up replay and tests all share them.

Example:

>>> response = predict(servable, request, Limits(max_batch_size=256))  # doctest: +SKIP
>>> response.model_spec.version.value  # doctest: +SKIP
3
"""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Dict, List, Mapping

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    inference_pb2,
    model_pb2,
    predict_pb2,
    prediction_log_pb2,
    regression_pb2,
)

from serving import errors, tensors
from serving.servable import Servable, Signature
from ssr_keras.export.signature_names import WARMUP_FILE

logger = logging.getLogger(__name__)

# TF Serving reads at most this many warm-up records.
MAX_WARMUP_RECORDS = 1000
# A request larger than this is scored this many examples per signature call, so what the model
# allocates per call (parsed features, activations) stays bounded whatever the request size.
CHUNK_EXAMPLES = 4096


@dataclasses.dataclass(frozen=True)
class Limits:
    """Per-request limits.

    Args:
        max_batch_size: most examples (0th dimension) a request may carry; 0 = unlimited (the gRPC
            message size is the guard; large requests are scored `CHUNK_EXAMPLES` at a time).
        max_tensor_elements: most elements one request tensor may declare.
        check_method_names: require Classify/Regress signatures to carry the classify/regress
            method name (TF Serving's `--enable_signature_method_name_check`).
    """

    max_batch_size: int = 0
    max_tensor_elements: int = 1 << 26
    check_method_names: bool = False


def model_spec(servable: Servable, signature_key: str) -> model_pb2.ModelSpec:
    """The ModelSpec a response carries: which model, version and signature answered."""
    spec = model_pb2.ModelSpec(name=servable.name, signature_name=signature_key)
    spec.version.value = servable.version
    return spec


def predict(servable: Servable, request: predict_pb2.PredictRequest, limits: Limits) -> predict_pb2.PredictResponse:
    """TF Serving's Predict: inputs by alias, optional `output_filter`."""
    signature = servable.signature(request.model_spec.signature_name)
    definition = signature.definition
    output_aliases = list(request.output_filter) or list(definition.outputs)
    for alias in request.output_filter:
        if alias not in definition.outputs:
            raise errors.invalid_argument(
                f"output tensor alias not found in signature: {alias} Outputs expected to be in the set "
                f"{{{','.join(sorted(definition.outputs))}}}.")
    if len(set(output_aliases)) != len(output_aliases):
        raise errors.invalid_argument(f"duplicate output tensor alias in output_filter: {list(request.output_filter)}")
    tensors.check_inputs(signature.key, definition, request.inputs)
    arrays = {alias: tensors.to_ndarray(proto, alias, limits.max_tensor_elements)
              for alias, proto in request.inputs.items()}
    batch_size = tensors.check_shapes(signature.key, definition, arrays, limits.max_batch_size)
    outputs = run_in_chunks(signature, arrays, batch_size)
    response = predict_pb2.PredictResponse(model_spec=model_spec(servable, signature.key))
    for alias in output_aliases:
        response.outputs[alias].CopyFrom(tensors.to_tensor_proto(outputs[alias]))
    return response


def classify(servable: Servable, request: classification_pb2.ClassificationRequest,
             limits: Limits) -> classification_pb2.ClassificationResponse:
    """TF Serving's Classify: `Input` examples -> per example (label, score) classes."""
    signature = _example_signature(servable, request.model_spec.signature_name,
                                   tf.saved_model.CLASSIFY_METHOD_NAME, limits)
    result = _classify(signature, tensors.serialized_examples(request.input, limits.max_batch_size))
    return classification_pb2.ClassificationResponse(model_spec=model_spec(servable, signature.key), result=result)


def regress(servable: Servable, request: regression_pb2.RegressionRequest,
            limits: Limits) -> regression_pb2.RegressionResponse:
    """TF Serving's Regress: `Input` examples -> one float per example."""
    signature = _example_signature(servable, request.model_spec.signature_name,
                                   tf.saved_model.REGRESS_METHOD_NAME, limits)
    result = _regress(signature, tensors.serialized_examples(request.input, limits.max_batch_size))
    return regression_pb2.RegressionResponse(model_spec=model_spec(servable, signature.key), result=result)


def multi_inference(servable: Servable, request: inference_pb2.MultiInferenceRequest,
                    limits: Limits) -> inference_pb2.MultiInferenceResponse:
    """TF Serving's MultiInference: several classify/regress signatures over one `Input`."""
    if not request.tasks:
        raise errors.invalid_argument("MultiInferenceRequest must specify at least one task.")
    names = {task.model_spec.name for task in request.tasks}
    if len(names) > 1:
        raise errors.invalid_argument("All ModelSpecs in a MultiInferenceRequest must access the same model "
                                      f"name; got {sorted(names)}.")
    seen = set()
    for task in request.tasks:
        key = task.model_spec.signature_name or tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY
        if key in seen:
            raise errors.invalid_argument(f"Duplicate evaluation of signature: {key}")
        seen.add(key)
    examples = tensors.serialized_examples(request.input, limits.max_batch_size)
    response = inference_pb2.MultiInferenceResponse()
    for task in request.tasks:
        if task.method_name not in (tf.saved_model.CLASSIFY_METHOD_NAME, tf.saved_model.REGRESS_METHOD_NAME):
            raise errors.invalid_argument(f"Unsupported signature method_name: {task.method_name!r}; expected "
                                          f"{tf.saved_model.CLASSIFY_METHOD_NAME} or "
                                          f"{tf.saved_model.REGRESS_METHOD_NAME}.")
        signature = _example_signature(servable, task.model_spec.signature_name, task.method_name, limits)
        result = response.results.add(model_spec=model_spec(servable, signature.key))
        if task.method_name == tf.saved_model.CLASSIFY_METHOD_NAME:
            result.classification_result.CopyFrom(_classify(signature, examples))
        else:
            result.regression_result.CopyFrom(_regress(signature, examples))
    return response


def metadata(servable: Servable, request: get_model_metadata_pb2.GetModelMetadataRequest
             ) -> get_model_metadata_pb2.GetModelMetadataResponse:
    """TF Serving's GetModelMetadata: the `signature_def` field, a `SignatureDefMap` in an Any."""
    if not request.metadata_field:
        raise errors.invalid_argument("GetModelMetadataRequest must specify at least one metadata_field.")
    for field in request.metadata_field:
        if field != "signature_def":
            raise errors.invalid_argument(f"Metadata field {field} is not supported")
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    response.model_spec.name = servable.name
    response.model_spec.version.value = servable.version
    response.metadata["signature_def"].Pack(servable.signature_def_map())
    return response


def warm_up(servable: Servable, limits: Limits) -> int:
    """Replays the SavedModel's TF Serving warm-up records (if any); returns how many ran.

    Raises ServingError if a record fails: a version that cannot answer its own warm-up requests
    must not replace a healthy one.
    """
    path = os.path.join(servable.path, WARMUP_FILE)
    if not tf.io.gfile.exists(path):
        return 0
    count = 0
    for record in tf.data.TFRecordDataset(path).take(MAX_WARMUP_RECORDS).as_numpy_iterator():
        log = prediction_log_pb2.PredictionLog.FromString(record)
        kind = log.WhichOneof("log_type")
        if kind == "predict_log":
            predict(servable, log.predict_log.request, limits)
        elif kind == "classify_log":
            classify(servable, log.classify_log.request, limits)
        elif kind == "regress_log":
            regress(servable, log.regress_log.request, limits)
        elif kind == "multi_inference_log":
            multi_inference(servable, log.multi_inference_log.request, limits)
        else:
            logger.warning("Skipping unsupported warm-up record %r in %s.", kind, path)
            continue
        count += 1
    return count


def _example_signature(servable: Servable, key: str, method_name: str, limits: Limits) -> Signature:
    """A Classify/Regress signature: one DT_STRING input of serialized examples."""
    key = key or tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY
    if key not in servable.signatures:
        raise errors.invalid_argument(f"No signature was found with the name: {key}")
    signature = servable.signatures[key]
    kind = "classification" if method_name == tf.saved_model.CLASSIFY_METHOD_NAME else "regression"
    if limits.check_method_names and signature.method_name != method_name:
        raise errors.invalid_argument(f"Expected {kind} signature method_name to be {method_name}. "
                                      f"Was: {signature.method_name}")
    inputs = signature.definition.inputs
    if len(inputs) != 1 or next(iter(inputs.values())).dtype != tf.string.as_datatype_enum:
        raise errors.invalid_argument(f"Signature '{key}' cannot serve {kind}: expected one DT_STRING input "
                                      f"of serialized tf.Examples, found inputs {sorted(inputs)}.")
    return signature


def run_in_chunks(signature: Signature, arrays: Mapping[str, np.ndarray], batch_size: int,
                  chunk: int | None = None) -> Dict[str, np.ndarray]:
    """Runs `signature` on `chunk` examples at a time and concatenates the outputs along dimension 0.

    A request of at most `chunk` (default `CHUNK_EXAMPLES`) examples is one call. Larger ones need
    every input and output to be batch-major (dimension 0 = the examples), which INVALID_ARGUMENT
    reports otherwise.
    """
    chunk = chunk or CHUNK_EXAMPLES
    if batch_size <= chunk:
        return signature.run(arrays)
    not_batched = sorted(alias for alias, array in arrays.items() if array.ndim == 0 or array.shape[0] != batch_size)
    if not_batched:
        raise errors.invalid_argument(f"Signature '{signature.key}': inputs {not_batched} have no batch dimension, "
                                      f"so a request of {batch_size} examples cannot be scored {chunk} at a time.")
    parts: Dict[str, List[np.ndarray]] = {}
    for start in range(0, batch_size, chunk):
        size = min(chunk, batch_size - start)
        outputs = signature.run({alias: array[start:start + size] for alias, array in arrays.items()})
        for name, value in outputs.items():
            if value.ndim == 0 or value.shape[0] != size:
                raise errors.invalid_argument(f"Signature '{signature.key}' output '{name}' has shape "
                                              f"{list(value.shape)} for {size} examples: not batch-major, so a "
                                              f"request of {batch_size} examples cannot be scored {chunk} at a time.")
            parts.setdefault(name, []).append(value)
    return {name: np.concatenate(values) for name, values in parts.items()}


def _run_examples(signature: Signature, examples: np.ndarray) -> Dict[str, np.ndarray]:
    (alias,) = signature.definition.inputs
    outputs = run_in_chunks(signature, {alias: examples}, len(examples))
    for name, value in outputs.items():
        if value.ndim == 0 or value.shape[0] != len(examples):
            raise errors.invalid_argument(f"Signature '{signature.key}' output '{name}' has shape "
                                          f"{list(value.shape)}; expected batch size {len(examples)}.")
    return outputs


def _classify(signature: Signature, examples: np.ndarray) -> classification_pb2.ClassificationResult:
    outputs = _run_examples(signature, examples)
    classes = outputs.get(tf.saved_model.CLASSIFY_OUTPUT_CLASSES)
    scores = outputs.get(tf.saved_model.CLASSIFY_OUTPUT_SCORES)
    if classes is None and scores is None:
        raise errors.invalid_argument(f"Signature '{signature.key}' has neither a 'classes' nor a 'scores' "
                                      "output: expected classification signature outputs.")
    if classes is not None and scores is not None and classes.shape != scores.shape:
        raise errors.invalid_argument(f"Signature '{signature.key}': 'classes' shape {list(classes.shape)} "
                                      f"differs from 'scores' shape {list(scores.shape)}.")
    result = classification_pb2.ClassificationResult()
    num_classes = (scores if scores is not None else classes).reshape(len(examples), -1).shape[1]
    labels = classes.reshape(len(examples), -1) if classes is not None else None
    values = scores.reshape(len(examples), -1).astype(np.float32) if scores is not None else None
    for row in range(len(examples)):
        classifications = result.classifications.add()
        for column in range(num_classes):
            entry = classifications.classes.add()
            if labels is not None:
                entry.label = labels[row, column].decode("utf-8", errors="replace")
            if values is not None:
                entry.score = float(values[row, column])
    return result


def _regress(signature: Signature, examples: np.ndarray) -> regression_pb2.RegressionResult:
    outputs = _run_examples(signature, examples)
    if tf.saved_model.REGRESS_OUTPUTS not in outputs or len(outputs) != 1:
        raise errors.invalid_argument(f"Signature '{signature.key}' is not a regression signature: expected one "
                                      f"output '{tf.saved_model.REGRESS_OUTPUTS}', found {sorted(outputs)}.")
    values = outputs[tf.saved_model.REGRESS_OUTPUTS]
    if values.ndim > 2 or (values.ndim == 2 and values.shape[1] != 1):
        raise errors.invalid_argument(f"Expected output Tensor shape to be either [batch_size] or "
                                      f"[batch_size, 1] but got {list(values.shape)}")
    result = regression_pb2.RegressionResult()
    result.regressions.extend(regression_pb2.Regression(value=float(v)) for v in values.reshape(-1))
    return result
