"""`ResidualQuantizer`: an RQ-VAE that turns item content vectors into hierarchical semantic IDs."""

from __future__ import annotations

from typing import Dict, Sequence

import numpy as np
import tensorflow as tf
import tf_keras as keras
from sklearn.cluster import KMeans

from ssr_keras.validation import check_float, check_positive_int


def _check_units(name: str, units: Sequence[int]) -> tuple:
    units = tuple(units)
    if any(isinstance(u, bool) or not isinstance(u, (int, np.integer)) or u < 1 for u in units):
        raise ValueError(f"`{name}` must be a list of positive integers. Received: {name}={list(units)!r}")
    return tuple(int(u) for u in units)


def _mlp(units: Sequence[int], output_dim: int, name: str) -> keras.Sequential:
    layers = [keras.layers.Dense(u, activation="relu", name=f"hidden_{i}") for i, u in enumerate(units)]
    return keras.Sequential(layers + [keras.layers.Dense(output_dim, name="output")], name=name)


@keras.saving.register_keras_serializable(package="ssr_keras")
class ResidualQuantizer(keras.Model):
    """Residual-quantised VAE (RQ-VAE): content vector -> `num_levels` discrete codes (a semantic ID).

    An encoder MLP maps `x` to `z` (`codebook_dim` wide). Level `l` picks the nearest code of its
    codebook for the residual `r_l` (`r_0 = z`): `c_l = argmin_k ||r_l - e_{l,k}||`, and passes on
    `r_{l+1} = r_l - sg(e_{l,c_l})`. The quantised vector `z_q = sum_l e_{l,c_l}` reaches the decoder
    through the straight-through estimator `z + sg(z_q - z)`, so the reconstruction gradient flows to
    the encoder unchanged. The loss is

        ||x - dec(z_q)||^2 + sum_l ( ||sg(r_l) - e_{l,c_l}||^2 + commitment_weight * ||r_l - sg(e_{l,c_l})||^2 )

    (reconstruction, codebook and commitment terms; squared norms averaged over the batch).

    Workflow: `initialize_codebooks(x)` (k-means on the encoder outputs and then on each level's
    residuals, scikit-learn `KMeans`), `compile` + `fit(x)` (the target is `x` itself), then freeze
    and `encode(x)` every item to its `[num_levels]` codes. Items that end up with the same full code
    tuple collide; `ssr_keras.embeddings.semantic_id.disambiguate_collisions` appends a level that
    makes every ID unique (see `sid_metrics`).

    Args:
        input_dim: width of the content vectors.
        num_levels: number of residual levels `L` (codes per item).
        codebook_size: codes per level `K`.
        codebook_dim: width of `z` and of every code vector.
        encoder_units: hidden widths of the encoder MLP (ReLU); the decoder mirrors them unless
            `decoder_units` is given.
        decoder_units: hidden widths of the decoder MLP.
        commitment_weight: `beta` of the commitment term.

    Example:

    >>> x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
    >>> rq = ResidualQuantizer(input_dim=8, num_levels=2, codebook_size=4, codebook_dim=4, encoder_units=[16])
    >>> rq.initialize_codebooks(x)
    >>> rq.compile(optimizer=keras.optimizers.Adam(1e-2))
    >>> _ = rq.fit(x, batch_size=32, epochs=1, verbose=0)
    >>> codes = rq.encode(x)
    >>> codes.shape, int(codes.min()) >= 0, int(codes.max()) < 4
    ((64, 2), True, True)

    Reference: Zhu et al., "GateSID", arXiv 2603.22916 (4 x 256 codes, code dim 64); the RQ-VAE of
    Lee et al. 2022 and Rajput et al. 2023 (TIGER).
    """

    def __init__(self, input_dim: int, num_levels: int = 4, codebook_size: int = 256, codebook_dim: int = 64,
                 encoder_units: Sequence[int] = (256, 128), decoder_units: Sequence[int] | None = None,
                 commitment_weight: float = 0.25, **kwargs) -> None:
        super().__init__(**kwargs)
        self.input_dim = check_positive_int("input_dim", input_dim)
        self.num_levels = check_positive_int("num_levels", num_levels)
        self.codebook_size = check_positive_int("codebook_size", codebook_size)
        self.codebook_dim = check_positive_int("codebook_dim", codebook_dim)
        self.encoder_units = _check_units("encoder_units", encoder_units)
        self.decoder_units = (tuple(reversed(self.encoder_units)) if decoder_units is None
                              else _check_units("decoder_units", decoder_units))
        self.commitment_weight = check_float("commitment_weight", commitment_weight)
        if self.commitment_weight < 0:
            raise ValueError(f"`commitment_weight` must be >= 0. Received: commitment_weight={commitment_weight!r}")
        self.encoder = _mlp(self.encoder_units, self.codebook_dim, "encoder")
        self.decoder = _mlp(self.decoder_units, self.input_dim, "decoder")
        self.encoder.build([None, self.input_dim])
        self.decoder.build([None, self.codebook_dim])
        self.codebooks = self.add_weight(
            name="codebooks", shape=[self.num_levels, self.codebook_size, self.codebook_dim],
            initializer=keras.initializers.RandomUniform(-1.0 / self.codebook_size, 1.0 / self.codebook_size))
        self.loss_trackers = {name: keras.metrics.Mean(name=name)
                              for name in ("loss", "reconstruction_loss", "codebook_loss", "commitment_loss")}

    @property
    def metrics(self):
        return list(self.loss_trackers.values())

    def quantize(self, z: tf.Tensor) -> Dict[str, tf.Tensor]:
        """Residual quantisation of encoder outputs `z` `[B, codebook_dim]`.

        Returns:
            dict with `codes` int32 `[B, L]`, `quantized` `[B, D]` (`sum_l e_{l,c_l}`), `residuals`
            `[B, L, D]` (`r_l`, the input of each level) and `selected` `[B, L, D]` (`e_{l,c_l}`).
        """
        residual = z
        codes, residuals, selected = [], [], []
        for level in range(self.num_levels):
            codebook = self.codebooks[level]
            distances = (tf.reduce_sum(tf.square(residual), axis=-1, keepdims=True)
                         - 2.0 * tf.matmul(residual, codebook, transpose_b=True)
                         + tf.reduce_sum(tf.square(codebook), axis=-1)[tf.newaxis, :])
            code = tf.argmin(distances, axis=-1, output_type=tf.int32)
            vector = tf.gather(codebook, code)
            codes.append(code)
            residuals.append(residual)
            selected.append(vector)
            residual = residual - tf.stop_gradient(vector)
        selected = tf.stack(selected, axis=1)
        return {"codes": tf.stack(codes, axis=1), "quantized": tf.reduce_sum(selected, axis=1),
                "residuals": tf.stack(residuals, axis=1), "selected": selected}

    def compute_losses(self, x: tf.Tensor, training: bool | None = None) -> Dict[str, tf.Tensor]:
        """The three loss terms and their sum (`loss`) on a batch of content vectors `x`."""
        z = self.encoder(x, training=training)
        out = self.quantize(z)
        z_st = z + tf.stop_gradient(out["quantized"] - z)  # straight-through estimator
        reconstruction = self.decoder(z_st, training=training)
        recon = tf.reduce_mean(tf.reduce_sum(tf.square(x - reconstruction), axis=-1))
        per_level = lambda a, b: tf.reduce_mean(tf.reduce_sum(tf.square(a - b), axis=[-2, -1]))  # noqa: E731
        codebook = per_level(tf.stop_gradient(out["residuals"]), out["selected"])
        commitment = per_level(out["residuals"], tf.stop_gradient(out["selected"]))
        total = recon + codebook + self.commitment_weight * commitment
        return {"loss": total, "reconstruction_loss": recon, "codebook_loss": codebook,
                "commitment_loss": commitment}

    def call(self, x: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        """Reconstruction `dec(z_q)` of `x` (straight-through, so it is differentiable)."""
        z = self.encoder(x, training=training)
        quantized = self.quantize(z)["quantized"]
        return self.decoder(z + tf.stop_gradient(quantized - z), training=training)

    def train_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            losses = self.compute_losses(x, training=True)
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(losses["loss"], variables), variables))
        for name, value in losses.items():
            self.loss_trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.loss_trackers.items()}

    def test_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        for name, value in self.compute_losses(x, training=False).items():
            self.loss_trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.loss_trackers.items()}

    def initialize_codebooks(self, x: np.ndarray, seed: int = 0, max_samples: int = 20000) -> None:
        """k-means initialisation: level 0 clusters the encoder outputs of `x`, level l its residuals.

        Args:
            x: content vectors `[n, input_dim]`, `n >= codebook_size`.
            seed: KMeans random state (and the subsample draw when `n > max_samples`).
            max_samples: at most this many rows are clustered.

        Raises:
            ValueError: wrong width or fewer rows than `codebook_size`.
        """
        x = np.asarray(x, np.float32)
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ValueError(f"`x` must have shape [n, {self.input_dim}]. Received: shape {x.shape}")
        if x.shape[0] < self.codebook_size:
            raise ValueError(f"k-means needs at least codebook_size={self.codebook_size} rows. "
                             f"Received: x with {x.shape[0]} rows")
        if x.shape[0] > max_samples:
            x = x[np.random.default_rng(seed).choice(x.shape[0], max_samples, replace=False)]
        residual = self.encoder(x, training=False).numpy().astype(np.float64)
        centers = []
        for level in range(self.num_levels):
            kmeans = KMeans(n_clusters=self.codebook_size, n_init=1, random_state=seed + level).fit(residual)
            centers.append(kmeans.cluster_centers_)
            residual = residual - kmeans.cluster_centers_[kmeans.labels_]
        self.codebooks.assign(np.stack(centers).astype(np.float32))

    def encode(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Semantic IDs `[n, num_levels]` (int64) of content vectors `x` (no training behaviour)."""
        x = np.asarray(x, np.float32)
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ValueError(f"`x` must have shape [n, {self.input_dim}]. Received: shape {x.shape}")
        parts = [self.quantize(self.encoder(x[i:i + batch_size], training=False))["codes"].numpy()
                 for i in range(0, x.shape[0], batch_size)]
        return np.concatenate(parts, axis=0).astype(np.int64) if parts else np.zeros([0, self.num_levels], np.int64)

    def get_config(self) -> dict:
        return {"name": self.name, "input_dim": self.input_dim, "num_levels": self.num_levels,
                "codebook_size": self.codebook_size, "codebook_dim": self.codebook_dim,
                "encoder_units": list(self.encoder_units), "decoder_units": list(self.decoder_units),
                "commitment_weight": self.commitment_weight}

    @classmethod
    def from_config(cls, config: dict) -> ResidualQuantizer:
        return cls(**config)
