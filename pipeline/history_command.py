"""The work of `ssr-pipeline history` (its flags: `pipeline.history_cli`): run the GateSID pipeline, print the summary.

Local folders only; output as `ssr-pipeline run`'s (`pipeline.run_command.format_summary`), the component
logs in `<output>/logs/`.
"""

from __future__ import annotations

import argparse
import os

from pipeline.configs import MAX_AUC_DROP, MIN_AUC
from pipeline.history_pipeline import create_history_pipeline
from pipeline.local_run import run_locally
from pipeline.progress import ComponentProgress
from pipeline.run_command import LOG_FOLDER, format_summary
from pipeline.run_summary import summarize_last_run


def run(args: argparse.Namespace) -> int:
    output, data_root = os.path.abspath(args.output), os.path.abspath(args.data)
    if not os.path.isdir(data_root):
        raise ValueError(f"--data {args.data!r} is not a folder.")
    os.makedirs(output, exist_ok=True)
    metadata_path = os.path.join(output, "metadata.sqlite")
    min_auc = MIN_AUC if args.min_auc is None else args.min_auc
    max_auc_drop = MAX_AUC_DROP if args.max_auc_drop is None else args.max_auc_drop
    pipeline = create_history_pipeline(
        pipeline_name=args.model_name, pipeline_root=output, data_root=data_root,
        serving_model_dir=os.path.join(output, "serving", args.model_name), metadata_path=metadata_path,
        mode=args.mode, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        history_length=args.history_length, rq_epochs=args.rq_epochs, seed=args.seed, min_auc=min_auc,
        max_auc_drop=max_auc_drop, beam_pipeline_args=args.beam_arg, enable_cache=not args.no_cache)
    progress = ComponentProgress(show_all=args.verbose, log_dir=os.path.join(output, LOG_FOLDER)).install()
    try:
        run_locally(pipeline)
    finally:
        progress.uninstall()
    print(format_summary(summarize_last_run(metadata_path, args.model_name), progress, min_auc, max_auc_drop))
    return 0
