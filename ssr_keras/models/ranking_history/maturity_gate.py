"""`MaturityGate`: how much an item should lean on semantic rather than ID signals, from its maturity."""

from __future__ import annotations

from typing import Sequence

import tensorflow as tf
import tf_keras as keras

from ssr_keras.validation import check_positive_int


@keras.saving.register_keras_serializable(package="ssr_keras")
class MaturityGate(keras.layers.Layer):
    """`w = sigmoid(MLP([e_item, F_stat]))` (GateSID Eq. 4-8): one gate value in (0, 1) per item.

    `e_item` is the item-ID embedding and `F_stat` the item's maturity statistics (time since its
    first interaction, recent exposures and clicks; see `ssr_keras.data.movielens_history`). A large
    `w` (a young item) tells `GatingFusedSharedAttention` to trust the semantic-ID attention and
    `GateRegulatedAlignment` to align the item's SID and ID embeddings more strongly.

    Args:
        hidden_units: widths of the ReLU hidden layers (may be empty: a logistic regression).
        activation: activation of the hidden layers.
        stop_embedding_gradient: stop the gate's gradient into the item embedding (the embedding then
            learns only from the ranking task).
        bias_initializer: initial bias of the output unit (0 starts every gate near 0.5).

    Call args:
        inputs: `[item_embedding [B, E], maturity [B, F]]`.

    Returns:
        float `[B, 1]` in (0, 1).

    Example:

    >>> gate = MaturityGate(hidden_units=[8])
    >>> w = gate([tf.zeros([3, 4]), tf.ones([3, 2])])
    >>> w.shape, bool(tf.reduce_all((w > 0) & (w < 1)))
    (TensorShape([3, 1]), True)

    Reference: Zhu et al., "GateSID", arXiv 2603.22916.
    """

    def __init__(self, hidden_units: Sequence[int] = (32,), activation: str = "relu",
                 stop_embedding_gradient: bool = False, bias_initializer="zeros", **kwargs) -> None:
        super().__init__(**kwargs)
        self.hidden_units = [check_positive_int("hidden_units", u) for u in hidden_units]
        self.activation = activation
        keras.activations.get(activation)  # fails early on an unknown name
        self.stop_embedding_gradient = bool(stop_embedding_gradient)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.hidden = [keras.layers.Dense(u, activation=activation, name=f"hidden_{i}")
                       for i, u in enumerate(self.hidden_units)]
        self.output_layer = keras.layers.Dense(1, bias_initializer=self.bias_initializer, name="gate_logit")

    def call(self, inputs) -> tf.Tensor:
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"`inputs` must be a list [item_embedding, maturity]. Received: {inputs!r}")
        embedding, maturity = inputs
        if self.stop_embedding_gradient:
            embedding = tf.stop_gradient(embedding)
        x = tf.concat([embedding, tf.cast(maturity, embedding.dtype)], axis=-1)
        for layer in self.hidden:
            x = layer(x)
        return tf.sigmoid(self.output_layer(x))

    def compute_output_shape(self, input_shape) -> tf.TensorShape:
        return tf.TensorShape([tf.TensorShape(input_shape[0])[0], 1])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(hidden_units=list(self.hidden_units), activation=self.activation,
                      stop_embedding_gradient=self.stop_embedding_gradient,
                      bias_initializer=keras.initializers.serialize(self.bias_initializer))
        return config
