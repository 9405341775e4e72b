"""`export_ranker`: a ranking model as a SavedModel TF Serving can Predict, Classify and Regress.

Requests carry raw features as serialized `tf.Example`s, typed as TFX's CsvExampleGen types the CSV
columns (`ssr_keras.data.raw_examples`), so a client needs nothing but the data set's layout. The export has four
signatures over the same computation, `examples -> examples_to_features -> model`:

| key                                | method_name                   | input      | outputs               |
|------------------------------------|-------------------------------|------------|-----------------------|
| `serving_default`, `predict`       | `tensorflow/serving/predict`  | `examples` | `probabilities` [B,1] |
| `classification`                   | `tensorflow/serving/classify` | `inputs`   | `classes`, `scores` [B,2] |
| `regression`                       | `tensorflow/serving/regress`  | `inputs`   | `outputs` [B,1]       |

Method names are set as TF Serving expects (`method_names`), and a warm-up file
(`assets.extra/tf_serving_warmup_requests`, the TF Serving format) lets both TF Serving and `ssr-serve`
run every signature once before taking traffic. Only core TensorFlow ops are in the signatures.

Example:

>>> from ssr_keras.export import export_ranker
>>> export_ranker(model, "serving/frappe/1", examples_to_features=parser,
...               feature_columns=layout.feature_columns)  # doctest: +SKIP
'serving/frappe/1'
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Mapping, Sequence, Tuple

import tensorflow as tf
import tf_keras as keras

from ssr_keras.data.raw_examples import RawExampleParser
from ssr_keras.export.saved_model import check_new_version_dir, save_servable
from ssr_keras.export.signature_names import (
    CLASS_LABELS,
    CLASSIFY_SIGNATURE,
    DEFAULT_SIGNATURE,
    PREDICT_INPUT,
    PREDICT_OUTPUT,
    PREDICT_SIGNATURE,
    RANKER_METHOD_NAMES,
    REGRESS_SIGNATURE,
)
from ssr_keras.export.tf_example import make_example
from ssr_keras.export.warmup import write_warmup_requests

logger = logging.getLogger(__name__)

ExamplesToFeatures = Callable[[tf.Tensor], Mapping[str, tf.Tensor]]


def export_ranker(
    model: keras.Model,
    export_dir: str,
    examples_to_features: ExamplesToFeatures,
    feature_columns: Sequence[str],
    *,
    warmup_examples: Sequence[Mapping[str, str]] | None = None,
    column_types: Mapping[str, str] | None = None,
) -> str:
    """Writes `model` as a TF Serving SavedModel taking serialized `tf.Example`s.

    Args:
        model: a Keras model mapping a feature dict (int64 ids, `ssr_keras.data.ids`) to probabilities
            [B, 1] (or [B]).
        export_dir: the version directory to create, e.g. `<base>/<model_name>/<version>`. Must not
            already hold a SavedModel (TF Serving versions are immutable).
        examples_to_features: traceable callable, serialized `tf.Example`s `tf.string [None]` -> the
            model's feature dict. Any lookup tables it uses must be tracked, i.e. it is a Keras
            layer / `tf.Module`, or its tables belong to `model`.
        feature_columns: the raw feature columns a request carries.
        warmup_examples: raw rows (column -> string value) recorded as warm-up requests. Default: one
            row with "0" in every column, skipped with a warning if the model cannot score it.
        column_types: column -> `"int64"` / `"float"` / `"bytes"`, how warm-up requests type each
            column (`make_example`). Default: the layout's types when `examples_to_features` is a
            `RawExampleParser`, else bytes.

    Returns:
        `export_dir`.

    Raises:
        ValueError: on empty or duplicated `feature_columns`, a model output that is not [B, 1] /
            [B], or `warmup_examples` the model cannot score.
        FileExistsError: if `export_dir` already contains a SavedModel.

    Example:

    >>> export_ranker(model, "/tmp/serving/toy/1", parser, ["user", "item"])  # doctest: +SKIP
    """
    feature_columns = _check_feature_columns(feature_columns)
    check_new_version_dir(export_dir)
    if column_types is None and isinstance(examples_to_features, RawExampleParser):
        column_types = examples_to_features.layout.column_types

    def probabilities(serialized: tf.Tensor) -> tf.Tensor:
        features = examples_to_features(serialized)
        scores = model(features, training=False)
        return _as_column(tf.cast(scores, tf.float32))

    predict, signatures = ranker_signatures(probabilities)
    warmup_rows = _warmup_rows(predict, feature_columns, warmup_examples, column_types)

    trackables = {"model": model}
    if isinstance(examples_to_features, tf.Module):
        trackables["examples_to_features"] = examples_to_features
    save_servable(export_dir, trackables, signatures=signatures, method_names=RANKER_METHOD_NAMES)
    if warmup_rows:
        write_warmup_requests(export_dir, warmup_rows, column_types)
    logger.info("Exported serving model to %s (signatures %s).", export_dir, sorted(RANKER_METHOD_NAMES))
    return export_dir


def ranker_signatures(probabilities: Callable[[tf.Tensor], tf.Tensor]) -> Tuple[Callable, Dict[str, Any]]:
    """The predict `tf.function` and the four serving signatures of a ranker over `probabilities`.

    Args:
        probabilities: traceable, serialized `tf.Example`s `tf.string [None]` -> float32 [B, 1].

    Returns:
        `(predict, signatures)`: the predict function (for warm-up scoring) and the signature map
        `save_servable` takes, keyed as in the module docstring.
    """

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=PREDICT_INPUT)])
    def predict(examples: tf.Tensor) -> Dict[str, tf.Tensor]:
        return {PREDICT_OUTPUT: probabilities(examples)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=tf.saved_model.CLASSIFY_INPUTS)])
    def classify(inputs: tf.Tensor) -> Dict[str, tf.Tensor]:
        positive = probabilities(inputs)
        batch_size = tf.shape(positive)[0]
        return {
            tf.saved_model.CLASSIFY_OUTPUT_CLASSES: tf.tile(tf.constant([CLASS_LABELS]), [batch_size, 1]),
            tf.saved_model.CLASSIFY_OUTPUT_SCORES: tf.concat([1.0 - positive, positive], axis=1),
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=tf.saved_model.REGRESS_INPUTS)])
    def regress(inputs: tf.Tensor) -> Dict[str, tf.Tensor]:
        return {tf.saved_model.REGRESS_OUTPUTS: probabilities(inputs)}

    predict_fn = predict.get_concrete_function()
    return predict, {DEFAULT_SIGNATURE: predict_fn, PREDICT_SIGNATURE: predict_fn,
                     CLASSIFY_SIGNATURE: classify.get_concrete_function(),
                     REGRESS_SIGNATURE: regress.get_concrete_function()}


def _check_feature_columns(feature_columns: Sequence[str]) -> tuple:
    if isinstance(feature_columns, str) or not feature_columns:
        raise ValueError(f"feature_columns must be a non-empty sequence of column names; got {feature_columns!r}.")
    columns = tuple(feature_columns)
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise ValueError(f"feature_columns has duplicated columns {duplicated}.")
    return columns


def _as_column(scores: tf.Tensor) -> tf.Tensor:
    """[B] or [B, 1] scores -> [B, 1]; any other shape is a model that is not a binary ranker."""
    rank = scores.shape.rank
    if rank == 1 or (rank == 2 and scores.shape[1] in (1, None)):
        return tf.reshape(scores, [-1, 1])
    raise ValueError(f"The model must return probabilities of shape [batch, 1] or [batch]; it returned "
                     f"shape {scores.shape}.")


def _warmup_rows(predict: Callable, feature_columns: tuple, warmup_examples: Sequence[Mapping[str, str]] | None,
                 column_types: Mapping[str, str] | None) -> list:
    """Scores the warm-up rows once, eagerly: this also checks `examples_to_features` end to end."""
    rows = [dict(row) for row in warmup_examples] if warmup_examples else [dict.fromkeys(feature_columns, "0")]
    for row in rows:
        missing = [c for c in feature_columns if c not in row]
        if missing:
            raise ValueError(f"warmup example {row} lacks feature columns {missing}.")
    rows = [{c: row[c] for c in feature_columns} for row in rows]
    serialized = tf.constant([make_example(row, column_types).SerializeToString() for row in rows])
    predict.get_concrete_function()  # tracing errors (bad output shape...) are export errors: let them raise
    try:
        probabilities = predict(serialized)[PREDICT_OUTPUT].numpy()
    except tf.errors.OpError as error:
        if warmup_examples:
            raise ValueError(f"The model cannot score warmup_examples: {error}") from error
        logger.warning("No warm-up requests written: the model cannot score an all-\"0\" example (%s). "
                       "Pass warmup_examples (e.g. a few real rows).", str(error).splitlines()[0])
        return []
    if probabilities.shape != (len(rows), 1):
        raise ValueError(f"Expected probabilities of shape {(len(rows), 1)}, got {probabilities.shape}.")
    return rows
