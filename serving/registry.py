"""Which versions of a model are served, and swapping them without failing a request.

`ModelRegistry` follows TF Serving's file-system source: versions are the numeric sub-directories of
the base path holding a SavedModel. The versions a `VersionPolicy` selects (default: the newest one),
plus any version a label names, are served. `refresh()` loads and warms a new version *before*
publishing it, then replaces the served map in one assignment under a lock (the atomic swap); a
retired version stays alive until its last in-flight request ends, then it is unloaded and its
memory given back to the system (`serving.memory`). `unload_all()` retires every version (a model
removed from the config). A version that fails to load is skipped (the old one keeps serving) until
its files change.

Example:

>>> registry = ModelRegistry("frappe", "/models/frappe", version_labels={"stable": 3})  # doctest: +SKIP
>>> registry.refresh()  # doctest: +SKIP
>>> registry.start_watching(poll_seconds=2.0)  # doctest: +SKIP
>>> with registry.acquire(request.model_spec) as servable:  # doctest: +SKIP
...     response = inference.predict(servable, request, limits)
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import threading
from typing import Callable, Dict, Iterator, List, Mapping, Tuple

import tensorflow as tf
from tensorflow_serving.apis import get_model_status_pb2, model_pb2

from serving import errors
from serving.memory import release_memory
from serving.servable import Servable
from serving.version_policy import VersionPolicy

logger = logging.getLogger(__name__)

State = get_model_status_pb2.ModelVersionStatus.State


@dataclasses.dataclass(frozen=True)
class VersionStatus:
    """What GetModelStatus reports for one version.

    Args:
        version: the version number.
        state: a `ModelVersionStatus.State` (LOADING, AVAILABLE, UNLOADING, END).
        error: why the version ended, if it failed to load; "" otherwise.
    """

    version: int
    state: int
    error: str = ""


class ModelRegistry:
    """Serves the versions of one model found under a base path, swapping them atomically.

    Args:
        model_name: the name requests must address.
        base_path: directory whose numeric sub-directories are versions (`<base_path>/<version>/`).
        version_labels: label -> version (e.g. `{"stable": 3, "canary": 4}`); labelled versions stay
            loaded even when they are not among the latest.
        num_latest_versions: how many of the newest versions to serve (unless `version_policy` is given).
        version_policy: which versions to serve (latest N, specific ones, all).
        load: builds a `Servable` from (name, version, path); default `Servable.load`.
        warm_up: called on a freshly loaded servable before it is published; raising rejects it.
    """

    def __init__(self, model_name: str, base_path: str, *, version_labels: Mapping[str, int] | None = None,
                 num_latest_versions: int = 1, version_policy: VersionPolicy | None = None,
                 load: Callable[[str, int, str], Servable] = Servable.load,
                 warm_up: Callable[[Servable], object] | None = None):
        if not model_name:
            raise ValueError("model_name must be a non-empty string.")
        if num_latest_versions < 1:
            raise ValueError(f"num_latest_versions must be >= 1; got {num_latest_versions}.")
        self.model_name = model_name
        self.base_path = base_path
        self.version_labels = dict(version_labels or {})
        self.version_policy = version_policy or VersionPolicy.latest_versions(num_latest_versions)
        self._load = load
        self._warm_up = warm_up
        self._lock = threading.Lock()  # guards everything below; held only for dict operations
        self._refresh_lock = threading.Lock()  # one refresh (load + swap) at a time
        self._served: Dict[int, Servable] = {}  # replaced as a whole, never mutated: the atomic swap
        self._in_flight: Dict[int, int] = {}  # id(servable) -> requests using it
        self._retiring: Dict[int, Servable] = {}  # id(servable) -> retired servable still in use
        self._statuses: Dict[int, VersionStatus] = {}
        self._failed: Dict[int, Tuple] = {}  # version -> its files' state when it failed to load
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._removed = False  # unload_all() was called: refresh() serves nothing any more

    # ---- requests ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def acquire(self, spec: model_pb2.ModelSpec) -> Iterator[Servable]:
        """The servable a request's ModelSpec addresses, kept loaded until the `with` block ends.

        Raises:
            ServingError: NOT_FOUND for an unknown model or a version that is not loaded;
                INVALID_ARGUMENT for an unknown version label.
        """
        servable = self._check_out(spec)
        try:
            yield servable
        finally:
            self._check_in(servable)

    def served_versions(self) -> List[int]:
        """Versions currently answering requests, ascending."""
        return sorted(self._served)

    def statuses(self, spec: model_pb2.ModelSpec) -> List[VersionStatus]:
        """GetModelStatus: every known version of the model, or the one `spec` names (newest first)."""
        self._check_name(spec, "Could not find any versions of model {name}")
        with self._lock:
            statuses = dict(self._statuses)
        if spec.HasField("version") or spec.version_label:
            version = self._resolve_label(spec.version_label) if spec.version_label else spec.version.value
            if version not in statuses:
                raise errors.not_found(f"Could not find version {version} of model {self.model_name}")
            return [statuses[version]]
        if not statuses:
            raise errors.not_found(f"Could not find any versions of model {self.model_name}")
        return [statuses[v] for v in sorted(statuses, reverse=True)]

    # ---- versions ------------------------------------------------------------------------------

    def refresh(self) -> List[int]:
        """Scans the base path, loads + warms new versions, swaps, retires old ones; returns served versions."""
        with self._refresh_lock:
            on_disk = self._scan()
            loaded: Dict[int, Servable] = {}
            while True:
                candidates = [v for v in on_disk
                              if v not in self._failed or self._failed[v] != _files_state(on_disk[v])]
                wanted = set() if self._removed else self.version_policy.select(candidates)
                wanted |= {v for v in self.version_labels.values() if v in candidates and not self._removed}
                pending = sorted(wanted - set(self._served) - set(loaded), reverse=True)
                if not pending:
                    break
                for version in pending:  # newest first: the one that matters most is ready soonest
                    servable = self._load_version(version, on_disk[version])
                    if servable is None:
                        break  # `wanted` changes (the failed version drops out): recompute
                    loaded[version] = servable
            served = {v: self._served.get(v) or loaded[v] for v in wanted}
            if not served and self._served and not self._removed:
                logger.warning("No loadable version of model %s under %s; keeping versions %s.",
                               self.model_name, self.base_path, sorted(self._served))
                return self.served_versions()
            self._publish(served)
            return self.served_versions()

    def reconfigure(self, version_policy: VersionPolicy, version_labels: Mapping[str, int]) -> List[int]:
        """Applies a new version policy and labels (a reloaded config file), then refreshes."""
        with self._refresh_lock:
            self.version_policy = version_policy
            self.version_labels = dict(version_labels)
        return self.refresh()

    def unload_all(self) -> None:
        """Stops watching and retires every version; in-flight requests finish on theirs first."""
        self.stop_watching()
        self._removed = True
        self.refresh()

    def start_watching(self, poll_seconds: float,
                       on_change: Callable[[List[int]], object] | None = None) -> None:
        """Polls the base path every `poll_seconds` in a daemon thread (like TF Serving's file system poll).

        Args:
            poll_seconds: seconds between scans.
            on_change: called with the served versions after a poll that changed them.
        """
        if poll_seconds <= 0:
            raise ValueError(f"poll_seconds must be > 0; got {poll_seconds}.")
        if self._watcher is not None:
            raise RuntimeError("The registry is already watching its base path.")

        def watch() -> None:
            while not self._stop.wait(poll_seconds):
                try:
                    before = self.served_versions()
                    after = self.refresh()
                    if on_change is not None and after != before:
                        on_change(after)
                except Exception:  # a bad poll (e.g. unreadable directory) must not kill the watcher
                    logger.exception("Polling %s for versions of %s failed.", self.base_path, self.model_name)

        self._watcher = threading.Thread(target=watch, name=f"version-watcher-{self.model_name}", daemon=True)
        self._watcher.start()

    def stop_watching(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None

    # ---- internals -----------------------------------------------------------------------------

    def _check_name(self, spec: model_pb2.ModelSpec, message: str) -> None:
        if spec.name != self.model_name:
            raise errors.not_found(message.format(name=spec.name))

    def _resolve_label(self, label: str) -> int:
        try:
            return self.version_labels[label]
        except KeyError:
            raise errors.invalid_argument(f"Unrecognized servable version label: {label}") from None

    def _check_out(self, spec: model_pb2.ModelSpec) -> Servable:
        if spec.version_label:
            version = self._resolve_label(spec.version_label)
        elif spec.HasField("version"):
            version = spec.version.value
        else:
            version = None
        described = f"Latest({spec.name})" if version is None else f"Specific({spec.name}, {version})"
        if spec.name != self.model_name:
            raise errors.not_found(f"Servable not found for request: {described}")
        with self._lock:
            served = self._served
            if version is None:
                version = max(served, default=None)
            servable = served.get(version)
            if servable is None:
                raise errors.not_found(f"Servable not found for request: {described}")
            self._in_flight[id(servable)] = self._in_flight.get(id(servable), 0) + 1
            return servable

    def _check_in(self, servable: Servable) -> None:
        with self._lock:
            key = id(servable)
            self._in_flight[key] -= 1
            if self._in_flight[key]:
                return
            del self._in_flight[key]
            if key not in self._retiring:
                return
            self._unload(self._retiring.pop(key))
        del servable
        _release_memory_soon()

    def _publish(self, served: Dict[int, Servable]) -> None:
        unloaded = False
        with self._lock:
            previous, self._served = self._served, served
            for version in served:
                self._statuses[version] = VersionStatus(version, State.AVAILABLE)
            for version, servable in previous.items():
                if served.get(version) is servable:
                    continue
                if self._in_flight.get(id(servable)):
                    self._retiring[id(servable)] = servable
                    self._statuses[version] = VersionStatus(version, State.UNLOADING)
                else:
                    self._unload(servable)
                    unloaded = True
        if served.keys() != previous.keys():
            logger.info("Model %s now serves versions %s (was %s).", self.model_name, sorted(served),
                        sorted(previous))
        if unloaded:
            del previous, servable
            _release_memory_soon()

    def _unload(self, servable: Servable) -> None:
        # Caller holds self._lock. Dropping the last reference frees the version's graphs and variables.
        if servable.version not in self._served:
            self._statuses[servable.version] = VersionStatus(servable.version, State.END)
        logger.info("Unloaded model %s version %d.", self.model_name, servable.version)

    def _load_version(self, version: int, path: str) -> Servable | None:
        with self._lock:
            self._statuses[version] = VersionStatus(version, State.LOADING)
        # Taken before loading: if files are still being copied in, the state differs by the next
        # poll and the version is retried.
        files_state = _files_state(path)
        try:
            servable = self._load(self.model_name, version, path)
            if self._warm_up is not None:
                self._warm_up(servable)
        except Exception as error:  # any load failure leaves the served versions untouched
            self._failed[version] = files_state
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            with self._lock:
                self._statuses[version] = VersionStatus(version, State.END, message)
            logger.error("Failed to load model %s version %d from %s: %s", self.model_name, version, path,
                         message)
            return None
        logger.info("Loaded model %s version %d from %s.", self.model_name, version, path)
        return servable

    def _scan(self) -> Dict[int, str]:
        """Numeric sub-directories holding a SavedModel -> their paths."""
        if not tf.io.gfile.isdir(self.base_path):
            raise FileNotFoundError(f"Model base path {self.base_path} is not a directory.")
        versions = {}
        for name in tf.io.gfile.listdir(self.base_path):
            name = name.rstrip("/")
            path = os.path.join(self.base_path, name)
            if name.isdigit() and (tf.io.gfile.exists(os.path.join(path, "saved_model.pb"))
                                   or tf.io.gfile.exists(os.path.join(path, "saved_model.pbtxt"))):
                versions[int(name)] = path
        return versions


def check_base_path(base_path: str) -> None:
    """Start-up check: `base_path` must be a directory holding numbered version folders.

    Raises:
        ValueError: saying what was found instead (a missing path, a version folder itself, other
            entries, nothing).
    """
    if not tf.io.gfile.isdir(base_path):
        raise ValueError(f"Model base path {base_path} is not a directory.")
    entries = sorted(name.rstrip("/") for name in tf.io.gfile.listdir(base_path))
    if any(name.isdigit() and tf.io.gfile.isdir(os.path.join(base_path, name)) for name in entries):
        return
    expected = f"expected numbered version folders such as {os.path.join(base_path, '1')}/saved_model.pb"
    if "saved_model.pb" in entries or "saved_model.pbtxt" in entries:
        raise ValueError(f"Model base path {base_path} is a SavedModel (a version folder), not a base path: "
                         f"{expected}; point it at the folder that holds the version folders.")
    found = ", ".join(entries[:10]) + (f", ... ({len(entries)} entries)" if len(entries) > 10 else "")
    raise ValueError(f"Model base path {base_path} holds no numbered version folder ({expected}); "
                     f"found: {found or 'nothing'}.")


def _release_memory_soon() -> None:
    """Gives an unloaded version's memory back, in the background (a collection takes ~0.2 s).

    Not a daemon: the interpreter joins it before finalising. A daemon thread still freeing TensorFlow
    objects at exit is unwound inside C++ code and aborts the process ("FATAL: exception not rethrown").
    """
    threading.Thread(target=release_memory, name="release-memory").start()


def _files_state(path: str) -> Tuple:
    """(file, size, mtime) of everything under `path`: a failed version is retried once this changes."""
    state = []
    for directory, _, files in tf.io.gfile.walk(path):
        for name in files:
            stat = tf.io.gfile.stat(os.path.join(directory, name))
            state.append((os.path.join(directory, name), stat.length, stat.mtime_nsec))
    return tuple(sorted(state))
