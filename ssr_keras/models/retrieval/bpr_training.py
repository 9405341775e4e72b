"""Training BPR retrieval models: uniform negatives, Adam, early stopping on validation Recall@k.

The protocol of LightGCN and BACO: one uniform random negative item per training positive, drawn anew each
epoch; Adam; validation Recall@20 (training items masked) every `eval_every` epochs; stop after `patience`
evaluations without improvement (or `max_seconds`) and restore the best weights.
"""

from __future__ import annotations

import time
from typing import Callable, Dict, Iterable

import numpy as np
import scipy.sparse as sp
import tensorflow as tf
import tf_keras as keras

from ssr_keras.analysis.retrieval_metrics import metrics_at, top_k_in_batches
from ssr_keras.data.interactions import InteractionSplits
from ssr_keras.models.retrieval.bpr_model import BPRRetrievalModel

EVALUATION_CHUNK = 2048


def bpr_dataset(train_edges: np.ndarray, num_items: int, batch_size: int, seed: int) -> tf.data.Dataset:
    """One epoch of shuffled (user, positive, uniform negative) batches, seeded."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(train_edges))
    negatives = rng.integers(0, num_items, len(train_edges), dtype=np.int64)
    return tf.data.Dataset.from_tensor_slices({
        "user": train_edges[order, 0], "positive": train_edges[order, 1], "negative": negatives,
    }).batch(batch_size)


def evaluate_retrieval(model: BPRRetrievalModel, heldout: sp.spmatrix, exclude: sp.spmatrix,
                       ks: Iterable[int] = (10, 20, 50), chunk: int = EVALUATION_CHUNK) -> Dict[str, float]:
    """`recall@k` / `ndcg@k` of the model's top items per user, `exclude`d items masked, users in chunks."""
    ks = tuple(int(k) for k in ks)
    users, items = (t.numpy() for t in model.embeddings())
    heldout = sp.csr_matrix(heldout)
    evaluated = np.flatnonzero(np.diff(heldout.indptr))
    top = top_k_in_batches(lambda rows: users[rows] @ items.T, exclude, max(ks), evaluated, chunk)
    return metrics_at(top, heldout[evaluated], ks)


def train_bpr(model: BPRRetrievalModel, data: InteractionSplits, epochs: int = 1000, batch_size: int = 1024,
              learning_rate: float = 1e-3, eval_every: int = 10, patience: int = 5, monitor_k: int = 20,
              max_seconds: float | None = None, seed: int = 0,
              log: Callable[[str], None] | None = print) -> Dict[str, object]:
    """Fits `model` with BPR and early stopping on `data.valid` Recall@`monitor_k`; restores the best weights.

    Args:
        model: a `BPRRetrievalModel` (MF, LightGCN) over `data`'s ids.
        data: the splits (training edges, validation matrix; training items are masked when validating).
        epochs: most epochs.
        batch_size: triples per step (the paper: 1024).
        learning_rate: Adam's (the paper: 1e-3).
        eval_every: epochs between validations.
        patience: validations without improvement before stopping.
        monitor_k: the k of the monitored validation recall.
        max_seconds: stop after the first validation past this training time (None: no limit).
        seed: seeds the batches' order and negatives (epoch e uses `seed * 100003 + e`).
        log: progress printer (None: silent).

    Returns:
        `{"epochs", "best_epoch", "best_valid", "losses", "valid", "seconds"}`.
    """
    if model.num_users != data.num_users or model.num_items != data.num_items:
        raise ValueError(f"`model` ({model.num_users} users, {model.num_items} items) does not match `data` "
                         f"({data.num_users}, {data.num_items}).")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    started = time.perf_counter()
    losses, valid = [], []
    best, best_epoch, best_weights, waited = -np.inf, 0, None, 0
    epoch = 0
    for epoch in range(1, epochs + 1):
        history = model.fit(bpr_dataset(data.train_edges, data.num_items, batch_size, seed * 100003 + epoch),
                            epochs=1, verbose=0)
        losses.append(float(history.history["loss"][0]))
        if epoch % eval_every and epoch != epochs:
            continue
        score = evaluate_retrieval(model, data.valid, data.train, ks=(monitor_k,))[f"recall@{monitor_k}"]
        valid.append((epoch, score))
        elapsed = time.perf_counter() - started
        if log:
            log(f"  epoch {epoch:4d}  loss {losses[-1]:.4f}  valid recall@{monitor_k} {score:.4f}  {elapsed:.0f}s")
        if score > best:
            best, best_epoch, best_weights, waited = score, epoch, model.get_weights(), 0
        else:
            waited += 1
        if waited >= patience or (max_seconds is not None and elapsed > max_seconds):
            break
    if best_weights is not None:
        model.set_weights(best_weights)
    return {"epochs": epoch, "best_epoch": best_epoch, "best_valid": float(best), "losses": losses,
            "valid": valid, "seconds": time.perf_counter() - started}
