"""A TensorFlow training cluster of local processes: one `TF_CONFIG` per process, free ports on 127.0.0.1.

What the distributed tests and `benchmarks/scale_out.py` start, and the recipe for trying a strategy
on one machine: every task runs the same command (e.g. `ssr-train ... --strategy parameter-server`)
with its own `TF_CONFIG`. `LocalTfCluster.wait` never hangs: it returns when the training tasks have
finished, and raises `ClusterTaskFailed` (naming the task, its exit status and the end of its log) as
soon as any task dies, or when the deadline passes; every process is killed on the way out.

Example:

>>> cluster = LocalTfCluster({"worker": 2}, ["ssr-train", "--data", "...", "--strategy", "multi-worker"])
>>> sorted(cluster.tf_config("worker", 1)["cluster"])
['worker']
>>> cluster.tf_config("worker", 1)["task"]
{'type': 'worker', 'index': 1}
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from typing import Dict, List, Mapping, Sequence, Tuple

# Tasks that run the training program to its end; the others ("worker"/"ps" under parameter servers)
# serve until they are killed.
_TRAINING_TASK_TYPES_WITH_CHIEF = ("chief",)
_LOG_TAIL_CHARS = 3000


class ClusterTaskFailed(RuntimeError):
    """A task of a `LocalTfCluster` exited with an error or was killed, or the run passed its deadline."""


def free_ports(count: int) -> List[int]:
    """`count` distinct TCP ports free on 127.0.0.1 right now."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class LocalTfCluster:
    """Processes on 127.0.0.1 running `command`, one per task, each with its `TF_CONFIG`.

    Args:
        tasks: task type -> number of tasks, e.g. {"worker": 2} (multi-worker) or
            {"chief": 1, "worker": 2, "ps": 1} (parameter servers).
        command: the argv every task runs.
        env: extra environment variables for every task.
        log_dir: where each task's combined stdout/stderr goes (`<type>-<index>.log`; default: a new
            temporary folder).
    """

    def __init__(self, tasks: Mapping[str, int], command: Sequence[str], env: Mapping[str, str] | None = None,
                 log_dir: str | None = None):
        if not tasks or any(not isinstance(n, int) or n < 1 for n in tasks.values()):
            raise ValueError(f"tasks must map task types to counts >= 1. Received: {dict(tasks)!r}")
        ports = iter(free_ports(sum(tasks.values())))
        self.cluster: Dict[str, List[str]] = {
            task_type: [f"127.0.0.1:{next(ports)}" for _ in range(n)] for task_type, n in tasks.items()}
        self.command = list(command)
        self.env = dict(env or {})
        self.log_dir = log_dir or tempfile.mkdtemp(prefix="ssr-tf-cluster-")
        self.processes: Dict[Tuple[str, int], subprocess.Popen] = {}

    def tf_config(self, task_type: str, index: int) -> Dict[str, object]:
        """The `TF_CONFIG` of one task."""
        return {"cluster": self.cluster, "task": {"type": task_type, "index": index}}

    def log_path(self, task_type: str, index: int) -> str:
        return os.path.join(self.log_dir, f"{task_type}-{index}.log")

    def start(self) -> LocalTfCluster:
        """Starts every task (servers first, so that the training tasks find them)."""
        order = sorted(self.cluster, key=lambda t: t in self._training_types())
        for task_type in order:
            for index in range(len(self.cluster[task_type])):
                env = {**os.environ, **self.env, "TF_CONFIG": json.dumps(self.tf_config(task_type, index))}
                with open(self.log_path(task_type, index), "wb") as log:
                    self.processes[(task_type, index)] = subprocess.Popen(
                        self.command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def _training_types(self) -> Tuple[str, ...]:
        return _TRAINING_TASK_TYPES_WITH_CHIEF if "ps" in self.cluster else tuple(self.cluster)

    def log_tail(self, task_type: str, index: int) -> str:
        try:
            with open(self.log_path(task_type, index), encoding="utf-8", errors="replace") as f:
                return f.read()[-_LOG_TAIL_CHARS:]
        except OSError:
            return ""

    def wait(self, timeout: float) -> None:
        """Waits for the training tasks to finish; then stops the servers.

        Raises:
            ClusterTaskFailed: a task exited non-zero or was killed (at once, not at the deadline), or
                `timeout` seconds passed.
        """
        deadline = time.monotonic() + timeout
        training = [key for key in self.processes if key[0] in self._training_types()]
        try:
            while True:
                for (task_type, index), process in self.processes.items():
                    code = process.poll()
                    if code is not None and code != 0:
                        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
                        raise ClusterTaskFailed(
                            f"task {task_type}-{index} (pid {process.pid}) {how}; the cluster was stopped. "
                            f"End of its log ({self.log_path(task_type, index)}):\n{self.log_tail(task_type, index)}")
                if all(self.processes[key].poll() == 0 for key in training):
                    return
                if time.monotonic() > deadline:
                    running = [f"{t}-{i}" for (t, i), p in self.processes.items() if p.poll() is None]
                    raise ClusterTaskFailed(f"the cluster did not finish within {timeout:g} s (still running: "
                                            f"{running}); it was stopped. Logs: {self.log_dir}")
                time.sleep(0.2)
        finally:
            self.stop()

    def kill(self, task_type: str, index: int) -> None:
        """Kills one task (SIGKILL), as a crashed machine would."""
        process = self.processes[(task_type, index)]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)

    def stop(self) -> None:
        """Kills every task still running and reaps them."""
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for process in self.processes.values():
            process.wait()

    def __enter__(self) -> LocalTfCluster:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
