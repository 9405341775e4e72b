"""`PredictionClient`: a gRPC client of one model on a TF Serving-compatible server (or TF Serving).

The command line (`ssr-client`) is `serving.client_cli`.

>>> with PredictionClient("127.0.0.1:8500", "frappe") as client:  # doctest: +SKIP
...     result = client.predict(examples)
>>> result.scores[:2], result.model_version  # doctest: +SKIP
(array([0.03, 0.91], dtype=float32), 3)
"""

from __future__ import annotations

import dataclasses
from typing import Sequence, Union

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from ssr_keras.export.retriever import ITEM_IDS_OUTPUT, SCORES_OUTPUT
from ssr_keras.export.signature_names import (
    CLASS_LABELS,
    CLASSIFY_SIGNATURE,
    DEFAULT_SIGNATURE,
    PREDICT_INPUT,
    PREDICT_OUTPUT,
)

Example = Union[tf.train.Example, bytes]
POSITIVE_CLASS = CLASS_LABELS[1]


@dataclasses.dataclass(frozen=True)
class Scores:
    """Scores of one request.

    Args:
        scores: probability of the positive class per example, float32 [B].
        model_version: the version that answered (from the response's ModelSpec).
    """

    scores: np.ndarray
    model_version: int


@dataclasses.dataclass(frozen=True)
class Retrieved:
    """The answer of a top-k retriever: item ids and scores `[B, k]`, best first, and the version."""

    item_ids: np.ndarray
    scores: np.ndarray
    model_version: int


class PredictionClient:
    """A gRPC client for one model on a TF Serving-compatible server.

    Args:
        address: `host:port`.
        model_name: the served model's name.
        version: ask for this version (default: the server's latest).
        version_label: ask for the version this label names (exclusive with `version`).
        timeout: seconds per call.
        max_message_bytes: largest request/response the channel allows.

    Example:

    >>> client = PredictionClient("127.0.0.1:8500", "frappe", version_label="stable")  # doctest: +SKIP
    >>> client.classify([make_example(row) for row in rows]).scores  # doctest: +SKIP
    """

    def __init__(self, address: str, model_name: str, *, version: int | None = None,
                 version_label: str | None = None, timeout: float = 30.0,
                 max_message_bytes: int = 64 * 1024 * 1024):
        if version is not None and version_label:
            raise ValueError("Pass either version or version_label, not both.")
        self.address = address
        self.model_name = model_name
        self.version = version
        self.version_label = version_label
        self.timeout = timeout
        self._channel = grpc.insecure_channel(address, options=[
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.max_receive_message_length", max_message_bytes)])
        self.prediction = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self.models = model_service_pb2_grpc.ModelServiceStub(self._channel)

    def _fill_spec(self, spec, signature_name: str) -> None:
        spec.name = self.model_name
        spec.signature_name = signature_name
        if self.version is not None:
            spec.version.value = self.version
        elif self.version_label:
            spec.version_label = self.version_label

    def predict_request(self, examples: Sequence[Example],
                        signature_name: str = DEFAULT_SIGNATURE) -> predict_pb2.PredictRequest:
        """The PredictRequest scoring `examples` (serialized into the `examples` input)."""
        request = predict_pb2.PredictRequest()
        self._fill_spec(request.model_spec, signature_name)
        proto = request.inputs[PREDICT_INPUT]
        proto.dtype = tf.string.as_datatype_enum
        proto.tensor_shape.dim.add(size=len(examples))
        proto.string_val.extend(_serialize(e) for e in examples)
        return request

    def predict(self, examples: Sequence[Example], signature_name: str = DEFAULT_SIGNATURE) -> Scores:
        """Predict: `probabilities` [B, 1] -> scores [B]."""
        response = self.prediction.Predict(self.predict_request(examples, signature_name), self.timeout)
        probabilities = tf.make_ndarray(response.outputs[PREDICT_OUTPUT]).reshape(-1)
        return Scores(probabilities.astype(np.float32), response.model_spec.version.value)

    def retrieve(self, input_name: str, ids: np.ndarray,
                 signature_name: str = DEFAULT_SIGNATURE) -> Retrieved:
        """Predict on a top-k retriever (`ssr_keras.export.retriever`): int64 ids -> best items and scores.

        Args:
            input_name: `user_ids` (`[B]`) or `history` (`[B, L]`, padded with -1).
            ids: the int64 input.
            signature_name: the retriever's signature key.
        """
        request = predict_pb2.PredictRequest()
        self._fill_spec(request.model_spec, signature_name)
        request.inputs[input_name].CopyFrom(tf.make_tensor_proto(np.asarray(ids, np.int64)))
        response = self.prediction.Predict(request, self.timeout)
        return Retrieved(tf.make_ndarray(response.outputs[ITEM_IDS_OUTPUT]),
                         tf.make_ndarray(response.outputs[SCORES_OUTPUT]), response.model_spec.version.value)

    def classify(self, examples: Sequence[Example], signature_name: str = CLASSIFY_SIGNATURE) -> Scores:
        """Classify: the score of class "1" per example."""
        request = classification_pb2.ClassificationRequest()
        self._fill_spec(request.model_spec, signature_name)
        request.input.example_list.examples.extend(
            e if isinstance(e, tf.train.Example) else tf.train.Example.FromString(e) for e in examples)
        response = self.prediction.Classify(request, self.timeout)
        scores = []
        for classifications in response.result.classifications:
            by_label = {c.label: c.score for c in classifications.classes}
            if POSITIVE_CLASS not in by_label:
                raise ValueError(f"Classify response has classes {sorted(by_label)}; expected a "
                                 f"{POSITIVE_CLASS!r} class.")
            scores.append(by_label[POSITIVE_CLASS])
        return Scores(np.asarray(scores, np.float32), response.model_spec.version.value)

    def metadata(self) -> get_model_metadata_pb2.SignatureDefMap:
        """The served SignatureDefs (GetModelMetadata)."""
        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._fill_spec(request.model_spec, "")
        response = self.prediction.GetModelMetadata(request, self.timeout)
        signature_defs = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signature_defs)
        return signature_defs

    def status(self) -> get_model_status_pb2.GetModelStatusResponse:
        """GetModelStatus of the model (or of the requested version)."""
        request = get_model_status_pb2.GetModelStatusRequest()
        self._fill_spec(request.model_spec, "")
        return self.models.GetModelStatus(request, self.timeout)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> PredictionClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _serialize(example: Example) -> bytes:
    return example if isinstance(example, bytes) else example.SerializeToString()
