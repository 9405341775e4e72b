import csv
import itertools

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_recommenders as tfrs
import tf_keras as keras

from ssr_keras import SSRBackbone, SSRDBlock, SSRSBlock


def _random(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _layer_norm(x, eps=1e-6):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)


def test_ssr_s_block_equals_filter_mlp_residual_layer_norm():
    block = SSRSBlock(num_views=3, view_dim=4, num_hidden_layers=2, seed=9)
    x = _random((5, 10))
    out = block(x).numpy()
    gathered = x[:, block.filter.indices.numpy()]
    hidden = gathered
    for fusion in block.hidden:
        pre = np.einsum("bvd,vdu->bvu", hidden, fusion.kernel.numpy()) + fusion.bias.numpy()
        hidden = tf.nn.gelu(pre).numpy()
    np.testing.assert_allclose(out, _layer_norm(hidden + gathered), rtol=1e-4, atol=1e-4)


def test_ssr_s_block_weight_names_are_those_of_its_parts():
    # The block builds its parts itself (they run view-major); names must still say whose weight it is.
    block = SSRSBlock(num_views=2, view_dim=4, num_hidden_layers=2, name="s")
    block(_random((3, 6)))
    assert sorted(w.name for w in block.weights) == sorted([
        "s/fusion_0/kernel:0", "s/fusion_0/bias:0", "s/fusion_1/kernel:0", "s/fusion_1/bias:0",
        "s/layer_norm/gamma:0", "s/layer_norm/beta:0", "s/filter/indices:0"])


def test_ssr_d_block_equals_projection_ics_gate_fusion():
    block = SSRDBlock(num_views=2, view_dim=4, iterations=2, alpha_init=0.5)
    x = _random((5, 10), seed=1)
    out = block(x).numpy()
    proj = (x @ block.projection.kernel.numpy()).reshape(5, 2, 4)
    gate = (x @ block.gate.kernel.numpy()).reshape(5, 2, 4)
    filtered = block.ics(proj).numpy() * gate
    fusion = block.fusion
    fused = tf.nn.gelu(np.einsum("bvd,vdu->bvu", filtered, fusion.kernel.numpy()) + fusion.bias.numpy()).numpy()
    np.testing.assert_allclose(out, _layer_norm(fused + filtered), rtol=1e-4, atol=1e-4)


def test_ssr_d_block_without_gate_has_no_gate_weights():
    block = SSRDBlock(num_views=2, view_dim=4, use_gate=False)
    block(_random((1, 6)))
    assert block.gate is None
    assert not any("gate" in w.name for w in block.weights)


@pytest.mark.parametrize("variant", ["ssr-s", "ssr-d"])
def test_backbone_concatenates_between_and_averages_after(variant):
    backbone = SSRBackbone(variant, num_layers=3, num_views=4, view_dim=6)
    x = _random((7, 30), seed=2)
    out = backbone(x).numpy()
    assert out.shape == (7, 6)
    h = x
    for block in backbone.blocks[:-1]:
        h = block(h).numpy().reshape(7, -1)
    np.testing.assert_allclose(out, backbone.blocks[-1](h).numpy().mean(axis=1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("variant", ["ssr-s", "ssr-d"])
def test_block_residual_adds_each_later_blocks_input(variant):
    backbone = SSRBackbone(variant, num_layers=3, num_views=4, view_dim=6, block_residual=True)
    x = _random((7, 30), seed=3)
    out = backbone(x).numpy()
    h = backbone.blocks[0](x).numpy().reshape(7, -1)  # widths differ (30 vs 24): no residual
    for block in backbone.blocks[1:]:
        h = block(h).numpy().reshape(7, -1) + h
    np.testing.assert_allclose(out, h.reshape(7, 4, 6).mean(axis=1), rtol=1e-5, atol=1e-5)
    plain = SSRBackbone(variant, num_layers=3, num_views=4, view_dim=6)
    plain(x)
    plain.set_weights(backbone.get_weights())
    assert not np.allclose(plain(x).numpy(), out)


@pytest.mark.parametrize("variant", ["ssr-s", "ssr-d"])
def test_block_residual_on_the_first_block_when_the_input_width_matches(variant):
    # SSR-S passes views view-major between blocks; a [B, 24] input must still be added flat to [B, 4 x 6].
    backbone = SSRBackbone(variant, num_layers=2, num_views=4, view_dim=6, block_residual=True)
    x = _random((5, 24), seed=4)
    out = backbone(x).numpy()
    h = x
    for block in backbone.blocks:
        h = block(h).numpy().reshape(5, -1) + h
    np.testing.assert_allclose(out, h.reshape(5, 4, 6).mean(axis=1), rtol=1e-5, atol=1e-5)


def test_ssr_s_backbone_blocks_draw_different_filters():
    backbone = SSRBackbone("ssr-s", num_layers=2, num_views=2, view_dim=4, seed=1)
    backbone(_random((1, 8)))
    first, second = (b.filter.indices.numpy() for b in backbone.blocks)
    assert not np.array_equal(first, second)


def test_official_ssr_d_defaults():
    backbone = SSRBackbone()
    assert (backbone.variant, backbone.num_layers, backbone.num_views, backbone.view_dim) == ("ssr-d", 2, 8, 128)
    assert backbone.blocks[0].ics.iterations == 5


@pytest.mark.parametrize("kwargs,name", [
    ({"variant": "ssr-x"}, "variant"),
    ({"num_layers": 0}, "num_layers"),
    ({"num_views": -1}, "num_views"),
    ({"view_dim": 1.5}, "view_dim"),
    ({"variant": "ssr-d", "iterations": -2}, "iterations"),
    ({"variant": "ssr-d", "dropout": 2.0}, "dropout"),
    ({"variant": "ssr-s", "num_hidden_layers": -1}, "num_hidden_layers"),
    ({"variant": "ssr-s", "seed": -3}, "seed"),
])
def test_invalid_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SSRBackbone(**kwargs)(_random((1, 8)))


def test_unknown_block_argument_is_rejected():
    with pytest.raises(TypeError, match="no_such_option"):
        SSRBackbone("ssr-d", no_such_option=1)


# ---- an SSR backbone inside a tfrs.Model, trained on real Frappe rows --------------------------

FIELDS = ("user", "item", "daytime", "weekday", "isweekend", "homework", "cost", "weather", "country", "city")


def _frappe_rows(data_dir, n):
    with open(data_dir / "frappe-ctr" / "train.csv", newline="") as f:
        rows = list(itertools.islice(csv.DictReader(f), n))
    features = {name: np.array([r[name] for r in rows]) for name in FIELDS}
    return features, np.array([float(r["label"]) for r in rows], "float32")


class _FrappeRanker(tfrs.Model):
    def __init__(self, backbone):
        super().__init__()
        self.lookups = {n: keras.layers.Hashing(num_bins=2048) for n in FIELDS}
        self.embeddings = {n: keras.layers.Embedding(2048, 8) for n in FIELDS}
        self.backbone = backbone
        self.head = keras.layers.Dense(1)
        self.task = tfrs.tasks.Ranking(loss=keras.losses.BinaryCrossentropy(from_logits=True),
                                       metrics=[keras.metrics.AUC(from_logits=True, name="auc")])

    def call(self, features):
        embedded = [self.embeddings[n](self.lookups[n](features[n])) for n in FIELDS]
        return self.head(self.backbone(tf.concat(embedded, axis=-1)))

    def compute_loss(self, inputs, training=False):
        features, labels = inputs
        return self.task(labels=labels, predictions=self(features, training=training))


@pytest.mark.parametrize("variant,config", [
    ("ssr-d", {"num_views": 4, "view_dim": 32, "alpha_init": 0.5}),
    ("ssr-s", {"num_views": 4, "view_dim": 40}),
])
def test_trains_inside_tfrs_model_on_frappe(data_dir, variant, config):
    keras.utils.set_random_seed(0)
    features, labels = _frappe_rows(data_dir, 4096)
    dataset = tf.data.Dataset.from_tensor_slices((features, labels)).batch(256).cache()
    model = _FrappeRanker(SSRBackbone(variant, num_layers=2, **config))
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = model.evaluate(dataset, return_dict=True, verbose=0)
    history = model.fit(dataset, epochs=3, verbose=0)
    after = model.evaluate(dataset, return_dict=True, verbose=0)
    assert after["loss"] < before["loss"] - 0.05
    assert after["auc"] > before["auc"]
    if variant == "ssr-d":  # the ICS sparsity reaches the training logs
        sparsity_keys = [k for k in history.history if k.endswith("_sparsity")]
        assert len(sparsity_keys) == 2
        assert all(0 < history.history[k][-1] < 1 for k in sparsity_keys)
