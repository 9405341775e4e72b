"""GateSIDRankingModel: every mode trains, backbones, gate range, alignment term, raw-id fallbacks, save/load."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from ssr_keras.models.ranking_history import MODES, GateSIDRankingModel

TABLE = np.array([[-1, -1]] + [[i % 4, (i * 3) % 4] for i in range(1, 13)])  # catalog ids 0..12
NUM_KNOWN = 8  # ids 9..12 are content-only (cold) items


def _features(n=64, seed=0):
    rng = np.random.default_rng(seed)
    history = rng.integers(1, 13, size=(n, 5))
    history[rng.uniform(size=(n, 5)) < 0.3] = -1
    history[0] = -1  # an empty history
    return {"user": rng.integers(0, 6, n), "item": rng.integers(1, 13, n), "history": history,
            "maturity": rng.normal(size=(n, 4)).astype("float32"), "user_stats": rng.uniform(size=(n, 2))
            .astype("float32")}


def _model(mode="gatesid", backbone="dnn", **kwargs):
    config = dict(num_users=6, num_known_items=NUM_KNOWN, sid_table=TABLE, codebook_sizes=4, mode=mode,
                  sid_level_dim=4, attention_dim=8, num_user_stats=2, backbone=backbone,
                  backbone_config={"hidden_units": [16]} if backbone == "dnn" else
                  {"num_layers": 1, "num_views": 2, "view_dim": 8})
    config.update(kwargs)
    return GateSIDRankingModel(**config)


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_trains(mode):
    tf.keras.utils.set_random_seed(0)
    features = _features()
    labels = (features["item"] % 2).astype("float32")
    model = _model(mode)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(tf.data.Dataset.from_tensor_slices((features, labels)).batch(16), epochs=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert history.history["loss"][-1] < history.history["loss"][0]
    probs = model(features).numpy()
    assert probs.shape == (64, 1) and ((probs > 0) & (probs < 1)).all()


def test_ssr_d_backbone_and_gate_range():
    model = _model("gatesid", backbone="ssr-d")
    encoded = model.encode(_features())
    w = encoded["gate"].numpy()
    assert ((w > 0) & (w < 1)).all()
    assert model.backbone.__class__.__name__ == "SSRBackbone"


def test_alignment_term_only_in_two_stream_modes():
    features = _features()
    labels = np.zeros(64, "float32")
    for mode in MODES:
        model = _model(mode, alignment_weight=5.0)
        total = float(model.compute_loss((features, labels)))
        rank = float(model.task(labels=labels[:, None], predictions=model.logits(features)))
        assert (abs(total - rank) > 1e-4) == (mode in ("fixed-gate", "gatesid")), mode


def test_unknown_ids_and_no_user_never_crash():
    model = _model(num_users=None)
    features = _features(8)
    features.pop("user")
    features["item"] = np.array([0, 10**6, -3, 5, 12, 1, 2, 3])
    features["history"][1] = [10**6, -7, 0, -1, -1]
    assert np.isfinite(model(features).numpy()).all()


def test_bad_arguments_and_missing_features():
    with pytest.raises(ValueError, match="mode='sid'"):
        _model("sid")
    with pytest.raises(ValueError, match="backbone='mlp'"):
        _model(backbone="mlp")
    with pytest.raises(ValueError, match="fixed_gate=2"):
        _model(fixed_gate=2)
    with pytest.raises(ValueError, match="must have"):
        _model()({"item": tf.constant([1])})


def test_config_and_saved_model_round_trip(tmp_path):
    model = _model("gatesid")
    features = {k: tf.constant(v) for k, v in _features(16).items()}
    expected = model(features).numpy()
    clone = GateSIDRankingModel.from_config(model.get_config())
    clone(features)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(features).numpy(), expected, rtol=1e-6)
    model.save(str(tmp_path / "sm"), save_format="tf")
    restored = tf.saved_model.load(str(tmp_path / "sm"))
    np.testing.assert_allclose(restored(features, training=False).numpy(), expected, rtol=1e-5)


def test_a_maturity_only_gate_ignores_the_item_embedding():
    model = _model("gatesid", gate_inputs="maturity")
    features = _features()
    same_maturity = dict(features, maturity=np.tile(features["maturity"][:1], (64, 1)))
    gates = model.encode(same_maturity)["gate"].numpy()
    np.testing.assert_allclose(gates, gates[0, 0], rtol=1e-6)  # items differ, maturity does not
    assert GateSIDRankingModel.from_config(model.get_config()).gate_inputs == "maturity"
    with pytest.raises(ValueError, match="gate_inputs"):
        _model("gatesid", gate_inputs="embedding")


def test_gate_supervision_adds_the_young_item_cross_entropy():
    features = _features()
    labels = np.zeros(64, "float32")
    plain = _model("gatesid")
    supervised = _model("gatesid", gate_supervision=2.0, young_days=1.0)
    plain(features)
    supervised(features)
    supervised.set_weights(plain.get_weights())
    gate = plain.encode(features)["gate"].numpy()
    young = (features["maturity"][:, :1] < np.log1p(1.0)).astype("float32")
    expected = 2.0 * np.mean(-(young * np.log(gate) + (1 - young) * np.log(1 - gate)))
    extra = float(supervised.compute_loss((features, labels))) - float(plain.compute_loss((features, labels)))
    np.testing.assert_allclose(extra, expected, rtol=1e-3)
    assert GateSIDRankingModel.from_config(supervised.get_config()).gate_supervision == 2.0
