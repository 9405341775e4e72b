"""`save_servable`: the SavedModel writing every export kind shares (immutable versions, method names)."""

from __future__ import annotations

import os
from typing import Mapping

import tensorflow as tf

from ssr_keras.export.method_names import set_method_names


def check_new_version_dir(export_dir: str) -> None:
    """Raises FileExistsError if `export_dir` already holds a SavedModel (TF Serving versions are immutable)."""
    if tf.io.gfile.exists(os.path.join(export_dir, "saved_model.pb")):
        raise FileExistsError(f"export_dir {export_dir!r} already holds a SavedModel; TF Serving versions "
                              "are immutable, write a new version directory instead.")


def save_servable(export_dir: str, trackables: Mapping[str, tf.Module],
                  signatures: Mapping[str, tf.types.experimental.ConcreteFunction],
                  method_names: Mapping[str, str]) -> str:
    """Saves a plain `tf.Module` holding `trackables` with the given signatures and method names.

    A plain module (not the Keras model itself) is saved so the SavedModel holds the serving
    signatures only, not Keras' training functions, and tracks every variable and lookup table the
    signatures use.

    Args:
        export_dir: the version directory to create.
        trackables: attribute name -> model / layer / module whose variables and tables the
            signatures use.
        signatures: signature key -> concrete function.
        method_names: signature key -> TF Serving method name (see `signature_names`).

    Returns:
        `export_dir`.
    """
    check_new_version_dir(export_dir)
    servable = tf.Module()
    for name, trackable in trackables.items():
        setattr(servable, name, trackable)
    tf.saved_model.save(servable, export_dir, signatures=dict(signatures))
    set_method_names(export_dir, method_names)
    return export_dir
