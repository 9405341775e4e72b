"""Giving memory back to the operating system after a version is unloaded or a large request ends.

Dropping the last reference to a version frees its tensors and graphs into the C heap, but glibc's
`malloc` keeps freed pages mapped in its arenas (one per thread that allocated), so the process RSS
would stay at its high-water mark. `malloc_trim(0)` returns the free pages of every arena to the
system. Elsewhere than glibc (no `malloc_trim`) this only collects garbage.

Example:

>>> release_memory()  # doctest: +SKIP
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

_LIBC_NAME = ctypes.util.find_library("c")
_LIBC = ctypes.CDLL(_LIBC_NAME) if _LIBC_NAME else None
_MALLOC_TRIM = getattr(_LIBC, "malloc_trim", None)


def release_memory() -> bool:
    """Collects garbage, then trims the C heap; True if the heap could be trimmed (glibc)."""
    gc.collect()
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    return True
