"""`ssr-analyze`: implicit connection sparsity of a trained model's dense kernels.

Reads the kernels straight from a SavedModel (as written by `ssr-train`), a TF checkpoint or a Keras
`.h5` weights file, embedding tables excluded, and reports the fraction of near-zero weights and the
share of squared-weight mass in the top input dimensions (see `ssr_keras.analysis`).

Example:

    ssr-analyze --model runs/dnn/serving/frappe-dnn/1 --plot runs/dnn/sparsity.png \\
        --json runs/dnn/sparsity.json
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ssr_keras.cli.launch import add_verbose_flag, run_command


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1), got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssr-analyze", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True,
                        help="SavedModel directory, TF checkpoint prefix or Keras .h5 weights file")
    parser.add_argument("--threshold", type=_fraction, default=0.01,
                        help="near zero: |w| below this fraction of the layer's max |w| (default: 0.01)")
    parser.add_argument("--top-fraction", type=_fraction, default=0.04,
                        help="fraction of input dimensions whose squared-weight share is reported (default: 0.04)")
    parser.add_argument("--plot", default=None, help="write a histogram PNG here (default: no plot)")
    parser.add_argument("--json", default=None, help="write the report JSON here (default: stdout)")
    add_verbose_flag(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_command("ssr-analyze", "ssr_keras.cli.analyze_command", build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
