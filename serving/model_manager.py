"""Several models in one server: one `ModelRegistry` per model, from flags or a `--model_config_file`.

`ModelManager` routes a request's `ModelSpec.name` to that model's registry and applies a (re)loaded
`ModelServerConfig` (TF Serving's text format, `tensorflow_serving.config.model_server_config_pb2`):
a model added to the file is loaded (all its wanted versions loaded and warmed) before it is
published; a removed model is unpublished at once (new requests for it get NOT_FOUND) and its
versions are unloaded when their in-flight requests end; a kept model gets its new version policy
and labels. `watch_config` re-reads the file every `poll_seconds` (TF Serving's
`--model_config_file_poll_wait_seconds`); the server also reloads it on SIGHUP.

Example:

>>> manager = ModelManager(load_registry)  # doctest: +SKIP
>>> manager.apply(read_model_config("models.config"))  # doctest: +SKIP
{'ranker': [3], 'retriever': [1]}
>>> with manager.acquire(request.model_spec) as servable:  # doctest: +SKIP
...     response = inference.predict(servable, request, limits)
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from typing import Callable, Dict, Iterator, List, Mapping, Sequence

from google.protobuf import text_format
from tensorflow_serving.apis import model_pb2
from tensorflow_serving.config import model_server_config_pb2

from serving import errors
from serving.registry import ModelRegistry, VersionStatus
from serving.servable import Servable
from serving.version_policy import VersionPolicy

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """One model to serve: TF Serving's `ModelConfig`, the fields `ssr-serve` uses.

    Args:
        name: the name requests address.
        base_path: directory of numbered version folders.
        version_policy: which versions to serve.
        version_labels: label -> version.
    """

    name: str
    base_path: str
    version_policy: VersionPolicy = VersionPolicy()
    version_labels: Mapping[str, int] = dataclasses.field(default_factory=dict)


def read_model_config(path: str) -> List[ModelConfig]:
    """Parses a text-format `ModelServerConfig` file (`model_config_list { config { ... } }`).

    Raises:
        ValueError: naming the file and what is wrong (syntax, a duplicated or empty name, an empty
            base path, a platform other than tensorflow, a bad version policy).
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as error:
        raise ValueError(f"--model_config_file {path}: cannot read it ({error.strerror}).") from None
    config = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as error:
        raise ValueError(f"--model_config_file {path}: not a text-format ModelServerConfig: {error}") from None
    if config.WhichOneof("config") != "model_config_list":
        raise ValueError(f"--model_config_file {path}: expected a model_config_list (custom_model_config is "
                         "not supported).")
    models, names = [], set()
    for entry in config.model_config_list.config:
        where = f"--model_config_file {path}: model {entry.name!r}"
        if not entry.name or not entry.base_path:
            raise ValueError(f"{where}: every config needs a name and a base_path.")
        if entry.name in names:
            raise ValueError(f"{where} is configured twice.")
        if entry.model_platform not in ("", "tensorflow"):
            raise ValueError(f"{where}: model_platform {entry.model_platform!r} is not served; expected "
                             "'tensorflow'.")
        try:
            policy = VersionPolicy.from_proto(entry.model_version_policy)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        names.add(entry.name)
        models.append(ModelConfig(entry.name, entry.base_path, policy, dict(entry.version_labels)))
    return models


class ModelManager:
    """The models a server holds, by name.

    Args:
        make_registry: builds the (not yet refreshed) registry of one configured model.
    """

    def __init__(self, make_registry: Callable[[ModelConfig], ModelRegistry]):
        self._make_registry = make_registry
        self._lock = threading.Lock()  # guards _models and _configs (replaced, never mutated)
        self._apply_lock = threading.Lock()  # one apply() at a time
        self._models: Dict[str, ModelRegistry] = {}
        self._configs: Dict[str, ModelConfig] = {}
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._version_poll: tuple | None = None  # (seconds, on_change) once versions are watched

    # ---- requests (the interface `serving.servicer` uses) ---------------------------------------

    @contextlib.contextmanager
    def acquire(self, spec: model_pb2.ModelSpec) -> Iterator[Servable]:
        """The servable `spec` addresses (see `ModelRegistry.acquire`); NOT_FOUND for an unknown model."""
        with self._registry(spec, "Servable not found for request: {described}").acquire(spec) as servable:
            yield servable

    def statuses(self, spec: model_pb2.ModelSpec) -> List[VersionStatus]:
        """GetModelStatus of the model `spec` names."""
        return self._registry(spec, "Could not find any versions of model {name}").statuses(spec)

    def model_names(self) -> List[str]:
        return sorted(self._models)

    def served_versions(self) -> Dict[str, List[int]]:
        """Model name -> versions answering requests."""
        return {name: registry.served_versions() for name, registry in sorted(self._models.items())}

    def registry(self, name: str) -> ModelRegistry:
        return self._models[name]

    # ---- configuration --------------------------------------------------------------------------

    def apply(self, configs: Sequence[ModelConfig]) -> Dict[str, List[int]]:
        """Serves exactly `configs`: loads added models, reconfigures kept ones, retires removed ones."""
        with self._apply_lock:
            wanted = {config.name: config for config in configs}
            models, previous = dict(self._models), dict(self._configs)
            for name, config in wanted.items():
                old = previous.get(name)
                if old is not None and old.base_path == config.base_path:
                    if old != config:
                        models[name].reconfigure(config.version_policy, config.version_labels)
                    continue
                registry = self._make_registry(config)
                versions = registry.refresh()  # loaded and warmed before anyone can address it
                logger.info("Model %s (%s, versions %s) loaded from %s: serving versions %s.", name,
                            config.version_policy, "labels " + str(dict(config.version_labels)), config.base_path,
                            versions)
                if self._version_poll is not None:
                    registry.start_watching(*self._version_poll)
                if old is not None:
                    models[name].unload_all()  # its base path moved: retire the old registry's versions
                models[name] = registry
            removed = [models.pop(name) for name in list(models) if name not in wanted]
            with self._lock:
                self._models, self._configs = models, wanted
            for registry in removed:
                logger.info("Model %s was removed from the config: unloading it.", registry.model_name)
                registry.unload_all()
            return self.served_versions()

    def start_watching_versions(self, poll_seconds: float, on_change: Callable[[object], object] | None = None):
        """Every model polls its base path for new versions (models added later start polling too)."""
        self._version_poll = (poll_seconds, on_change)
        for registry in self._models.values():
            registry.start_watching(poll_seconds, on_change)

    def watch_config(self, read: Callable[[], Sequence[ModelConfig]], poll_seconds: float,
                     on_change: Callable[[object], object] | None = None) -> None:
        """Re-reads the config every `poll_seconds` in a daemon thread and applies it if it changed.

        A file that fails to parse is logged and skipped: the models being served stay.
        """
        if poll_seconds <= 0:
            raise ValueError(f"poll_seconds must be > 0; got {poll_seconds}.")

        def watch() -> None:
            while not self._stop.wait(poll_seconds):
                self.reload(read, on_change)

        self._watcher = threading.Thread(target=watch, name="model-config-watcher", daemon=True)
        self._watcher.start()

    def reload(self, read: Callable[[], Sequence[ModelConfig]],
               on_change: Callable[[object], object] | None = None) -> bool:
        """Reads the config and applies it if it differs from the served one; False if it could not be read."""
        try:
            configs = read()
        except Exception as error:  # a half-written or broken file must not take the server down
            logger.error("Could not reload the model config: %s", error)
            return False
        if {c.name: c for c in configs} == self._configs:
            return True
        try:
            before = self.served_versions()
            after = self.apply(configs)
        except Exception:
            logger.exception("Applying the reloaded model config failed.")
            return False
        if on_change is not None and after != before:
            on_change(after)
        return True

    def stop_watching(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None
        for registry in self._models.values():
            registry.stop_watching()

    # ---- internals ------------------------------------------------------------------------------

    def _registry(self, spec: model_pb2.ModelSpec, message: str) -> ModelRegistry:
        registry = self._models.get(spec.name)
        if registry is None:
            version = spec.version_label or (spec.version.value if spec.HasField("version") else None)
            described = f"Latest({spec.name})" if version is None else f"Specific({spec.name}, {version})"
            raise errors.not_found(message.format(described=described, name=spec.name))
        return registry
