"""Gradual top-k pruning of a `TopKSparseEmbedding` during training, as in Compressed ELSA.

Compressed ELSA (Vančura et al., WWW '26, arXiv 2602.09935) trains a wide table and lowers the number
of non-zeros per row, k, step by step. At each *pruning step* (an epoch where k falls) the new support is
the top-k (by magnitude) of the current sparse rows; the entries outside it are zeroed, so within a stage
the support is fixed. With *restarting* (lottery-ticket rewinding) the kept entries are moreover rewound
to their initial values. The reference code builds a new model and optimiser at every step, so the
optimiser state is fresh after each pruning step (`fresh_optimizer=True`, the default).

Strategies (`PruningSchedule.ks()` lists k per epoch; k >= F means dense):

* "exponential": epoch 0 dense (k = F), then `k_i = int(F / 2 ** (i / epochs_per_stage + 1))` (k halves
  every `epochs_per_stage` epochs) for `epochs_per_stage * num_stages` epochs, then `final_epochs` at
  the target;
* "linear": k falls from F by `(F - target) // (epochs_per_stage * num_stages)` per epoch over the same
  number of epochs, then `final_epochs` at the target;
* "step": one stage of `epochs_per_stage` epochs per value of `values` (default: dense, then F/4, F/8,
  ... down to twice the target), then `final_epochs` at the target;
* "constant": the target from the first epoch, for as many epochs as "exponential" takes.
"""

from __future__ import annotations

import dataclasses
import math
from typing import List, Sequence

import numpy as np
import tf_keras as keras

from ssr_keras.embeddings.topk_sparse import TopKSparseEmbedding, top_k_mask

STRATEGIES = ("exponential", "linear", "step", "constant")


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


@dataclasses.dataclass(frozen=True)
class PruningSchedule:
    """How many non-zeros per row (k) each training epoch uses.

    Args:
        strategy: one of "exponential", "linear", "step", "constant".
        factors: the table width F (k = F is dense).
        target: the final k, `1 <= target <= factors`.
        epochs_per_stage: epochs per halving ("exponential"), per `values` entry ("step"); with
            `num_stages` it sets the decay length of "linear" and "exponential".
        num_stages: decay stages; default `max(1, round(log2(factors / target)) - 1)` (7 for 4096 -> 16).
        final_epochs: epochs at the target after the decay.
        values: "step" only: the k of each stage before the target (0 = dense).

    Example:

    >>> PruningSchedule("exponential", factors=64, target=8, epochs_per_stage=2, num_stages=2,
    ...                 final_epochs=1).ks()
    [64, 22, 16, 11, 8]
    >>> PruningSchedule("step", factors=64, target=8, epochs_per_stage=1, final_epochs=1).ks()
    [0, 16, 8]
    """

    strategy: str
    factors: int
    target: int
    epochs_per_stage: int = 10
    num_stages: int | None = None
    final_epochs: int = 10
    values: Sequence[int] | None = None

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"`strategy` must be one of {STRATEGIES}. Received: strategy={self.strategy!r}")
        factors = _positive_int("factors", self.factors)
        if isinstance(self.target, bool) or not isinstance(self.target, (int, np.integer)) \
                or not 1 <= self.target <= factors:
            raise ValueError(f"`target` must be an integer in [1, factors={factors}]. Received: target={self.target!r}")
        _positive_int("epochs_per_stage", self.epochs_per_stage)
        if self.num_stages is not None:
            _positive_int("num_stages", self.num_stages)
        if isinstance(self.final_epochs, bool) or not isinstance(self.final_epochs, (int, np.integer)) \
                or self.final_epochs < 0:
            raise ValueError("`final_epochs` must be a non-negative integer. "
                             f"Received: final_epochs={self.final_epochs!r}")
        if self.values is not None:
            if self.strategy != "step":
                raise ValueError(f"`values` only applies to strategy='step'. Received: strategy={self.strategy!r}")
            bad = [v for v in self.values if not 0 <= v <= factors]
            if bad or not len(self.values):
                raise ValueError(f"`values` must be a non-empty list of k in [0, {factors}]. Received: "
                                 f"values={list(self.values)!r}")

    @property
    def stages(self) -> int:
        if self.num_stages is not None:
            return int(self.num_stages)
        return max(1, round(math.log2(self.factors / self.target)) - 1)

    def step_values(self) -> List[int]:
        """The per-stage k of "step" before the target."""
        if self.values is not None:
            return [int(v) for v in self.values]
        values, k = [0], self.factors // 4
        while k > self.target:
            values.append(k)
            k //= 2
        return values

    def ks(self) -> List[int]:
        """k of every epoch, in order (0 or `factors` = dense)."""
        decay = self.epochs_per_stage * self.stages
        final = [self.target] * self.final_epochs
        if self.strategy == "exponential":
            ks = [self.factors] + [max(self.target, int(self.factors / 2 ** (i / self.epochs_per_stage + 1)))
                                   for i in range(1, decay)]
            return ks + final
        if self.strategy == "linear":
            step = max(1, (self.factors - self.target) // decay)
            return [max(self.target, self.factors - i * step) for i in range(decay)] + final
        if self.strategy == "step":
            return [v for v in self.step_values() for _ in range(self.epochs_per_stage)] + final
        return [self.target] * (decay + self.final_epochs)

    @property
    def num_epochs(self) -> int:
        return len(self.ks())

    def k_at(self, epoch: int) -> int:
        """k of `epoch` (0-based); epochs past the schedule keep the target."""
        ks = self.ks()
        return ks[epoch] if epoch < len(ks) else self.target


class TopKPruning(keras.callbacks.Callback):
    """Lowers the k of a `TopKSparseEmbedding` epoch by epoch following a `PruningSchedule`.

    At each pruning step (an epoch whose k is below the layer's current k) the new support is the top-k of
    the current sparse rows; entries outside it are zeroed in the table (so they cannot come back). With
    `restart=True` the kept entries are rewound to their values at the start of training (lottery-ticket
    rewinding). With `fresh_optimizer=True` the model gets a new optimiser of the same config (zero
    moments, step 0), as the reference code does by rebuilding its model at each step.

    Args:
        layer: the `TopKSparseEmbedding` to prune (part of the model being fitted).
        schedule: a `PruningSchedule` whose `factors` is the layer's `embedding_dim`.
        restart: rewind the kept weights to their initial values at every pruning step.
        fresh_optimizer: replace the optimiser by a fresh one at every pruning step.
        verbose: print k at every pruning step.

    Example:

    >>> layer = TopKSparseEmbedding(vocab_size=6, embedding_dim=8)
    >>> model = keras.Sequential([layer, keras.layers.Dense(1)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> schedule = PruningSchedule("exponential", factors=8, target=2, epochs_per_stage=1, num_stages=2,
    ...                            final_epochs=1)
    >>> _ = model.fit(np.arange(6), np.ones(6), epochs=schedule.num_epochs, verbose=0,
    ...               callbacks=[TopKPruning(layer, schedule, restart=True)])
    >>> layer.current_k
    2
    """

    def __init__(self, layer: TopKSparseEmbedding, schedule: PruningSchedule, restart: bool = False,
                 fresh_optimizer: bool = True, verbose: int = 0) -> None:
        super().__init__()
        if not isinstance(layer, TopKSparseEmbedding):
            raise ValueError(f"`layer` must be a TopKSparseEmbedding. Received: layer={type(layer).__name__}")
        if not isinstance(schedule, PruningSchedule):
            raise ValueError(f"`schedule` must be a PruningSchedule. Received: schedule={type(schedule).__name__}")
        if schedule.factors != layer.embedding_dim:
            raise ValueError(f"`schedule.factors` must equal the layer's embedding_dim={layer.embedding_dim}. "
                             f"Received: schedule.factors={schedule.factors}")
        self.layer = layer
        self.schedule = schedule
        self.restart = bool(restart)
        self.fresh_optimizer = bool(fresh_optimizer)
        self.verbose = verbose
        self.initial_weights: np.ndarray | None = None
        self.history: List[int] = []

    def on_train_begin(self, logs=None) -> None:
        if self.initial_weights is None:
            self.initial_weights = self.layer.embeddings.numpy().copy()

    def _effective_k(self, k: int) -> int:
        return 0 if k >= self.layer.embedding_dim else int(k)

    def prune(self, k: int) -> None:
        """One pruning step to `k` non-zeros per row (see the class docstring)."""
        current = self.layer.current_k
        k = self._effective_k(k)
        if k == current or (k == 0 and current == 0):
            return
        table = self.layer.embeddings.numpy()
        if k:
            sparse = top_k_mask(top_k_mask(table, current), k).numpy()
            mask = (sparse != 0).astype(table.dtype)
            source = self.initial_weights if (self.restart and self.initial_weights is not None) else table
            self.layer.embeddings.assign(source * mask)
        self.layer.set_k(k)
        if self.fresh_optimizer and self.model is not None and getattr(self.model, "optimizer", None) is not None:
            # Every row now has at most k non-zeros and, with a fresh optimiser, zero entries get no update:
            # the layer masks by its non-zeros instead of a top-k per step (same result, cheaper for large k).
            self.layer.fixed_support = bool(k)
            old = self.model.optimizer
            fresh = old.__class__.from_config(old.get_config())
            # Built eagerly: some optimisers (Nadam) misbehave when their slots are created in a traced step.
            if self.model.built and hasattr(fresh, "build") and not getattr(fresh, "_built", False):
                fresh.build(self.model.trainable_variables)
            self.model.optimizer = fresh
            if getattr(self.model, "train_function", None) is not None:
                self.model.make_train_function(force=True)  # also retraces with `fixed_support`
        if self.verbose:
            print(f"TopKPruning: k {current} -> {k}" + (" (rewound)" if self.restart else ""))

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.prune(self.schedule.k_at(epoch))
        self.history.append(self.layer.current_k)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if logs is not None:
            logs["k"] = self.layer.current_k
