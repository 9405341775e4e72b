"""Implicit connection sparsity of dense layers: how much of a trained kernel is (nearly) unused.

The SSR paper (arXiv 2604.08011) motivates explicit sparsity by an analysis of trained dense
backbones: "over 92% of learned connection weights are suppressed to near-zero, while 80% of weight
power concentrates in just the top 4% of dimensions". For a kernel `W` of shape `[inputs, outputs]`
this module measures

* `near_zero_fraction`: the fraction of weights with `|w| < threshold * max|W|` (default 1%);
* `top_input_mass_share`: sort input dimensions by their squared-weight mass `sum_j W[i, j]^2` and
  report the share of the total mass held by the top `top_fraction` (default 4%) of them.

The paper's exact threshold and "weight power" definition are not public; both are parameters here.
Rank-3 per-view kernels `[views, inputs, outputs]` are analysed view by view.

Example:

>>> kernels = load_dense_kernels("runs/dnn/saved_model")  # doctest: +SKIP
>>> report = analyze_kernels(kernels, threshold=0.01, top_fraction=0.04)  # doctest: +SKIP
>>> report.near_zero_fraction, report.top_input_mass_share  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Dict, List, Mapping

import h5py
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import trackable_object_graph_pb2

_EMBEDDING_MARKERS = ("feature_embedding", "embedding")


@dataclasses.dataclass(frozen=True)
class KernelSparsity:
    """Implicit-sparsity statistics of one kernel `[inputs, outputs]`."""

    name: str
    shape: tuple
    near_zero_fraction: float
    top_input_mass_share: float
    max_abs: float


@dataclasses.dataclass(frozen=True)
class SparsityReport:
    """Per-kernel statistics plus pooled figures.

    Attributes:
        threshold: near-zero threshold, relative to each kernel's max |w|.
        top_fraction: fraction of input dimensions whose squared-weight share is reported.
        kernels: per-kernel statistics, in the order given.
        near_zero_fraction: near-zero weights over all weights of all kernels.
        top_input_mass_share: mean over kernels of `top_input_mass_share`.
    """

    threshold: float
    top_fraction: float
    kernels: List[KernelSparsity]
    near_zero_fraction: float
    top_input_mass_share: float

    def to_json(self) -> Dict:
        return {
            "threshold": self.threshold,
            "top_fraction": self.top_fraction,
            "near_zero_fraction": self.near_zero_fraction,
            "top_input_mass_share": self.top_input_mass_share,
            "kernels": [dict(dataclasses.asdict(k), shape=list(k.shape)) for k in self.kernels],
        }


def _check_fraction(name: str, value: float) -> float:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}.")
    return float(value)


def kernel_sparsity(kernel: np.ndarray, name: str = "kernel", threshold: float = 0.01,
                    top_fraction: float = 0.04) -> KernelSparsity:
    """Measures one 2-D kernel `[inputs, outputs]`.

    Args:
        kernel: the weight matrix, input dimensions on axis 0 (Keras `Dense` layout).
        name: a label for reports.
        threshold: `|w| < threshold * max|w|` counts as near zero.
        top_fraction: fraction of input dimensions (rounded up, at least one) whose share of the
            squared-weight mass is reported.

    Returns:
        A `KernelSparsity`.

    Example:

    >>> kernel_sparsity(np.diag([1.0, 0.0, 0.0, 0.0]), top_fraction=0.25).top_input_mass_share
    1.0
    """
    threshold = _check_fraction("threshold", threshold)
    top_fraction = _check_fraction("top_fraction", top_fraction)
    kernel = np.asarray(kernel, np.float64)
    if kernel.ndim != 2 or kernel.size == 0:
        raise ValueError(f"kernel {name!r} must be a non-empty 2-D matrix, got shape {kernel.shape}.")
    magnitude = np.abs(kernel)
    max_abs = float(magnitude.max())
    near_zero = float(np.mean(magnitude < threshold * max_abs)) if max_abs > 0 else 1.0
    row_mass = np.sort(np.sum(kernel ** 2, axis=1))[::-1]
    top = max(1, math.ceil(top_fraction * kernel.shape[0]))
    total = float(row_mass.sum())
    share = float(row_mass[:top].sum() / total) if total > 0 else 0.0
    return KernelSparsity(name, tuple(kernel.shape), near_zero, share, max_abs)


def split_views(name: str, kernel: np.ndarray) -> Dict[str, np.ndarray]:
    """`{name: kernel}` for a 2-D kernel, one entry per view for a 3-D per-view kernel, else `{}`."""
    if kernel.ndim == 2:
        return {name: kernel}
    if kernel.ndim == 3:  # per-view kernels [views, inputs, outputs]
        return {f"{name}[view {i}]": view for i, view in enumerate(kernel)}
    return {}


def analyze_kernels(kernels: Mapping[str, np.ndarray], threshold: float = 0.01,
                    top_fraction: float = 0.04) -> SparsityReport:
    """Measures every kernel and pools the results.

    Args:
        kernels: `name -> kernel` (2-D `[inputs, outputs]` or 3-D per-view `[views, inputs, outputs]`).
        threshold: near-zero threshold relative to each kernel's max |w|.
        top_fraction: fraction of input dimensions for the squared-mass share.

    Returns:
        A `SparsityReport`.

    Example:

    >>> analyze_kernels(model_dense_kernels(model)).near_zero_fraction  # doctest: +SKIP
    """
    matrices: Dict[str, np.ndarray] = {}
    for name, kernel in kernels.items():
        matrices.update(split_views(name, np.asarray(kernel)))
    if not matrices:
        raise ValueError("No 2-D or per-view 3-D kernels to analyse.")
    stats = [kernel_sparsity(k, n, threshold, top_fraction) for n, k in matrices.items()]
    sizes = np.array([np.prod(s.shape) for s in stats], np.float64)
    near_zero = float(np.sum(sizes * [s.near_zero_fraction for s in stats]) / sizes.sum())
    share = float(np.mean([s.top_input_mass_share for s in stats]))
    return SparsityReport(threshold, top_fraction, stats, near_zero, share)


def model_dense_kernels(model) -> Dict[str, np.ndarray]:
    """The non-embedding kernels of an in-memory Keras model (weights whose name ends in `kernel`).

    Example:

    >>> model_dense_kernels(ranking_model).keys()  # doctest: +SKIP
    """
    embedding_ids = set()
    if hasattr(model, "feature_embedding"):
        embedding_ids = {id(w) for w in model.feature_embedding.weights}
    return {w.name.split(":")[0]: w.numpy() for w in model.weights
            if id(w) not in embedding_ids and w.name.split(":")[0].split("/")[-1] == "kernel"
            and len(w.shape) in (2, 3)}


def _is_dense_kernel(name: str, ndim: int) -> bool:
    parts = name.split("/")
    return (ndim in (2, 3) and parts[-1] == "kernel"
            and not any(marker in part for part in parts for marker in _EMBEDDING_MARKERS))


def load_dense_kernels(path: str) -> Dict[str, np.ndarray]:
    """Reads the non-embedding kernels saved at `path`, without rebuilding the model.

    Args:
        path: a SavedModel directory (e.g. written by `ssr-train`), a TensorFlow checkpoint prefix
            (`model.save_weights("ckpt")`) or a Keras HDF5 weights file (`*.h5`).

    Returns:
        `name -> kernel`, 2-D `[inputs, outputs]` or per-view 3-D kernels, embedding tables excluded.

    Example:

    >>> load_dense_kernels("runs/dnn/saved_model").keys()  # doctest: +SKIP
    """
    if path.endswith((".h5", ".hdf5")):
        kernels: Dict[str, np.ndarray] = {}
        with h5py.File(path, "r") as f:
            def visit(name, item):
                if isinstance(item, h5py.Dataset) and _is_dense_kernel(name.split(":")[0], item.ndim):
                    kernels[name.split(":")[0]] = item[()]
            f.visititems(visit)
        return kernels

    prefix = path
    if os.path.isdir(path):
        prefix = os.path.join(path, "variables", "variables")
        if not tf.io.gfile.exists(prefix + ".index"):
            prefix = tf.train.latest_checkpoint(path) or prefix
    try:
        reader = tf.train.load_checkpoint(prefix)
    except (tf.errors.NotFoundError, ValueError) as error:
        raise FileNotFoundError(
            f"{path!r} is neither a SavedModel directory, a TF checkpoint nor an .h5 weights file."
        ) from error
    # The checkpoint's object graph maps each variable's checkpoint key (in a SavedModel an opaque
    # `model/variables/<n>`) to the variable's full name (`.../backbone/tower/dense/kernel`).
    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    graph.ParseFromString(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    shapes = reader.get_variable_to_shape_map()
    kernels = {}
    for node in graph.nodes:
        for attribute in node.attributes:
            key = attribute.checkpoint_key
            if (attribute.name != "VARIABLE_VALUE" or key not in shapes
                    or "optimizer" in key.split("/")):
                continue
            name = attribute.full_name or key.replace("/.ATTRIBUTES/VARIABLE_VALUE", "")
            if _is_dense_kernel(name, len(shapes[key])):
                kernels[name] = reader.get_tensor(key)
    return kernels
