"""The work of `ssr-pipeline cluster` (its flags: `pipeline.cli`): a local `dask.distributed` cluster for Beam.

Starts a scheduler and `--workers` worker *processes* (one thread each) on this machine, prints the
scheduler address for `ssr-pipeline run --beam-runner dask --dask-address ADDRESS` (or Beam's own
`--dask_client_address`), and serves until interrupted (Ctrl-C, SIGTERM). The same cluster by hand:
`dask scheduler --port 8786` and `dask worker tcp://127.0.0.1:8786 --nworkers N --nthreads 1`.

Example:

    ssr-pipeline cluster --workers 2 --port 8786
"""

from __future__ import annotations

import argparse
import signal
import threading
import types

from dask.distributed import LocalCluster


def start_cluster(workers: int, port: int = 0, host: str = "127.0.0.1") -> LocalCluster:
    """A running `LocalCluster` of `workers` single-threaded worker processes (port 0: any free port)."""
    if workers < 1:
        raise ValueError(f"--workers must be >= 1. Received: {workers!r}")
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host=host,
                        scheduler_port=port, dashboard_address=None)


def run(args: argparse.Namespace) -> int:
    cluster = start_cluster(args.workers, args.port, args.host)
    stop = threading.Event()

    def _stop(signum: int, frame: types.FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        print(f"dask scheduler {cluster.scheduler_address} with {args.workers} worker process(es); "
              f"stop with Ctrl-C.\n  ssr-pipeline run ... --beam-runner dask --dask-address "
              f"{cluster.scheduler_address}", flush=True)
        stop.wait()
    finally:
        cluster.close()
    return 0
