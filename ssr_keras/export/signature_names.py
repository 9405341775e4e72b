"""Names of the exported serving signatures, their inputs and outputs, and their TF Serving methods.

One home for the names an export writes and a server or client reads.
"""

from __future__ import annotations

import os
from typing import Dict

import tensorflow as tf

DEFAULT_SIGNATURE = tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY  # "serving_default"
PREDICT_SIGNATURE = "predict"
CLASSIFY_SIGNATURE = "classification"
REGRESS_SIGNATURE = "regression"

# Predict: serialized tf.Examples in, the positive-class probability out.
PREDICT_INPUT = "examples"
PREDICT_OUTPUT = "probabilities"
# Classify's two classes, in `scores` column order.
CLASS_LABELS = ("0", "1")

# The SignatureDef method name TF Serving's Predict / Classify / Regress APIs expect of each key.
RANKER_METHOD_NAMES: Dict[str, str] = {
    DEFAULT_SIGNATURE: tf.saved_model.PREDICT_METHOD_NAME,
    PREDICT_SIGNATURE: tf.saved_model.PREDICT_METHOD_NAME,
    CLASSIFY_SIGNATURE: tf.saved_model.CLASSIFY_METHOD_NAME,
    REGRESS_SIGNATURE: tf.saved_model.REGRESS_METHOD_NAME,
}

# Where TF Serving looks for warm-up requests (`SavedModelBundleWarmupOptions`).
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
