"""Wall-clock of the TFX pipeline per component and in total: a first run and a cached re-run.

Runs `pipeline.pipeline.create_pipeline` on LocalDagRunner over the full frappe-ctr set (`train.csv`
202,026 rows as the train split, `valid.csv` 57,722 rows as the eval split; `test.csv` is not part of
the pipeline), then runs the identical pipeline again. The re-run takes ExampleGen, StatisticsGen,
SchemaGen, Transform and Trainer from the cache. The Evaluator runs again, because its baseline input
changed: on the first run there was no blessed model, now the resolver returns the first model. The
Pusher then sees that this model is already served and does not push it again.

Prints a table and writes `benchmarks/results/pipeline.json`: a list of `{"component", "seconds",
"run": "first"|"cached", "state"}` records, one per component and one `"component": "total"` per run.

    TF_USE_LEGACY_KERAS=1 .venv/bin/python benchmarks/pipeline.py --data ../shared/data/frappe-ctr

Times are wall-clock seconds between TFX's "Component X is running." and "... is finished." log
events (driver, executor and publishing included); the total also includes pipeline compilation.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import shutil
import sys
import tempfile
import time
from typing import Dict, List

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Run as a script, this file's folder comes first on sys.path and its name would shadow the `pipeline`
# package being measured.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

from pipeline.local_run import run_locally  # noqa: E402
from pipeline.pipeline import create_pipeline  # noqa: E402
from pipeline.progress import ComponentProgress  # noqa: E402
from pipeline.run_summary import summarize_last_run  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "pipeline.json"


def run_once(args: argparse.Namespace, output: str) -> tuple:
    """Runs the pipeline once; returns (per-component (seconds, state), total seconds)."""
    start = time.monotonic()
    pipeline = create_pipeline(
        pipeline_name="benchmark", pipeline_root=output, data_root=args.data, layout="frappe",
        serving_model_dir=os.path.join(output, "serving", "benchmark"),
        metadata_path=os.path.join(output, "metadata.sqlite"),
        train_config={"backbone": args.model, "epochs": args.epochs, "batch_size": args.batch_size},
        min_auc=0.5, beam_pipeline_args=args.beam_arg)
    progress = ComponentProgress().install()
    try:
        run_locally(pipeline)
    finally:
        progress.uninstall()
    return dict(progress.timings), time.monotonic() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "frappe-ctr"),
                        help="frappe-ctr folder (train.csv, valid.csv)")
    parser.add_argument("--model", default="ssr-d", choices=("ssr-d", "ssr-s", "dnn", "dcnv2"))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--beam-arg", action="append", default=[], help="extra Beam option, repeatable")
    parser.add_argument("--output", help="pipeline root (default: a fresh temporary folder, removed after)")
    parser.add_argument("--results", default=str(RESULTS))
    args = parser.parse_args(argv)

    output = args.output or tempfile.mkdtemp(prefix="ssr-pipeline-benchmark-")
    if os.path.exists(os.path.join(output, "metadata.sqlite")):
        parser.error(f"--output {output} already holds a run; the first run must start from scratch.")
    records: List[Dict] = []
    try:
        for run in ("first", "cached"):
            timings, total = run_once(args, output)
            for component, (seconds, state) in timings.items():
                records.append({"component": component, "seconds": round(seconds, 2), "run": run,
                                "state": state})
            records.append({"component": "total", "seconds": round(total, 2), "run": run, "state": "-"})
        metrics = summarize_last_run(os.path.join(output, "metadata.sqlite"), "benchmark").metrics
    finally:
        if not args.output:
            shutil.rmtree(output, ignore_errors=True)

    print(f"\nTFX pipeline on {args.data} (train.csv -> train, valid.csv -> eval), model {args.model}, "
          f"{args.epochs} epoch(s), batch {args.batch_size}; {platform.node()}, {os.cpu_count()} CPUs")
    print(f"eval AUC {metrics.get('auc', float('nan')):.4f}, log loss "
          f"{metrics.get('binary_crossentropy', float('nan')):.4f}, examples {metrics.get('example_count', 0):.0f}")
    print(f"{'component':<28}{'first run (s)':>15}{'cached re-run (s)':>20}")
    by_run = {(r["component"], r["run"]): r for r in records}
    for component in dict.fromkeys(r["component"] for r in records):
        first, cached = by_run.get((component, "first")), by_run.get((component, "cached"))
        cached_text = f"{cached['seconds']:.1f} ({cached['state']})" if cached else "-"
        print(f"{component:<28}{first['seconds'] if first else float('nan'):>15.1f}{cached_text:>20}")

    pathlib.Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    with open(args.results, "w", encoding="utf-8") as f:
        json.dump(records, f, indent=2)
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
