"""Console progress of a TFX run: which component runs, whether it was cached, how long it took; the logs in files.

TFX's `LocalDagRunner` logs "Component X is running." / "... is finished." at INFO through absl, among
thousands of lines of artifact dumps, Beam and TensorFlow messages. `ComponentProgress` is a logging
handler on the root logger that prints one short line per component event, records per-component
wall-clock times, and writes every record (Python warnings included) to the running component's log
file, `<log_dir>/<component>.log` (`<log_dir>/pipeline.log` between components). Errors are printed too.
Whatever else writes to the process's stdout/stderr meanwhile (TFX packaging the module files with
setuptools, Beam, TensorFlow's C++ logs, Keras' epoch lines) goes to `<log_dir>/console.log`.

Example:

>>> progress = ComponentProgress(log_dir="runs/frappe/logs")  # doctest: +SKIP
>>> progress.install()              # before LocalDagRunner().run(...)  # doctest: +SKIP
>>> tfx.orchestration.LocalDagRunner().run(my_pipeline)  # doctest: +SKIP
>>> progress.timings                # {"Transform": (58.3, "ran"), "Trainer": (0.1, "cached"), ...}  # doctest: +SKIP
>>> progress.log_files["Transform"]  # "runs/frappe/logs/Transform.log"  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from typing import Dict, List, TextIO, Tuple

from absl import logging as absl_logging

_RUNNING = re.compile(r"^Component (\S+) is running\.$")
_FINISHED = re.compile(r"^Component (\S+) is finished\.$")
_CACHED = re.compile(r"^A cached execution \d+ is used\.$")
OUTSIDE_COMPONENTS = "pipeline"  # the log file of records logged between components
CONSOLE = "console"  # the log file of everything written to stdout/stderr during the run
_FORMAT = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


class ComponentProgress(logging.Handler):
    """Prints component start/finish lines, times each component and writes the logs to files.

    Args:
        stream: where to print (default stderr, like the logs it replaces).
        show_all: also print every record (TFX's full log) on `stream`, and leave stdout/stderr alone.
        log_dir: folder for `<component>.log` and `console.log` files (None: no files, no redirection).

    Attributes:
        timings: component id -> (wall-clock seconds, "ran" or "cached"), in completion order.
        log_files: component id (or "pipeline") -> its log file.
    """

    def __init__(self, stream: TextIO | None = None, show_all: bool = False, log_dir: str | None = None):
        super().__init__(level=logging.INFO)
        self._stream = stream
        self._show_all = show_all
        self.log_dir = log_dir
        self._started: Dict[str, float] = {}
        self._cached: Dict[str, bool] = {}
        self._warnings: Dict[str, int] = {}
        self._current: str | None = None
        self._files: Dict[str, TextIO] = {}
        self._saved: Tuple[List[logging.Handler], int, bool, int] | None = None
        self._saved_fds: Tuple[int, int] | None = None
        self.timings: Dict[str, Tuple[float, str]] = {}
        self.log_files: Dict[str, str] = {}

    def install(self) -> ComponentProgress:
        """Routes every log record (absl's INFO included) through this handler, and only here."""
        # Through absl's verbosity flag, not `setLevel`: TensorFlow saves and restores that flag around
        # SavedModel exports, which would silently undo a plain `setLevel`.
        verbosity = absl_logging.get_verbosity()
        absl_logging.set_verbosity(absl_logging.INFO)
        root = logging.getLogger()
        absl_logger = logging.getLogger("absl")
        self._saved = (list(root.handlers), root.level, absl_logger.propagate, verbosity)
        for handler in self._saved[0]:
            root.removeHandler(handler)
        root.addHandler(self)
        root.setLevel(logging.INFO)
        absl_logger.propagate = True
        logging.captureWarnings(True)
        if self.log_dir:
            os.makedirs(self.log_dir, exist_ok=True)
            if not self._show_all:
                self._redirect_output(os.path.join(self.log_dir, f"{CONSOLE}.log"))
        return self

    def _redirect_output(self, path: str) -> None:
        """Points file descriptors 1 and 2 at `path`; this handler keeps printing to the real stderr."""
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        if self._stream is None:
            self._stream = os.fdopen(os.dup(2), "w", encoding="utf-8", errors="replace")
        self._saved_fds = (os.dup(1), os.dup(2))
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(target, 1)
        os.dup2(target, 2)
        os.close(target)
        self.log_files[CONSOLE] = path

    def uninstall(self) -> None:
        if self._saved_fds is not None:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            for fd, saved in zip((1, 2), self._saved_fds):
                os.dup2(saved, fd)
                os.close(saved)
            self._saved_fds = None
        root = logging.getLogger()
        root.removeHandler(self)
        if self._saved is not None:
            handlers, level, propagate, verbosity = self._saved
            for handler in handlers:
                root.addHandler(handler)
            root.setLevel(level)
            logging.getLogger("absl").propagate = propagate
            absl_logging.set_verbosity(verbosity)  # absl's INFO lines after the run (the summary's) stay quiet
        logging.captureWarnings(False)
        for f in self._files.values():
            f.close()
        self._files.clear()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 (a malformed record must not stop the pipeline)
            message = str(record.msg)
        now = time.monotonic()
        if match := _RUNNING.match(message):
            self._current = match.group(1)
            self._started[self._current] = now
            self._cached[self._current] = False
            self._warnings[self._current] = 0
            self._print(f"[ssr-pipeline] {self._current}: running")
        self._write(record)
        if _CACHED.match(message) and self._current:
            self._cached[self._current] = True
        elif match := _FINISHED.match(message):
            component = match.group(1)
            seconds = now - self._started.pop(component, now)
            state = "cached" if self._cached.pop(component, False) else "ran"
            self.timings[component] = (seconds, state)
            warnings = self._warnings.pop(component, 0)
            note = f" ({warnings} warning{'s' * (warnings != 1)} in its log)" if warnings else ""
            self._print(f"[ssr-pipeline] {component}: {'reused from cache' if state == 'cached' else 'done'} "
                        f"in {seconds:.1f} s{note}")
            self._current = None
        elif record.levelno >= logging.ERROR and not self._show_all:
            self._print(f"{record.levelname}: {message.splitlines()[0] if message else ''}"[:300])
        elif record.levelno >= logging.WARNING and self._current:
            self._warnings[self._current] = self._warnings.get(self._current, 0) + 1
        if self._show_all:
            self._print(_FORMAT.format(record))

    def _write(self, record: logging.LogRecord) -> None:
        if not self.log_dir:
            return
        name = self._current or OUTSIDE_COMPONENTS
        if name not in self._files:
            path = os.path.join(self.log_dir, f"{name}.log")
            self._files[name] = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed in uninstall)
            self.log_files[name] = path
        try:
            self._files[name].write(_FORMAT.format(record) + "\n")
            self._files[name].flush()
        except Exception:  # noqa: BLE001 (logging must not stop the pipeline)
            pass

    def _print(self, line: str) -> None:
        stream = self._stream or sys.stderr
        stream.write(line + "\n")
        stream.flush()
