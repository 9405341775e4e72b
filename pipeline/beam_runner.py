"""Beam on a `dask.distributed` cluster: the runner option set for `ssr-pipeline run --beam-runner dask`.

Beam 2.60 ships `apache_beam.runners.dask.dask_runner.DaskRunner`, but as shipped it cannot be
chosen through pipeline options, which is the only way TFX components take a runner:

* it hands *every* non-default pipeline option (`runner`, `direct_num_workers`, ...) to
  `distributed.Client(**options)`, which rejects them (`ValueError: Unexpected keyword arguments:
  ['runner']`; the leak is apache/beam#23838);
* its `wait_until_finish` calls `client.wait_for_workers(timeout=...)` without `n_workers`, which
  `distributed` >= 2023.10 requires (`TypeError: Client.wait_for_workers() missing 1 required
  positional argument: 'n_workers'`; dask/distributed#8192 removed the default).

`DaskRunner` below fixes exactly these two plumbing bugs and nothing else: every transform is still
translated by Beam's own Dask translation. That translation covers Create, ParDo/Map (calling
`DoFn.process` only), GroupByKey and Flatten; it has no `Read` translation, no side inputs, no
`DoFn.setup`/`start_bundle`/`finish_bundle` and no tagged outputs (see BUILD.md, "Beam on a Dask
cluster", for the TFX components this rules out and the errors they fail with).

Example:

>>> beam_args("dask", dask_address="127.0.0.1:8786")
['--runner=pipeline.beam_runner.DaskRunner', '--dask_client_address=127.0.0.1:8786']
>>> beam_args("direct")
[]
"""

from __future__ import annotations

import argparse
from typing import Any, Dict, List

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.dask import dask_runner
from apache_beam.runners.runner import PipelineState

# `--beam-runner` choices: Beam's in-process DirectRunner (the default) or a dask.distributed cluster.
BEAM_RUNNERS = ("direct", "dask")
# The fully qualified runner name Beam imports (a short name must be one of Beam's own runners).
DASK_RUNNER = f"{__name__}.DaskRunner"
# Why each Beam component of the pipeline cannot run on Beam 2.60's Dask translation (found by running
# each one on a 2-process cluster; tests/pipeline/test_dask_runner.py pins the Beam-level causes).
DASK_UNSUPPORTED: Dict[str, str] = {
    "LayoutCsvExampleGen": "its CSV-reading DoFn is never set up (the Dask ParDo calls DoFn.process only, not "
                           "DoFn.setup), and its WriteToTFRecord sink opens its writer in start_bundle, never "
                           "called either",
    "StatisticsGen": "it reads the examples through a beam.io.Read source (tfx_bsl TFXIO), which has no Dask "
                     "translation: the next transform gets no input",
    "Transform": "its Beam graph holds a Flatten of a single PCollection, which the Dask Flatten override "
                 "cannot expand (TypeError: 'PCollection' object is not iterable, before any data moves); "
                 "past that it reads through a beam.io.Read source, and TFT hands analyzer results to the "
                 "transform step as side inputs, which the Dask ParDo passes on as unresolved placeholders",
    "Evaluator": "it reads the examples through a beam.io.Read source and writes its results through file "
                 "sinks (start_bundle), neither of which the Dask translation supports",
}


def dask_option_flags(options: PipelineOptions) -> List[str]:
    """The options of `options` that `DaskOptions` defines, as flags (`--dask_client_address=...`)."""
    parser = argparse.ArgumentParser(add_help=False)
    dask_runner.DaskOptions._add_argparse_args(parser)  # noqa: SLF001 (how Beam lists an options class)
    flag_by_dest = {action.dest: action.option_strings[0] for action in parser._actions}  # noqa: SLF001
    values = options.view_as(dask_runner.DaskOptions).get_all_options(drop_default=True)
    return [f"{flag_by_dest[dest]}={value}" for dest, value in values.items() if dest in flag_by_dest]


class DaskResult(dask_runner.DaskRunnerResult):
    """Beam's Dask result, waiting on the job's futures only (not on `wait_for_workers`)."""

    def wait_until_finish(self, duration: float | None = None) -> str:
        try:
            self.client.gather(self.futures, errors="raise")
            self._state = PipelineState.DONE
        except BaseException:
            self._state = PipelineState.FAILED
            raise
        finally:
            self.client.close()
        return self._state


class DaskRunner(dask_runner.DaskRunner):
    """Beam 2.60's `DaskRunner`, given only its own options and waiting on its futures (module docstring)."""

    def run_pipeline(self, pipeline: Any, options: PipelineOptions) -> DaskResult:
        result = super().run_pipeline(pipeline, PipelineOptions(dask_option_flags(options)))
        return DaskResult(result.client, result.futures)


def beam_args(runner: str, dask_address: str | None = None) -> List[str]:
    """The Beam options that select `runner` (`BEAM_RUNNERS`); `--beam-arg`s are added after them.

    Args:
        runner: "direct" (no options: the pipeline's DirectRunner defaults) or "dask".
        dask_address: with "dask", the scheduler as HOST:PORT or tcp://HOST:PORT (`ssr-pipeline cluster`
            prints it); required.
    """
    if runner not in BEAM_RUNNERS:
        raise ValueError(f"--beam-runner must be one of {list(BEAM_RUNNERS)}. Received: {runner!r}")
    if runner == "direct":
        if dask_address:
            raise ValueError(f"--dask-address is for --beam-runner dask only. Received: {dask_address!r}")
        return []
    if not dask_address:
        raise ValueError("--beam-runner dask needs --dask-address HOST:PORT (the scheduler; start one with "
                         "`ssr-pipeline cluster`).")
    return [f"--runner={DASK_RUNNER}", f"--dask_client_address={dask_address}"]


def check_dask_pipeline() -> None:
    """Refuses `--beam-runner dask` for this pipeline, with each Beam component's reason (`DASK_UNSUPPORTED`).

    The plain pass-through still tries it: `--beam-arg=--runner=pipeline.beam_runner.DaskRunner
    --beam-arg=--dask_client_address=HOST:PORT`.
    """
    if DASK_UNSUPPORTED:
        reasons = "; ".join(f"{component}: {reason}" for component, reason in DASK_UNSUPPORTED.items())
        raise ValueError(f"--beam-runner dask: Beam 2.60's Dask runner cannot run this pipeline's Beam components "
                         f"({reasons}). See BUILD.md, 'Beam on a Dask cluster'; the components run on the "
                         f"DirectRunner without --beam-runner.")

