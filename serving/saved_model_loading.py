"""Loading a SavedModel so that freeing it frees it all: the custom gradients a load registers go too.

`tf.saved_model.load` re-registers every custom gradient of the SavedModel (each `tf.custom_gradient`
its functions were traced with, e.g. SSR-D's ICS activation, `ssr_keras.layers.ics_layer`) in
TensorFlow's process-wide gradient registry under fresh names, and nothing ever removes them. The
registered closures hold the loaded functions, so a version's functions and graphs outlived it: loading
and dropping an SSR-D Frappe ranker left 91 functions in the eager context and ~68 MB of RSS behind
each time (TF 2.16.2), which a server hot-swapping versions would never give back. The real TF Serving
(C++) has no such registry. `load` notes which registrations a load added and removes them once the
loaded object is garbage-collected; the functions are then freed with it.

The registry is TensorFlow's private `ops._gradient_registry` (a `registry.Registry`); if a TensorFlow
version lacks it, loading works as before, leak included, and a warning says so once.
"""

from __future__ import annotations

import functools
import logging
import threading
import weakref
from typing import Iterable, Sequence

import tensorflow as tf
from tensorflow.python.framework import ops

logger = logging.getLogger(__name__)

_REGISTRY = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
# One load at a time: the registrations a load added are told apart by comparing the registry's names
# before and after it.
_LOAD_LOCK = threading.Lock()


def load(path: str, tags: Sequence[str]) -> object:
    """`tf.saved_model.load(path, tags)`, releasing the gradients it registers when the result is freed."""
    if not isinstance(_REGISTRY, dict):
        _warn_registry_missing()
        return tf.saved_model.load(path, tags=list(tags))
    with _LOAD_LOCK:
        before = set(_REGISTRY)
        loaded = tf.saved_model.load(path, tags=list(tags))
        added = set(_REGISTRY) - before
    if added:
        weakref.finalize(loaded, _unregister, added)
    return loaded


@functools.cache
def _warn_registry_missing() -> None:
    logger.warning("tensorflow.python.framework.ops._gradient_registry is gone in TensorFlow %s: custom "
                   "gradients of loaded models are never released.", tf.__version__)


def _unregister(names: Iterable[str]) -> None:
    for name in names:
        _REGISTRY.pop(name, None)
