"""Which of the versions found on disk are served: TF Serving's `ServableVersionPolicy`.

`latest N` (the default, N = 1), `specific` versions, or `all`, as `model_version_policy` in a
`ModelServerConfig` file says.

Example:

>>> VersionPolicy.latest_versions(2).select([1, 2, 3])
{2, 3}
>>> VersionPolicy.specific_versions([1, 7]).select([1, 2, 3])
{1}
>>> VersionPolicy.every_version().select([1, 2, 3])
{1, 2, 3}
"""

from __future__ import annotations

import dataclasses
from typing import FrozenSet, Iterable, Set

from tensorflow_serving.config import file_system_storage_path_source_pb2

ServableVersionPolicy = file_system_storage_path_source_pb2.FileSystemStoragePathSourceConfig.ServableVersionPolicy


@dataclasses.dataclass(frozen=True)
class VersionPolicy:
    """Serve the newest `latest` versions, or exactly `specific` ones, or every one (`serve_all`).

    Args:
        latest: how many of the newest versions to serve (used when neither of the others is set).
        specific: the versions to serve (those present on disk).
        serve_all: serve every version on disk.
    """

    latest: int = 1
    specific: FrozenSet[int] = frozenset()
    serve_all: bool = False

    def __post_init__(self):
        if self.latest < 1:
            raise ValueError(f"version policy latest num_versions must be >= 1; got {self.latest}.")

    @classmethod
    def latest_versions(cls, count: int) -> VersionPolicy:
        return cls(latest=count)

    @classmethod
    def specific_versions(cls, versions: Iterable[int]) -> VersionPolicy:
        versions = frozenset(versions)
        if not versions:
            raise ValueError("version policy specific must name at least one version.")
        return cls(specific=versions)

    @classmethod
    def every_version(cls) -> VersionPolicy:
        return cls(serve_all=True)

    @classmethod
    def from_proto(cls, policy: ServableVersionPolicy) -> VersionPolicy:
        """From a `model_version_policy`; unset = latest 1, as in TF Serving."""
        kind = policy.WhichOneof("policy_choice")
        if kind == "specific":
            return cls.specific_versions(policy.specific.versions)
        if kind == "all":
            return cls.every_version()
        if kind == "latest" and policy.latest.num_versions:
            return cls.latest_versions(policy.latest.num_versions)
        return cls()

    def select(self, available: Iterable[int]) -> Set[int]:
        """The versions to serve out of `available`."""
        available = sorted(set(available))
        if self.serve_all:
            return set(available)
        if self.specific:
            return set(available) & self.specific
        return set(available[-self.latest:])

    def __str__(self) -> str:
        if self.serve_all:
            return "all"
        if self.specific:
            return f"specific {sorted(self.specific)}"
        return f"latest {self.latest}"
