"""Codebook embedders (BACO or a baseline) for a ranking model's user and item fields, fitted on the train split.

With `TrainConfig(embedding="baco")` the layout's `user_field` and `item_field` share codebook rows:
users and items are co-clustered (`ssr_keras.embeddings.codebook.fit_baco`) on the (user, item) pairs of
the training rows with label 1, within `embedding_budget` of their ids, and each field gets a
`CodebookEmbedding` keyed by the id scheme's ids (the OOV id 0 embeds to the unseen row). `ssr-train`
collects the pairs from its reader, the TFX Trainer from the Transform's training split: the clustering
sees the training split only, and the code maps travel inside the exported model.

Example:

>>> from ssr_keras.data import get_layout
>>> layout = get_layout("frappe")
>>> fields = [f.with_vocab_size(5) for f in layout.fields]
>>> embedders = codebook_embedders(TrainConfig(embedding="baco", embedding_budget=0.5), layout, fields,
...                                users=np.array([1, 2, 3, 4]), items=np.array([1, 1, 2, 2]),
...                                labels=np.array([1.0, 1.0, 1.0, 0.0]))
>>> sorted(embedders), embedders["user"].vocab_size
(['item', 'user'], 5)
"""

from __future__ import annotations

from typing import Dict, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tf_keras as keras

from ssr_keras.data.field_spec import FieldSpec
from ssr_keras.data.ids import NUM_OOV_BUCKETS
from ssr_keras.data.layouts import Layout
from ssr_keras.embeddings.codebook import CodebookEmbedding, fit_codebook
from ssr_keras.training.config import TrainConfig


def codebook_embedders(config: TrainConfig, layout: Layout, fields: Sequence[FieldSpec], users: np.ndarray,
                       items: np.ndarray, labels: np.ndarray) -> Dict[str, keras.layers.Layer]:
    """The user and item embedders `config.embedding` asks for (`{}` for "table").

    Args:
        config: the run's settings (`embedding`, `embedding_budget`, `embedding_options`, `embedding_dim`,
            `seed`).
        layout: names the user and item fields.
        fields: the model's fields with their id ranges.
        users, items: the training rows' user and item ids (the id scheme's ids).
        labels: the training rows' 0/1 labels; pairs with label 1 are the interactions clustered.

    Raises:
        ValueError: the layout declares no user or item field.
    """
    if config.embedding == "table":
        return {}
    if not layout.user_field or not layout.item_field:
        raise ValueError(f"embedding={config.embedding!r} needs a layout with user and item fields; layout "
                         f"{layout.name!r} has user_field={layout.user_field!r}, item_field={layout.item_field!r}.")
    sizes = {f.name: f.vocab_size for f in fields}
    num_users, num_items = (sizes[layout.user_field] - NUM_OOV_BUCKETS, sizes[layout.item_field] - NUM_OOV_BUCKETS)
    users, items = np.asarray(users, np.int64).ravel(), np.asarray(items, np.int64).ravel()
    # Known ids only (OOV 0 has no row of its own), shifted to BACO's 0-based ids.
    keep = (np.asarray(labels).ravel() > 0.5) & (users >= NUM_OOV_BUCKETS) & (items >= NUM_OOV_BUCKETS)
    edges = np.stack([users[keep], items[keep]], axis=1) - NUM_OOV_BUCKETS
    assignment = fit_codebook(config.embedding, edges, num_users, num_items, budget=config.embedding_budget,
                              seed=config.seed, **config.embedding_options)
    # The same L2 penalty as the default tables get, so codebooks and tables are compared on one recipe.
    regularizer = keras.regularizers.L2(config.embedding_l2) if config.embedding_l2 else None
    return {field: CodebookEmbedding.from_assignment(assignment, side, config.embedding_dim,
                                                     embeddings_regularizer=regularizer, name=f"{field}_codebook")
            for field, side in ((layout.user_field, "user"), (layout.item_field, "item"))}


def training_pairs(dataset: tf.data.Dataset, layout: Layout) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (users, items, labels) of one pass over `(features, labels)` batches of the training split."""
    users, items, labels = [], [], []
    for features, batch_labels in dataset.as_numpy_iterator():
        users.append(np.ravel(features[layout.user_field]))
        items.append(np.ravel(features[layout.item_field]))
        labels.append(np.ravel(batch_labels))
    return np.concatenate(users), np.concatenate(items), np.concatenate(labels)
