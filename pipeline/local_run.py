"""Runs a TFX pipeline in this process (`LocalDagRunner`) without handing it our command line.

TFX's Beam executors parse `sys.argv + beam_pipeline_args` with absl flags (`BaseBeamExecutor.__init__`),
so our own, already parsed flags reach absl: `ssr-pipeline run ... -v` made absl read `-v` as its
`--verbosity` and the next argument (`--direct_running_mode=in_memory`) as its value, and the Transform
failed with `IllegalFlagValueError`. During the run `sys.argv` is the program name only.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Iterator

from tfx import v1 as tfx


@contextlib.contextmanager
def program_name_only_argv() -> Iterator[None]:
    """`sys.argv` is `[sys.argv[0]]` inside the block, and restored after it."""
    saved = sys.argv
    sys.argv = saved[:1]
    try:
        yield
    finally:
        sys.argv = saved


def run_locally(pipeline: tfx.dsl.Pipeline) -> None:
    """`LocalDagRunner().run(pipeline)` with our flags kept from absl (see the module docstring)."""
    with program_name_only_argv():
        tfx.orchestration.LocalDagRunner().run(pipeline)
