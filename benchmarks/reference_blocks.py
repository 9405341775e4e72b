"""Per-view-loop renditions of the SSR-D and SSR-S blocks, written as the official TensorFlow code is.

Benchmark-only code (not part of the library): the yardstick `benchmarks/speed.py` times ssr-keras'
blocks against. Each view is a Python loop iteration with its own `Dense` layers (SSR-D) or its own
`tf.gather` of a constant index vector and `Dense` layers (SSR-S), as in Atticus666/SSRNet's
`StructuralSparseBlockT21` and `StructuralSparseBlock`; the views are stacked to `[B, V, d]` at the end.
FLOPs are the same as ssr-keras' batched blocks, and so are the outputs for the same weights:
`load_from` copies a trained ssr-keras block's weights in (tests/benchmarks/test_reference_blocks.py
checks outputs match to 1e-5).

Per view `j` (official names in brackets):

* SSR-D: `h = x W_in[j]` (no bias), `g = gamma[j] * ICS_T(h; alpha[j])`, `s = g * (x W_val[j])` if
  gated, `s = s + Dense_gelu(s)`, `out_j = LayerNorm_j(s)` (eps 1e-6).
* SSR-S: `g = gather(x, idx[j])`, `h = Dense_gelu(...Dense_gelu(g))`, `out_j = LayerNorm_j(h + g)`.

Between blocks the views are flattened; after the last block they are averaged (`ReferenceBackbone`).
"""

from __future__ import annotations

import os
from typing import List, Sequence

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

import ssr_keras  # noqa: E402


class ReferenceICS(keras.layers.Layer):
    """ICS of one view: `x = relu(h)`, T times `x = relu(x - alpha_t * mean(x))`, `y = scale * x`."""

    def __init__(self, iterations: int, alpha_init: float = 0.1, scale_init: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.iterations = iterations
        self.alpha_init = alpha_init
        self.scale_init = scale_init

    def build(self, input_shape) -> None:
        self.alpha = self.add_weight(name="alpha", shape=[self.iterations, 1],
                                     initializer=keras.initializers.Constant(self.alpha_init))
        self.scale = self.add_weight(name="scale", shape=[1, int(input_shape[-1])],
                                     initializer=keras.initializers.Constant(self.scale_init))
        super().build(input_shape)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        x = tf.nn.relu(inputs)
        for t in range(self.iterations):
            x = tf.nn.relu(x - self.alpha[t] * tf.reduce_mean(x, axis=-1, keepdims=True))
        return self.scale * x


class ReferenceSSRDBlock(keras.layers.Layer):
    """SSR-D with one `Dense` per view and per role, in a Python loop over the views."""

    def __init__(self, num_views: int, view_dim: int, iterations: int = 5, alpha_init: float = 0.1,
                 gamma_init: float = 1.0, use_gate: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_views, self.view_dim, self.use_gate = num_views, view_dim, use_gate
        init = "glorot_normal"
        self.w_in = [keras.layers.Dense(view_dim, use_bias=False, kernel_initializer=init, name=f"w_in_{j}")
                     for j in range(num_views)]
        self.ics = [ReferenceICS(iterations, alpha_init, gamma_init, name=f"ics_{j}") for j in range(num_views)]
        self.w_val = ([keras.layers.Dense(view_dim, use_bias=False, kernel_initializer=init, name=f"w_val_{j}")
                       for j in range(num_views)] if use_gate else [])
        self.fuse = [keras.layers.Dense(view_dim, activation="gelu", name=f"fuse_{j}") for j in range(num_views)]
        self.norms = [keras.layers.LayerNormalization(epsilon=1e-6, name=f"ln_{j}") for j in range(num_views)]

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        outputs = []
        for j in range(self.num_views):
            s = self.ics[j](self.w_in[j](inputs))
            if self.use_gate:
                s = s * self.w_val[j](inputs)
            s = s + self.fuse[j](s)
            outputs.append(self.norms[j](s))
        return tf.stack(outputs, axis=1)

    def load_from(self, block: ssr_keras.SSRDBlock) -> None:
        """Copies an ssr-keras `SSRDBlock`'s weights (both must be built on the same input width)."""
        d = self.view_dim
        projection = block.projection.kernel.numpy()
        gate = block.gate.kernel.numpy() if self.use_gate else None
        alpha, gamma = block.ics.alpha.numpy(), block.ics.gamma.numpy()
        kernel, bias = block.fusion.kernel.numpy(), block.fusion.bias.numpy()
        ln_gamma, ln_beta = block.fusion.layer_norm.gamma.numpy(), block.fusion.layer_norm.beta.numpy()
        for j in range(self.num_views):
            self.w_in[j].set_weights([projection[:, j * d:(j + 1) * d]])
            if self.use_gate:
                self.w_val[j].set_weights([gate[:, j * d:(j + 1) * d]])
            self.ics[j].set_weights([alpha[:, j, :], gamma[j][np.newaxis]])
            self.fuse[j].set_weights([kernel[j], bias[j]])
            self.norms[j].set_weights([ln_gamma[j], ln_beta[j]])


class ReferenceSSRSBlock(keras.layers.Layer):
    """SSR-S with a constant-index `tf.gather` and `Dense` layers per view, in a Python loop."""

    def __init__(self, num_views: int, view_dim: int, indices: np.ndarray, num_hidden_layers: int = 2,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_views, self.view_dim = num_views, view_dim
        self.indices = [tf.constant(np.asarray(indices[j], np.int32)) for j in range(num_views)]
        self.hidden = [[keras.layers.Dense(view_dim, activation="gelu", name=f"dense_{j}_{i}")
                        for i in range(num_hidden_layers)] for j in range(num_views)]
        self.norms = [keras.layers.LayerNormalization(epsilon=1e-6, name=f"ln_{j}") for j in range(num_views)]

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        outputs = []
        for j in range(self.num_views):
            gathered = tf.gather(inputs, self.indices[j], axis=1)
            hidden = gathered
            for dense in self.hidden[j]:
                hidden = dense(hidden)
            outputs.append(self.norms[j](hidden + gathered))
        return tf.stack(outputs, axis=1)

    @classmethod
    def like(cls, block: ssr_keras.SSRSBlock, **kwargs) -> ReferenceSSRSBlock:
        """A reference block with `block`'s (built) filter indices."""
        return cls(block.num_views, block.view_dim, block.filter.indices.numpy(),
                   num_hidden_layers=block.num_hidden_layers, **kwargs)

    def load_from(self, block: ssr_keras.SSRSBlock) -> None:
        """Copies an ssr-keras `SSRSBlock`'s weights (the indices were given to the constructor)."""
        np.testing.assert_array_equal(np.stack([i.numpy() for i in self.indices]), block.filter.indices.numpy())
        for i, fusion in enumerate(block.hidden):
            kernel, bias = fusion.kernel.numpy(), fusion.bias.numpy()
            for j in range(self.num_views):
                self.hidden[j][i].set_weights([kernel[j], bias[j]])
        ln_gamma, ln_beta = block.layer_norm.gamma.numpy(), block.layer_norm.beta.numpy()
        for j in range(self.num_views):
            self.norms[j].set_weights([ln_gamma[j], ln_beta[j]])


class ReferenceBackbone(keras.layers.Layer):
    """Reference blocks stacked: views flattened between blocks, averaged after the last one."""

    def __init__(self, blocks: Sequence[keras.layers.Layer], **kwargs) -> None:
        super().__init__(**kwargs)
        self.blocks: List[keras.layers.Layer] = list(blocks)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        x = inputs
        for block in self.blocks:
            views = block(x)
            x = tf.reshape(views, [-1, block.num_views * block.view_dim])
        return tf.reduce_mean(views, axis=1)

    @classmethod
    def like(cls, backbone: ssr_keras.SSRBackbone, **kwargs) -> ReferenceBackbone:
        """A reference of a built ssr-keras `SSRBackbone` (same variant and sizes; weights via `load_from`)."""
        if backbone.block_residual:
            raise ValueError("the reference backbone has no block residual (off in the official runs)")
        if backbone.variant == "ssr-s":
            blocks = [ReferenceSSRSBlock.like(b, name=f"ref_s_{i}") for i, b in enumerate(backbone.blocks)]
        else:
            blocks = [ReferenceSSRDBlock(b.num_views, b.view_dim, b.ics.iterations, b.ics.alpha_init,
                                         b.ics.gamma_init, b.use_gate, name=f"ref_d_{i}")
                      for i, b in enumerate(backbone.blocks)]
        return cls(blocks, **kwargs)

    def load_from(self, backbone: ssr_keras.SSRBackbone) -> None:
        for mine, theirs in zip(self.blocks, backbone.blocks):
            mine.load_from(theirs)


class ReferenceRankingModel(keras.Model):
    """The official stack: one `Embedding` per field, concatenated, the reference backbone, `Dense(1)`.

    Call args: `features`, a dict `field name -> int64 ids [B]`; returns logits `[B, 1]`.
    """

    def __init__(self, vocab_sizes: dict, embedding_dim: int, backbone: ReferenceBackbone, **kwargs) -> None:
        super().__init__(**kwargs)
        self.field_names = list(vocab_sizes)
        self.embeddings = [keras.layers.Embedding(vocab_sizes[n], embedding_dim, name=f"{n}_embedding")
                           for n in self.field_names]
        self.backbone = backbone
        self.head = keras.layers.Dense(1, name="logit")

    def call(self, features) -> tf.Tensor:
        flat = tf.concat([emb(features[n]) for n, emb in zip(self.field_names, self.embeddings)], axis=-1)
        return self.head(self.backbone(flat))

    def load_from(self, model) -> None:
        """Copies a built ssr-keras `RankingModel`'s weights (default `PooledEmbedding`s, SSR backbone)."""
        for name, emb in zip(self.field_names, self.embeddings):
            emb.set_weights([model.feature_embedding.embedders[name].embedding.embeddings.numpy()])
        self.backbone.load_from(model.backbone)
        self.head.set_weights([w.numpy() for w in model.head.weights])
