"""A `RankingModel` traced for a fixed batch of one returns scores (it used to abort the process).

TF 2.16.2's oneDNN graph rewriter fused `tf.nn.moments` inside `ViewLayerNorm` into a layer-norm kernel
when the batch was statically 1 and aborted with "libprotobuf FATAL ... key not found: value". The
calls run in one subprocess (both backbones: one TensorFlow import) so a regression fails these tests
instead of killing the suite.
"""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

SCRIPT = """
import os
os.environ["TF_USE_LEGACY_KERAS"] = "1"
import tensorflow as tf
from ssr_keras.data import FieldSpec
from ssr_keras.models import RankingModel

fields = [FieldSpec(name, 50) for name in ("user", "item", "city")]
spec = {f.name: tf.TensorSpec([1], tf.int64) for f in fields}
for backbone in ("ssr-d", "ssr-s"):
    model = RankingModel(fields, backbone=backbone, embedding_dim=16,
                         backbone_config={"num_layers": 2, "num_views": 4, "view_dim": 32})
    score = tf.function(lambda features: model(features, training=False), input_signature=[spec])
    out = score({f.name: tf.constant([3], tf.int64) for f in fields})
    print(backbone, "scores", out.shape, float(out[0, 0]), flush=True)
"""


@pytest.fixture(scope="module")
def traced_calls() -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")  # oneDNN stays on: it is what used to crash
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)
    return subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("backbone", ["ssr-d", "ssr-s"])
def test_traced_batch_of_one_returns_scores(traced_calls, backbone):
    assert f"{backbone} scores (1, 1)" in traced_calls.stdout, traced_calls.stderr[-2000:]
    assert traced_calls.returncode == 0, traced_calls.stderr[-2000:]
