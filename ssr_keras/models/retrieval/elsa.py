"""`ELSA`: scalable linear shallow autoencoder for item-based retrieval, dense or with top-k sparse rows.

ELSA (Vančura et al., RecSys '22) scores the items of a user with interaction vector `x` as
`relu(x A Aᵀ − x)` with `A = normalize(W)` (unit-norm item rows, so `A Aᵀ` has a unit diagonal and
subtracting `x` removes each item's self-similarity, EASE's zero-diagonal constraint for free). Compressed
ELSA (Vančura et al., WWW '26, arXiv 2602.09935) makes `A` top-k sparse with `TopKSparseEmbedding` and
lowers k while training (`ssr_keras.training.pruning.TopKPruning`).

Training minimises the NMSE between the row-normalised prediction and the row-normalised input over
*sampled outputs*: the items with an interaction in the batch plus uniformly drawn other items (with
replacement) up to `max_output` columns; `max_output=None` uses every item. The paper uses Nadam
(learning rate 0.1).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import tensorflow as tf
import tf_keras as keras

from ssr_keras.embeddings.topk_sparse import TopKSparseEmbedding


def nmse(targets: tf.Tensor, predictions: tf.Tensor) -> tf.Tensor:
    """Mean squared error between the row-L2-normalised targets and predictions (ELSA's loss)."""
    return tf.reduce_mean(tf.square(tf.math.l2_normalize(predictions, axis=-1)
                                    - tf.math.l2_normalize(targets, axis=-1)))


def elsa_scores(inputs, item_matrix) -> np.ndarray:
    """`relu(x A Aᵀ − x)` in NumPy/SciPy for interaction rows `x` and an item matrix `A` (dense or sparse).

    `A` is used as given (pass row-normalised rows, e.g. `TopKSparseEmbedding.to_csr()`).

    Example:

    >>> from ssr_keras.embeddings.topk_sparse import row_normalize
    >>> A = row_normalize(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]))
    >>> np.round(elsa_scores(np.array([[1.0, 0.0, 0.0]]), A), 3).tolist()
    [[0.0, 0.707, 0.0]]
    """
    dense_inputs = inputs.toarray() if sp.issparse(inputs) else np.asarray(inputs)
    users = inputs @ item_matrix
    users = users.toarray() if sp.issparse(users) else np.asarray(users)
    scores = np.asarray(item_matrix @ users.T).T
    return np.maximum(scores - dense_inputs, 0.0)


def build_optimizer(optimizer, variables) -> None:
    """Builds a (new-style) Keras optimizer's slots for `variables` eagerly, if it is not built yet."""
    if optimizer is not None and hasattr(optimizer, "build") and not getattr(optimizer, "_built", False):
        optimizer.build(variables)


class InteractionBatches(keras.utils.Sequence):
    """Dense float32 batches of rows of a sparse interaction matrix, reshuffled every epoch.

    Args:
        matrix: `scipy.sparse [num_users, num_items]` (non-zeros are interactions).
        batch_size: rows per batch.
        shuffle: reshuffle the row order at every epoch.
        seed: seed of the shuffling.
    """

    def __init__(self, matrix: sp.spmatrix, batch_size: int = 256, shuffle: bool = True, seed: int = 0) -> None:
        super().__init__()
        if not sp.issparse(matrix) or matrix.shape[0] == 0:
            raise ValueError(f"`matrix` must be a non-empty scipy.sparse matrix. Received: {type(matrix).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}")
        self.matrix = sp.csr_matrix(matrix, dtype=np.float32)
        self.matrix.data[:] = 1.0
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self._rng = np.random.RandomState(seed)
        self._order = self._rng.permutation(self.matrix.shape[0]) if shuffle else np.arange(self.matrix.shape[0])

    def __len__(self) -> int:
        return -(-self.matrix.shape[0] // self.batch_size)

    def __getitem__(self, index: int) -> np.ndarray:
        rows = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        return self.matrix[rows].toarray()

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._order = self._rng.permutation(self.matrix.shape[0])


@keras.saving.register_keras_serializable(package="ssr_keras")
class ELSA(keras.Model):
    """ELSA / Compressed ELSA: item scores `relu(x A Aᵀ − x)` with `A` the (top-k sparse) normalised items.

    Args:
        num_items: catalogue size N (columns of the interaction vectors).
        factors: width F of the item rows.
        k: non-zeros per item row (0 = dense ELSA); lowered during training by `TopKPruning`.
        max_output: sampled outputs per training batch (the batch's items plus uniform random other items
            up to this many); None (default) scores every item.
        embeddings_initializer: initializer of `W` (Glorot uniform, as the paper's code).

    Call args:
        x: float `[B, N]` interaction rows (1 where the user interacted).

    Returns:
        `[B, N]` scores; the user's own items get no self-score (`− x`).

    Reference: Vančura, Spišák, Alves, Peška, "Efficient Learning of Sparse Representations from
    Interactions", WWW '26 (arXiv 2602.09935).

    Example:

    >>> model = ELSA(num_items=6, factors=8, k=2)
    >>> model.compile(optimizer=keras.optimizers.Nadam(0.1))
    >>> x = np.eye(6, dtype="float32")[[0, 1, 2]] + np.eye(6, dtype="float32")[[1, 2, 3]]
    >>> _ = model.fit(x, epochs=2, batch_size=3, verbose=0)
    >>> model(x).shape
    TensorShape([3, 6])
    >>> model.items.to_csr().nnz
    12
    """

    def __init__(self, num_items: int, factors: int, k: int = 0, max_output: int | None = None,
                 embeddings_initializer="glorot_uniform", **kwargs) -> None:
        super().__init__(**kwargs)
        if max_output is not None and (isinstance(max_output, bool) or not isinstance(max_output, (int, np.integer))
                                       or max_output < 1):
            raise ValueError(f"`max_output` must be None or a positive integer. Received: max_output={max_output!r}")
        self.num_items = num_items
        self.factors = factors
        self.max_output = None if max_output is None else int(max_output)
        self.items = TopKSparseEmbedding(num_items, factors, k=k, embeddings_initializer=embeddings_initializer,
                                         name="items")
        self.embeddings_initializer = self.items.embeddings_initializer
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.loss_tracker]

    def call(self, x: tf.Tensor) -> tf.Tensor:
        x = tf.cast(x, self.compute_dtype)
        items = self.items.item_matrix()
        return tf.nn.relu(tf.matmul(tf.matmul(x, items), items, transpose_b=True) - x)

    def _sampled_outputs(self, x: tf.Tensor):
        """(input items, output items): the batch's items, then random other items up to `max_output`."""
        active = tf.reduce_max(x, axis=0) > 0
        batch_items = tf.where(active)[:, 0]
        others = tf.where(tf.logical_not(active))[:, 0]
        count = tf.maximum(1, self.max_output - tf.size(batch_items, out_type=tf.int32))

        def draw():
            picks = tf.random.uniform([count], 0, tf.size(others, out_type=tf.int32), dtype=tf.int32)
            return tf.gather(others, picks)

        negatives = tf.cond(tf.size(others) > 0, draw, lambda: tf.zeros([0], tf.int64))
        return batch_items, tf.concat([batch_items, negatives], axis=0)

    def make_train_function(self, force: bool = False):
        # Nadam creates a variable in `build`; built inside the traced train step it yields NaNs, so the
        # optimiser is built eagerly here (also after `TopKPruning` swaps in a fresh one).
        build_optimizer(self.optimizer, self.trainable_variables)
        return super().make_train_function(force=force)

    def train_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        x = tf.cast(x, self.compute_dtype)
        with tf.GradientTape() as tape:
            if self.max_output is None or self.max_output >= self.num_items:
                targets = x
                predictions = self(x, training=True)
            else:
                batch_items, outputs = self._sampled_outputs(x)
                rows = self.items.sparse_rows(tf.gather(self.items.embeddings, outputs))
                inputs_rows = rows[:tf.size(batch_items)]
                targets = tf.gather(x, outputs, axis=1)
                users = tf.matmul(tf.gather(x, batch_items, axis=1), inputs_rows)
                predictions = tf.nn.relu(tf.matmul(users, rows, transpose_b=True) - targets)
            loss = nmse(targets, predictions)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def item_matrix(self):
        """`A` as NumPy (dense ELSA) or as float32 CSR (k > 0): what `score` multiplies with."""
        if self.items.current_k:
            return self.items.to_csr()
        return self.items.item_matrix().numpy()

    def score(self, inputs) -> np.ndarray:
        """NumPy scores `relu(x A Aᵀ − x)` of interaction rows (dense or `scipy.sparse`, `[b, N]`)."""
        if inputs.shape[-1] != self.num_items:
            raise ValueError(f"`inputs` must have num_items={self.num_items} columns. Received: shape {inputs.shape}")
        return elsa_scores(inputs, self.item_matrix())

    def get_config(self) -> dict:
        return {"name": self.name, "num_items": self.num_items, "factors": self.factors,
                "k": self.items.current_k, "max_output": self.max_output,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer)}
