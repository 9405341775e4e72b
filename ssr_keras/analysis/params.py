"""Parameter counts split into embedding tables and everything else."""

from __future__ import annotations

from typing import Dict

import numpy as np
import tf_keras as keras


def count_params(model: keras.Model) -> Dict[str, int]:
    """Counts a built model's weights as "embedding" (owned by embedders) or "non_embedding".

    Embedding weights are those of the per-field embedders of the model's `feature_embedding`
    (`FeatureEmbedding.embedding_weights()`); every other weight (backbone, head, normalisation of
    the concatenated embeddings, BatchNorm statistics) is non-embedding. Trainable and non-trainable
    weights both count, as in `keras.Model.count_params`.

    Args:
        model: a built `RankingModel` (call it once on a batch first).

    Returns:
        `{"embedding": int, "non_embedding": int}`.

    Example:

    >>> import tensorflow as tf
    >>> from ssr_keras.data import FieldSpec
    >>> from ssr_keras.models import RankingModel
    >>> model = RankingModel([FieldSpec("user", 10), FieldSpec("item", 20)], backbone="dnn", embedding_dim=4,
    ...                      backbone_config={"hidden_units": [8]})
    >>> _ = model({"user": tf.constant([1]), "item": tf.constant([2])})  # builds the weights
    >>> count_params(model)  # 30 rows x 4; Dense(8) on 8 inputs + the Dense(1) head
    {'embedding': 120, 'non_embedding': 81}
    """
    if not model.built or not model.weights:
        raise ValueError("count_params needs a built model: call it on one batch of features first.")
    embedding_ids = {id(w) for w in model.feature_embedding.embedding_weights()}
    counts = {"embedding": 0, "non_embedding": 0}
    seen = set()
    for weight in model.weights:
        if id(weight) in seen:
            continue
        seen.add(id(weight))
        key = "embedding" if id(weight) in embedding_ids else "non_embedding"
        counts[key] += int(np.prod(weight.shape))
    return counts
