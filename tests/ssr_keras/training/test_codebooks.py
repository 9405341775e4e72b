"""BACO codebook embedders for ranking models: fitted on positive training pairs, used by ssr-train."""

import numpy as np
import pytest
import tensorflow as tf

from ssr_keras.data import get_layout
from ssr_keras.embeddings.codebook import CodebookEmbedding
from ssr_keras.training import TrainConfig, run_experiment
from ssr_keras.training.codebooks import codebook_embedders

FRAPPE = get_layout("frappe")


def _fields(size):
    return [f.with_vocab_size(size) for f in FRAPPE.fields]


def test_only_known_positive_pairs_are_clustered_and_oov_embeds_to_the_unseen_row():
    users = np.array([1, 2, 3, 4, 0, 5])
    items = np.array([1, 1, 2, 2, 3, 4])
    labels = np.array([1, 1, 1, 1, 1, 0])
    embedders = codebook_embedders(TrainConfig(embedding="baco", embedding_budget=0.5, embedding_dim=4), FRAPPE,
                                   _fields(6), users, items, labels)
    user, item = embedders["user"], embedders["item"]
    assert isinstance(user, CodebookEmbedding) and user.vocab_size == 6 and item.vocab_size == 6
    vectors = user(tf.constant([0, 99, 1], tf.int64)).numpy()
    np.testing.assert_array_equal(vectors[0], vectors[1])  # the OOV id 0 embeds to the unseen row
    assert user.num_codes + item.num_codes <= 5  # half of the 10 known user + item ids


def test_table_needs_nothing_and_layouts_without_user_and_item_fields_are_refused():
    assert codebook_embedders(TrainConfig(), FRAPPE, _fields(3), [], [], []) == {}
    criteo = get_layout("criteo")
    with pytest.raises(ValueError, match="needs a layout with user and item fields"):
        codebook_embedders(TrainConfig(embedding="baco"), criteo, [f.with_vocab_size(3) for f in criteo.fields],
                           [1], [1], [1])


def test_bad_budget_is_named():
    with pytest.raises(ValueError, match=r"embedding_budget must be a fraction in \(0, 1\). Received: 2"):
        TrainConfig(embedding="baco", embedding_budget=2)


@pytest.mark.parametrize("embedding, options, message", [
    ("baco", {"gama": 4.0}, r"embedding_options \['gama'\] are not arguments of embedding='baco'; expected any of"),
    ("table", {"levels": 5}, "embedding_options applies to a codebook embedding, not embedding='table'"),
    ("baco", [1], "embedding_options must be a JSON object of codebook arguments. Received: \\[1\\]"),
])
def test_bad_embedding_options_are_named(embedding, options, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(embedding=embedding, embedding_options=options)


def test_embedding_options_reach_the_codebook_fit():
    users, items = np.repeat(np.arange(1, 7), 3), np.tile(np.arange(1, 4), 6)
    config = TrainConfig(embedding="baco", embedding_budget=0.5, embedding_dim=4,
                         embedding_options={"gamma": 4.0, "levels": 3, "secondary": False})
    assert TrainConfig.from_dict(config.to_dict()) == config
    embedders = codebook_embedders(config, FRAPPE, _fields(8), users, items, np.ones(users.size))
    user_codes = np.array(embedders["user"].get_config()["code_map"])
    assert (user_codes[:, 1] < 0).all()  # secondary=False reached fit_baco: no user has a second code


def test_run_experiment_with_baco_has_fewer_embedding_rows(data_dir):
    common = dict(backbone="dnn", backbone_config={"hidden_units": [32]}, epochs=3, max_train_rows=3000,
                  batch_size=256, learning_rate=0.003,
                  max_valid_rows=500, embedding_normalization=None)
    table = run_experiment(TrainConfig(**common), str(data_dir / "frappe-ctr"), verbose=0)
    baco = run_experiment(TrainConfig(embedding="baco", embedding_budget=0.25, **common),
                          str(data_dir / "frappe-ctr"), verbose=0)
    assert isinstance(baco.model.feature_embedding.embedders["item"], CodebookEmbedding)
    assert baco.metrics["params_embedding"] < table.metrics["params_embedding"]
    assert 0.55 < baco.metrics["test_auc"] <= 1.0
