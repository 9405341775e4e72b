"""TF Serving warm-up records (`assets.extra/tf_serving_warmup_requests`) for a ranker export.

Needs `tensorflow-serving-api` (the `serving` extra), imported only when warm-up records are written:
a model can be exported without it.
"""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import tensorflow as tf

from ssr_keras.export.signature_names import (
    CLASSIFY_SIGNATURE,
    PREDICT_INPUT,
    PREDICT_SIGNATURE,
    REGRESS_SIGNATURE,
    WARMUP_FILE,
)
from ssr_keras.export.tf_example import make_example


def write_warmup_requests(export_dir: str, rows: Sequence[Mapping[str, str]],
                          column_types: Mapping[str, str] | None = None) -> str:
    """Writes TF Serving warm-up records: one Predict, Classify and Regress request over `rows`.

    Args:
        export_dir: an exported SavedModel version directory.
        rows: raw rows (column -> value) to put in the requests.
        column_types: column -> CsvExampleGen type (`make_example`), so warm-up requests are typed as
            clients type theirs.

    Returns:
        The path of the warm-up file.
    """
    # Optional dependency (the `serving` extra): only needed once warm-up records are written.
    from tensorflow_serving.apis import classification_pb2, predict_pb2, prediction_log_pb2, regression_pb2

    examples = [make_example(row, column_types) for row in rows]
    predict = predict_pb2.PredictRequest()
    predict.model_spec.signature_name = PREDICT_SIGNATURE
    predict.inputs[PREDICT_INPUT].CopyFrom(
        tf.make_tensor_proto([e.SerializeToString() for e in examples], dtype=tf.string))
    classify = classification_pb2.ClassificationRequest()
    classify.model_spec.signature_name = CLASSIFY_SIGNATURE
    classify.input.example_list.examples.extend(examples)
    regress = regression_pb2.RegressionRequest()
    regress.model_spec.signature_name = REGRESS_SIGNATURE
    regress.input.example_list.examples.extend(examples)

    path = os.path.join(export_dir, WARMUP_FILE)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.TFRecordWriter(path) as writer:
        for log in (prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=predict)),
                    prediction_log_pb2.PredictionLog(classify_log=prediction_log_pb2.ClassifyLog(request=classify)),
                    prediction_log_pb2.PredictionLog(regress_log=prediction_log_pb2.RegressLog(request=regress))):
            writer.write(log.SerializeToString())
    return path
