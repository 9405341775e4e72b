"""Pusher executor that never pushes the same SavedModel twice.

With a `LatestBlessedModelStrategy` baseline, re-running an unchanged pipeline re-evaluates the cached
model against itself (its baseline input changed from "none" to that very model), blesses it again,
and TFX's Pusher would copy it to a new `<base>/<timestamp>/` version: TF Serving would then reload
an identical model. This executor first looks for a version directory holding the same SavedModel
(same `fingerprint.pb`) and, if there is one, records that version as the push instead.

>>> from tfx.dsl.components.base import executor_spec  # doctest: +SKIP
>>> pusher = tfx.components.Pusher(  # doctest: +SKIP
...     ..., custom_executor_spec=executor_spec.ExecutorClassSpec(Executor))
"""

from __future__ import annotations

import os
from typing import Any, Dict, List

from absl import logging
from tfx import types
from tfx.components.pusher import executor as pusher_executor
from tfx.dsl.io import fileio
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils

# Written by `tf.saved_model.save`; a hash of the graph, signatures and variables.
_FINGERPRINT = "fingerprint.pb"


def find_pushed_version(model_path: str, base_directory: str) -> str | None:
    """The version directory under `base_directory` holding the SavedModel at `model_path`, if any."""
    fingerprint_path = os.path.join(model_path, _FINGERPRINT)
    if not fileio.exists(fingerprint_path) or not fileio.isdir(base_directory):
        return None
    fingerprint = io_utils.read_bytes_file(fingerprint_path)
    for version in sorted(fileio.listdir(base_directory)):
        candidate = os.path.join(base_directory, version.rstrip("/"), _FINGERPRINT)
        if fileio.exists(candidate) and io_utils.read_bytes_file(candidate) == fingerprint:
            return os.path.join(base_directory, version.rstrip("/"))
    return None


class Executor(pusher_executor.Executor):
    """TFX Pusher (filesystem destination) that reuses an existing version of an identical model."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],  # noqa: N802 (TFX API name)
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        push_destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.PUSH_DESTINATION_KEY],
                                  push_destination)
        if push_destination.WhichOneof("destination") == "filesystem" and self.CheckBlessing(input_dict):
            model_path = self.GetModelPath(input_dict)
            existing = find_pushed_version(model_path, push_destination.filesystem.base_directory)
            if existing:
                logging.info("This model is already served from %s; not pushing a duplicate version.",
                             existing)
                model_push = artifact_utils.get_single_instance(
                    output_dict[standard_component_specs.PUSHED_MODEL_KEY])
                io_utils.copy_dir(model_path, model_push.uri)
                self._MarkPushed(model_push, pushed_destination=existing,
                                 pushed_version=os.path.basename(existing))
                return
        super().Do(input_dict, output_dict, exec_properties)
