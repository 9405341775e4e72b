"""Knobs of the ssr-keras TFX pipeline (TFX-template style): names, module files, Beam defaults.

Model and training settings are not here: they are `ssr_keras.training.TrainConfig`, passed whole to
the Trainer as `custom_config`.
"""

from __future__ import annotations

import os
from typing import Tuple

from ssr_keras.export.signature_names import DEFAULT_SIGNATURE, PREDICT_OUTPUT

_HERE = os.path.dirname(os.path.abspath(__file__))
TRANSFORM_MODULE_FILE = os.path.join(_HERE, "transform.py")
TRAINER_MODULE_FILE = os.path.join(_HERE, "trainer.py")

# The float 0/1 label feature the ExampleGen writes; the Transform passes it through to the Trainer
# and the Evaluator reads it from the raw examples.
LABEL_KEY = "label"
# The served signature and output the Evaluator scores (what TF Serving will answer with).
EVAL_SIGNATURE = DEFAULT_SIGNATURE
PREDICTION_KEY = PREDICT_OUTPUT
# On the 2-core machines this was built on, DirectRunner in one in-memory worker beats multi-process.
DEFAULT_BEAM_ARGS: Tuple[str, ...] = ("--direct_running_mode=in_memory", "--direct_num_workers=1")
# Data folders without the layout's split files are hash-split train:eval = 4:1.
HASH_SPLIT: Tuple[Tuple[str, int], ...] = (("train", 4), ("eval", 1))
# Evaluator blessing defaults: AUC lower bound, and the largest AUC drop against the last blessed model.
MIN_AUC = 0.5
MAX_AUC_DROP = 0.01
