"""GateRegulatedAlignment: hand-computed 3-item value, linear in w, accidental hits, NumPy reference."""

import numpy as np
import pytest
import tensorflow as tf

from ssr_keras.models.ranking_history import GateRegulatedAlignment

SID = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], "float32")
IDS = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], "float32")


def test_hand_computed_three_item_example():
    # dot similarity, tau = 1: logits = SID @ IDS^T = [[1,0,0],[0,1,1],[1,1,1]].
    # item 0: -log(e/(e+2)); item 1: -log(e/(1+2e)); item 2: -log(e/(3e)) = log 3.
    e = np.e
    expected = [np.log((e + 2) / e), np.log((1 + 2 * e) / e), np.log(3.0)]
    task = GateRegulatedAlignment(weight=0.1, temperature=1.0, similarity="dot")
    np.testing.assert_allclose(task.per_item_loss(SID, IDS).numpy(), expected, rtol=1e-6)
    w = np.array([0.2, 0.5, 1.0], "float32")
    loss = float(task({"sid": SID, "id": IDS, "gate": w}))
    np.testing.assert_allclose(loss, 0.1 * np.mean(w * np.array(expected)), rtol=1e-6)


def test_linear_in_the_gate():
    task = GateRegulatedAlignment(weight=0.1, temperature=0.5)
    w = np.array([0.3, 0.1, 0.7], "float32")
    base = float(task({"sid": SID, "id": IDS, "gate": w}))
    np.testing.assert_allclose(float(task({"sid": SID, "id": IDS, "gate": 3 * w})), 3 * base, rtol=1e-6)
    other = np.array([0.5, 0.9, 0.0], "float32")
    np.testing.assert_allclose(float(task({"sid": SID, "id": IDS, "gate": w + other})),
                               base + float(task({"sid": SID, "id": IDS, "gate": other})), rtol=1e-6)
    assert float(task({"sid": SID, "id": IDS, "gate": np.zeros(3, "float32")})) == 0.0


def test_cosine_matches_numpy_reference():
    rng = np.random.default_rng(0)
    s, e = rng.normal(size=(6, 4)).astype("float32"), rng.normal(size=(6, 4)).astype("float32")
    w = rng.uniform(size=(6, 1)).astype("float32")
    sn, en = s / np.linalg.norm(s, axis=1, keepdims=True), e / np.linalg.norm(e, axis=1, keepdims=True)
    logits = sn @ en.T / 0.2
    log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    expected = 0.1 * np.mean(w[:, 0] * -np.diag(log_softmax))
    task = GateRegulatedAlignment(temperature=0.2)
    np.testing.assert_allclose(float(task({"sid": s, "id": e, "gate": w})), expected, rtol=1e-5)


def test_accidental_hits_and_sample_weight():
    task = GateRegulatedAlignment(weight=1.0, temperature=1.0, similarity="dot")
    # Items 1 and 2 are the same item: each is not the other's negative.
    per_item = task.per_item_loss(SID, IDS, tf.constant([7, 8, 8])).numpy()
    e = np.e
    np.testing.assert_allclose(per_item, [np.log((e + 2) / e), np.log((1 + e) / e), np.log(2.0)], rtol=1e-6)
    loss = float(task({"sid": SID, "id": IDS, "gate": np.ones(3, "float32"), "sample_weight": [1.0, 0.0, 0.0]}))
    np.testing.assert_allclose(loss, np.log((e + 2) / e) / 3, rtol=1e-6)


def test_gate_gradient_stopped_by_default():
    w = tf.Variable([0.5, 0.5, 0.5])
    for stop in (True, False):
        with tf.GradientTape() as tape:
            loss = GateRegulatedAlignment(stop_gate_gradient=stop)({"sid": SID, "id": IDS, "gate": w})
        assert (tape.gradient(loss, w) is None) == stop


@pytest.mark.parametrize("kwargs,match", [({"temperature": 0.0}, "temperature=0.0"),
                                          ({"weight": -1.0}, "weight=-1.0"),
                                          ({"similarity": "l2"}, "similarity='l2'")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GateRegulatedAlignment(**kwargs)


def test_config_round_trip():
    task = GateRegulatedAlignment(weight=0.3, temperature=0.07, similarity="dot", stop_gate_gradient=False)
    clone = GateRegulatedAlignment.from_config(task.get_config())
    assert clone.get_config() == task.get_config()
    args = {"sid": SID, "id": IDS, "gate": np.ones(3, "float32")}
    assert float(clone(args)) == float(task(args))
