"""GFSA: NumPy reference, gate extremes = single-stream attention, rows sum to 1, padding masked, serialization."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from ssr_keras.models.ranking_history import GatingFusedSharedAttention

B, N, ES, EI, D = 3, 5, 4, 6, 8


def _inputs(seed=0, gate=None, lengths=(5, 2, 3), self_attention=False):
    rng = np.random.default_rng(seed)
    hs = rng.normal(size=(B, N, ES)).astype("float32")
    hi = rng.normal(size=(B, N, EI)).astype("float32")
    inputs = {"history_sid": hs, "history_id": hi,
              "query_sid": hs if self_attention else rng.normal(size=(B, ES)).astype("float32"),
              "query_id": hi if self_attention else rng.normal(size=(B, EI)).astype("float32"),
              "gate": rng.uniform(size=(B, 1)).astype("float32") if gate is None else np.full((B, 1), gate, "float32"),
              "history_mask": np.arange(N)[None, :] < np.array(lengths)[:, None]}
    return inputs


def _softmax(scores, mask):
    scores = np.where(mask, scores, -np.inf)
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _numpy_attention(layer, inputs):
    p = {name: dense.kernel.numpy() for name, dense in layer.projections.items()}
    qs, qi = inputs["query_sid"], inputs["query_id"]
    single = qs.ndim == 2
    if single:
        qs, qi = qs[:, None], qi[:, None]
    mask = inputs["history_mask"][:, None, :]
    s_sid = _softmax((qs @ p["query_sid"]) @ np.swapaxes(inputs["history_sid"] @ p["key_sid"], 1, 2) / np.sqrt(D),
                     mask)
    s_id = _softmax((qi @ p["query_id"]) @ np.swapaxes(inputs["history_id"] @ p["key_id"], 1, 2) / np.sqrt(D), mask)
    w = inputs["gate"][:, :, None]
    fused = w * s_sid + (1 - w) * s_id
    out = np.concatenate([fused @ inputs["history_sid"], fused @ inputs["history_id"]], -1)
    return (out[:, 0], fused[:, 0], s_sid[:, 0], s_id[:, 0]) if single else (out, fused, s_sid, s_id)


def _run(layer, inputs):
    out, fused = layer({k: tf.constant(v) for k, v in inputs.items()}, return_attention_scores=True)
    return out.numpy(), fused.numpy()


@pytest.mark.parametrize("self_attention", [False, True])
def test_matches_numpy_reference(self_attention):
    layer = GatingFusedSharedAttention(key_dim=D)
    inputs = _inputs(self_attention=self_attention)
    out, fused = _run(layer, inputs)
    ref_out, ref_fused, _, _ = _numpy_attention(layer, inputs)
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused, ref_fused, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("gate,stream", [(1.0, 2), (0.0, 3)])
def test_gate_extremes_equal_single_stream_attention(gate, stream):
    layer = GatingFusedSharedAttention(key_dim=D)
    inputs = _inputs(gate=gate)
    out, fused = _run(layer, inputs)
    single = _numpy_attention(layer, inputs)[stream]
    np.testing.assert_allclose(fused, single, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[:, :ES], np.einsum("bn,bne->be", single, inputs["history_sid"]), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(out[:, ES:], np.einsum("bn,bne->be", single, inputs["history_id"]), rtol=1e-5,
                               atol=1e-5)


def test_fused_rows_sum_to_one_and_padding_gets_zero_weight():
    layer = GatingFusedSharedAttention(key_dim=D)
    inputs = _inputs(lengths=(5, 2, 1))
    _, fused = _run(layer, inputs)
    np.testing.assert_allclose(fused.sum(-1), 1.0, rtol=1e-6)
    assert (fused[~inputs["history_mask"]] == 0).all()
    # Changing padded positions' embeddings does not change the output.
    changed = dict(inputs, history_sid=np.where(inputs["history_mask"][..., None], inputs["history_sid"], 99.0),
                   history_id=np.where(inputs["history_mask"][..., None], inputs["history_id"], -99.0))
    np.testing.assert_allclose(_run(layer, changed)[0], _run(layer, inputs)[0], rtol=1e-6)


def test_empty_history_gives_zeros_not_nan():
    layer = GatingFusedSharedAttention(key_dim=D)
    out, fused = _run(layer, _inputs(lengths=(0, 2, 0)))
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[0], 0.0)
    np.testing.assert_array_equal(fused[2], 0.0)


def test_per_query_gate_for_self_attention():
    layer = GatingFusedSharedAttention(key_dim=D)
    inputs = _inputs(self_attention=True)
    inputs["gate"] = np.random.default_rng(4).uniform(size=(B, N)).astype("float32")
    out, fused = _run(layer, inputs)
    ref_out, ref_fused, _, _ = _numpy_attention(layer, inputs)
    np.testing.assert_allclose(fused, ref_fused, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="key_dim=0"):
        GatingFusedSharedAttention(key_dim=0)
    with pytest.raises(ValueError, match="must have keys"):
        GatingFusedSharedAttention()({"query_sid": tf.ones([1, 2])})


def test_config_and_saved_model_round_trip(tmp_path):
    layer = GatingFusedSharedAttention(key_dim=D, use_bias=True)
    assert GatingFusedSharedAttention.from_config(layer.get_config()).get_config() == layer.get_config()
    names = ("query_sid", "query_id", "history_sid", "history_id", "gate", "history_mask")
    shapes = ((ES,), (EI,), (N, ES), (N, EI), (1,), (N,))
    inputs = {n: keras.Input(s, name=n, dtype="bool" if n == "history_mask" else "float32")
              for n, s in zip(names, shapes)}
    model = keras.Model(inputs, layer(inputs))
    model.save(str(tmp_path / "sm"), save_format="tf")
    restored = keras.models.load_model(str(tmp_path / "sm"))
    x = _inputs(seed=7)
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
