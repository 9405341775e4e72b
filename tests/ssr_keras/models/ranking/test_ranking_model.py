import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from ssr_keras.analysis import count_params, flops_per_example
from ssr_keras.data import FieldSpec
from ssr_keras.models import RankingModel

SMALL_CONFIGS = {
    "dnn": {"hidden_units": [64, 32]},
    "dcnv2": {"num_cross_layers": 2, "deep_units": [64]},
    "ssr-d": {"num_layers": 2, "num_views": 2, "view_dim": 32},
    "ssr-s": {"num_layers": 2, "num_views": 2, "view_dim": 32},
}


def _model(vocab_sizes, backbone, **kwargs):
    fields = [FieldSpec(name, size) for name, size in vocab_sizes.items()]
    return RankingModel(fields, backbone=backbone, embedding_dim=8,
                        backbone_config=SMALL_CONFIGS[backbone], **kwargs)


@pytest.mark.parametrize("backbone", sorted(SMALL_CONFIGS))
def test_each_backbone_trains_on_frappe_and_loss_falls(frappe_rows, backbone):
    features, labels, vocab_sizes = frappe_rows
    keras.utils.set_random_seed(0)
    model = _model(vocab_sizes, backbone)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    data = tf.data.Dataset.from_tensor_slices((features, labels)).batch(100)
    before = model.evaluate(data, return_dict=True, verbose=0)
    model.fit(data, epochs=1, verbose=0)  # 20 steps
    after = model.evaluate(data, return_dict=True, verbose=0)
    assert {"auc", "logloss", "loss"} <= set(after)
    assert after["logloss"] < before["logloss"] - 0.05
    probabilities = model({k: v[:7] for k, v in features.items()})
    assert probabilities.shape == (7, 1) and probabilities.dtype == tf.float32
    assert np.all((probabilities.numpy() >= 0) & (probabilities.numpy() <= 1))


def test_param_split_and_flops_match_hand_count():
    model = RankingModel([FieldSpec("a", 10), FieldSpec("b", 20, max_len=3)], backbone="dnn",
                         embedding_dim=4, backbone_config={"hidden_units": [16, 8]})
    model({"a": tf.constant([1], tf.int64), "b": tf.constant([[1, 2, -1]], tf.int64)})
    dense = (8 * 16 + 16) + (16 * 8 + 8) + (8 * 1 + 1)
    assert count_params(model) == {"embedding": (10 + 20) * 4, "non_embedding": dense}
    assert flops_per_example(model) == 2 * (8 * 16 + 16 * 8 + 8 * 1)


def test_dcnv2_flops_count_cross_and_deep():
    model = RankingModel([FieldSpec("a", 10), FieldSpec("b", 10)], backbone="dcnv2", embedding_dim=4,
                         backbone_config={"num_cross_layers": 2, "projection_dim": 2,
                                          "deep_units": [16]})
    model({"a": tf.constant([1], tf.int64), "b": tf.constant([2], tf.int64)})
    cross = 2 * (8 * 2 + 2 * 8)  # two low-rank cross layers, U: 8x2 and V: 2x8
    assert flops_per_example(model) == 2 * (cross + 8 * 16 + 16)


def test_embedder_override_leaves_backbone_unchanged(frappe_rows):
    features, labels, vocab_sizes = frappe_rows
    batch = {k: v[:4] for k, v in features.items()}
    default = _model(vocab_sizes, "dnn")
    default(batch)
    wide_item = keras.layers.Embedding(vocab_sizes["item"], 8, name="custom_item")
    custom = _model(vocab_sizes, "dnn", embedders={"item": wide_item})
    custom(batch)
    assert custom.feature_embedding.embedders["item"] is wide_item
    assert count_params(custom)["non_embedding"] == count_params(default)["non_embedding"]
    assert [w.shape for w in custom.backbone.weights] == [w.shape for w in default.backbone.weights]
    custom.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = wide_item.embeddings.numpy().copy()
    custom.fit(tf.data.Dataset.from_tensor_slices((features, labels)).batch(500), verbose=0)
    assert not np.allclose(before, wide_item.embeddings.numpy())  # the override is trained


def test_unknown_backbone_is_rejected():
    with pytest.raises(ValueError, match=r"Unknown backbone; expected one of .* Received: 'mlp'"):
        RankingModel([FieldSpec("a", 3)], backbone="mlp")


def test_count_params_needs_built_model():
    with pytest.raises(ValueError, match="built model"):
        count_params(RankingModel([FieldSpec("a", 3)], backbone="dnn"))
