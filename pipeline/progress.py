"""Console progress of a TFX run: which component runs, whether it was cached, and how long it took.

TFX's `LocalDagRunner` logs "Component X is running." / "... is finished." at INFO through absl,
among thousands of lines of artifact dumps. `ComponentProgress` is a logging handler that keeps only
those events (and warnings), prints one line per event and records per-component wall-clock times.

Example:

>>> progress = ComponentProgress()  # doctest: +SKIP
>>> progress.install()              # before LocalDagRunner().run(...)  # doctest: +SKIP
>>> tfx.orchestration.LocalDagRunner().run(my_pipeline)  # doctest: +SKIP
>>> progress.timings                # {"Transform": (58.3, "ran"), "Trainer": (0.1, "cached"), ...}  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Dict, TextIO, Tuple

from absl import logging as absl_logging

_RUNNING = re.compile(r"^Component (\S+) is running\.$")
_FINISHED = re.compile(r"^Component (\S+) is finished\.$")
_CACHED = re.compile(r"^A cached execution \d+ is used\.$")


class ComponentProgress(logging.Handler):
    """Prints component start/finish lines from TFX's absl log and times each component.

    Args:
        stream: where to print (default stderr, like the logs it replaces).
        show_all: also pass every other absl record on (i.e. keep TFX's full log).

    Attributes:
        timings: component id -> (wall-clock seconds, "ran" or "cached"), in completion order.
    """

    def __init__(self, stream: TextIO | None = None, show_all: bool = False):
        super().__init__(level=logging.INFO)
        self._stream = stream
        self._show_all = show_all
        self._started: Dict[str, float] = {}
        self._cached: Dict[str, bool] = {}
        self._current: str | None = None
        self.timings: Dict[str, Tuple[float, str]] = {}

    def install(self) -> ComponentProgress:
        """Routes absl's INFO records through this handler (and, unless `show_all`, only here)."""
        # Through absl's verbosity flag, not `setLevel`: TensorFlow saves and restores that flag around
        # SavedModel exports, which would silently undo a plain `setLevel`.
        absl_logging.set_verbosity(absl_logging.INFO)
        absl_logger = logging.getLogger("absl")
        absl_logger.addHandler(self)
        absl_logger.propagate = self._show_all
        return self

    def uninstall(self) -> None:
        absl_logger = logging.getLogger("absl")
        absl_logger.removeHandler(self)
        absl_logger.propagate = True

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        now = time.monotonic()
        if match := _RUNNING.match(message):
            self._current = match.group(1)
            self._started[self._current] = now
            self._cached[self._current] = False
            self._print(f"[ssr-pipeline] {self._current}: running")
        elif _CACHED.match(message) and self._current:
            self._cached[self._current] = True
        elif match := _FINISHED.match(message):
            component = match.group(1)
            seconds = now - self._started.pop(component, now)
            state = "cached" if self._cached.pop(component, False) else "ran"
            self.timings[component] = (seconds, state)
            self._print(f"[ssr-pipeline] {component}: {'reused from cache' if state == 'cached' else 'done'} "
                        f"in {seconds:.1f} s")
            self._current = None
        elif record.levelno >= logging.WARNING and not self._show_all:
            self._print(f"{record.levelname}: {message}")

    def _print(self, line: str) -> None:
        stream = self._stream or sys.stderr
        stream.write(line + "\n")
        stream.flush()
