"""The per-view-loop reference blocks of `benchmarks/speed.py` compute what ssr-keras' blocks compute.

Trained-looking (random, non-default) weights are copied from an ssr-keras block into the reference
and both must give the same outputs to 1e-5, so the speed ratio compares the same computation.
"""

import numpy as np
import pytest
import tensorflow as tf

import ssr_keras
from benchmarks.reference_blocks import ReferenceBackbone, ReferenceRankingModel, ReferenceSSRDBlock, ReferenceSSRSBlock
from ssr_keras.data import FieldSpec
from ssr_keras.models import RankingModel


def _randomize(layer, seed):
    """Replaces every trainable weight with random values, so defaults (ones, zeros) hide nothing."""
    rng = np.random.default_rng(seed)
    for weight in layer.trainable_weights:
        weight.assign(rng.normal(0.0, 0.3, size=weight.shape).astype("float32") + (
            0.6 if "alpha" in weight.name or "gamma" in weight.name else 0.0))


def _inputs(shape, seed=0):
    return tf.constant(np.random.default_rng(seed).normal(size=shape).astype("float32"))


@pytest.mark.parametrize("use_gate", [True, False])
def test_ssr_d_reference_matches(use_gate):
    x = _inputs((16, 24))
    ours = ssr_keras.SSRDBlock(num_views=3, view_dim=8, iterations=3, use_gate=use_gate)
    ours(x)
    _randomize(ours, 1)
    reference = ReferenceSSRDBlock(3, 8, iterations=3, use_gate=use_gate)
    reference(x)
    reference.load_from(ours)
    expected = ours(x).numpy()
    assert (expected != 0).any()
    np.testing.assert_allclose(reference(x).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_ssr_s_reference_matches():
    x = _inputs((16, 24))
    ours = ssr_keras.SSRSBlock(num_views=4, view_dim=10, num_hidden_layers=2, seed=5)
    ours(x)
    _randomize(ours, 2)
    reference = ReferenceSSRSBlock.like(ours)
    reference(x)
    reference.load_from(ours)
    np.testing.assert_allclose(reference(x).numpy(), ours(x).numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("variant,config", [
    ("ssr-d", {"num_layers": 2, "num_views": 4, "view_dim": 8, "iterations": 5}),
    ("ssr-s", {"num_layers": 2, "num_views": 4, "view_dim": 16, "num_hidden_layers": 2}),
])
def test_reference_ranking_stack_matches(variant, config):
    fields = [FieldSpec(name, 30) for name in ("user", "item", "city")]
    ours = RankingModel(fields, backbone=variant, embedding_dim=8, backbone_config=config)
    features = {f.name: tf.constant(np.random.default_rng(3).integers(0, 30, 32), tf.int64) for f in fields}
    ours.logits(features)
    _randomize(ours, 4)
    reference = ReferenceRankingModel({f.name: 30 for f in fields}, 8, ReferenceBackbone.like(ours.backbone))
    reference(features)
    reference.load_from(ours)
    np.testing.assert_allclose(reference(features).numpy(), ours.logits(features).numpy(), rtol=1e-5, atol=1e-5)
