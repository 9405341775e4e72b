"""One loaded version of a model: its SignatureDefs and the functions that run them.

`Servable.load` reads `saved_model.pb` for the SignatureDefs (method names, input dtypes and shapes,
exactly what TF Serving validates against) and `tf.saved_model.load` for the callable signatures
(through `serving.saved_model_loading`, so that a dropped version frees everything it loaded).

Example:

>>> servable = Servable.load("frappe", 3, "/models/frappe/3")  # doctest: +SKIP
>>> servable.signature("predict").run({"examples": serialized})  # doctest: +SKIP
{'probabilities': array([[0.31]], dtype=float32)}
"""

from __future__ import annotations

import dataclasses
import os
from typing import Callable, Dict, Mapping

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2
from tensorflow_serving.apis import get_model_metadata_pb2

from serving import errors, saved_model_loading
from serving.batching import BatchedFunction, BatchingOptions


@dataclasses.dataclass(frozen=True)
class Signature:
    """A SignatureDef and the loaded function computing it.

    Args:
        key: the signature key (e.g. `serving_default`).
        definition: the SignatureDef as stored in `saved_model.pb`.
        function: the loaded concrete function (or a `BatchedFunction` around it); takes the input
            aliases as keyword arguments.
    """

    key: str
    definition: meta_graph_pb2.SignatureDef
    function: Callable[..., Mapping[str, tf.Tensor]]

    @property
    def method_name(self) -> str:
        return self.definition.method_name

    def run(self, inputs: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Runs the signature on validated inputs; TensorFlow errors become `ServingError`s."""
        try:
            outputs = self.function(**{alias: tf.convert_to_tensor(value) for alias, value in inputs.items()})
        except tf.errors.OpError as error:
            raise errors.from_tf_error(error) from error
        except UnicodeDecodeError as error:  # before ValueError, its base class
            raise errors.from_undecodable_tf_error(error) from error
        except (TypeError, ValueError) as error:  # binding or converting arguments failed
            raise errors.invalid_argument(f"signature {self.key!r} rejected its inputs: {error}") from error
        return {alias: tensor.numpy() for alias, tensor in outputs.items()}


class Servable:
    """A model version ready to serve.

    Args:
        name: the model name requests address.
        version: the version number (its directory name under the base path).
        path: the SavedModel directory.
        signatures: public signatures by key (internal `__...` ones excluded).
        module: the object `tf.saved_model.load` returned; kept alive so its variables stay alive.
    """

    def __init__(self, name: str, version: int, path: str, signatures: Mapping[str, Signature], module=None):
        self.name = name
        self.version = version
        self.path = path
        self.signatures = dict(signatures)
        self._module = module

    @classmethod
    def load(cls, name: str, version: int, path: str, batching: BatchingOptions | None = None,
             observe_batch: Callable[[str, str, int], object] | None = None) -> Servable:
        """Loads the SavedModel at `path` (tag `serve`).

        Args:
            name, version, path: see the class.
            batching: if set, every signature's concurrent calls are merged (`serving.batching`).
            observe_batch: with `batching`, called with (model name, signature key, formed batch size).
        """
        saved_model = saved_model_pb2.SavedModel()
        with tf.io.gfile.GFile(os.path.join(path, "saved_model.pb"), "rb") as f:
            saved_model.ParseFromString(f.read())
        meta_graph = next((g for g in saved_model.meta_graphs
                           if tf.saved_model.SERVING in g.meta_info_def.tags), None)
        if meta_graph is None:
            raise ValueError(f"SavedModel at {path} has no MetaGraph tagged {tf.saved_model.SERVING!r}.")
        module = saved_model_loading.load(path, tags=[tf.saved_model.SERVING])
        signatures = {key: Signature(key, definition, _batched(module.signatures[key], batching, observe_batch,
                                                               name, key))
                      for key, definition in meta_graph.signature_def.items()
                      if not key.startswith("__") and key in module.signatures}
        if not signatures:
            raise ValueError(f"SavedModel at {path} has no serving signatures.")
        return cls(name, version, path, signatures, module)

    def signature(self, key: str) -> Signature:
        """The signature called `key` ("" = `serving_default`); FAILED_PRECONDITION if absent (as TF Serving)."""
        key = key or tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY
        try:
            return self.signatures[key]
        except KeyError:
            raise errors.failed_precondition(f'Serving signature key "{key}" not found.') from None

    def signature_def_map(self) -> get_model_metadata_pb2.SignatureDefMap:
        """All public SignatureDefs, as GetModelMetadata returns them."""
        result = get_model_metadata_pb2.SignatureDefMap()
        for key, signature in self.signatures.items():
            result.signature_def[key].CopyFrom(signature.definition)
        return result

    def __repr__(self) -> str:
        return f"Servable({self.name!r}, version={self.version}, signatures={sorted(self.signatures)})"


def _batched(function: tf.types.experimental.ConcreteFunction, batching: BatchingOptions | None,
             observe_batch: Callable[[str, str, int], object] | None, name: str,
             key: str) -> Callable[..., Mapping[str, tf.Tensor]]:
    if batching is None:
        return function
    observe = None if observe_batch is None else (lambda size: observe_batch(name, key, size))
    return BatchedFunction(function, batching, observe)
