"""Setting SignatureDef method names after `tf.saved_model.save` (the one private TensorFlow call).

TF2's `tf.saved_model.save` writes every signature with method name `tensorflow/serving/predict` and
has no argument to change it (tensorflow/tensorflow#38081). TF Serving's Classify and Regress APIs
check it when `--enable_signature_method_name_check` is on, so an export rewrites the names in
`saved_model.pb` through the public SavedModel proto. What has no public API is refreshing
`fingerprint.pb` (a hash of `saved_model.pb` that loaders and TF Serving read): that is the one
private call, `fingerprinting_utils.write_fingerprint`, isolated here and covered by
`tests/ssr_keras/export/test_method_names.py`.
"""

from __future__ import annotations

import os
from typing import Mapping

import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow.python.saved_model import fingerprinting_utils  # private: no public writer exists


def read_method_names(export_dir: str) -> dict:
    """`{signature key: method name}` of the SavedModel in `export_dir`."""
    saved_model = _read(export_dir)
    return {key: signature.method_name
            for meta_graph in saved_model.meta_graphs for key, signature in meta_graph.signature_def.items()}


def set_method_names(export_dir: str, method_names: Mapping[str, str]) -> None:
    """Sets each listed signature's `method_name` in `saved_model.pb` and refreshes the fingerprint.

    Args:
        export_dir: a SavedModel directory written by `tf.saved_model.save`.
        method_names: signature key -> method name (`tf.saved_model.*_METHOD_NAME`).

    Raises:
        KeyError: a listed signature key is not in the SavedModel.
    """
    saved_model = _read(export_dir)
    for meta_graph in saved_model.meta_graphs:
        unknown = sorted(set(method_names) - set(meta_graph.signature_def))
        if unknown:
            raise KeyError(f"{export_dir}: no signature(s) {unknown}; found {sorted(meta_graph.signature_def)}.")
        for key, method_name in method_names.items():
            meta_graph.signature_def[key].method_name = method_name
    with tf.io.gfile.GFile(os.path.join(export_dir, "saved_model.pb"), "wb") as f:
        f.write(saved_model.SerializeToString(deterministic=True))
    fingerprinting_utils.write_fingerprint(export_dir)


def _read(export_dir: str) -> saved_model_pb2.SavedModel:
    saved_model = saved_model_pb2.SavedModel()
    with tf.io.gfile.GFile(os.path.join(export_dir, "saved_model.pb"), "rb") as f:
        saved_model.ParseFromString(f.read())
    return saved_model
