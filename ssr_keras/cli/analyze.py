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
import json
import sys
from typing import Sequence

from ssr_keras.analysis import analyze_kernels, load_dense_kernels, plot_implicit_sparsity

# The paper's figures (arXiv 2604.08011), printed beside ours for comparison.
PAPER_NEAR_ZERO = 0.92
PAPER_TOP_SHARE = 0.80


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1), got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssr-analyze", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", required=True,
                        help="SavedModel directory, TF checkpoint prefix or Keras .h5 weights file")
    parser.add_argument("--threshold", type=_fraction, default=0.01,
                        help="near zero: |w| below this fraction of the layer's max |w|")
    parser.add_argument("--top-fraction", type=_fraction, default=0.04,
                        help="fraction of input dimensions whose squared-weight share is reported")
    parser.add_argument("--plot", default=None, help="write a histogram PNG here")
    parser.add_argument("--json", default=None, help="write the report JSON here (default: stdout)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    kernels = load_dense_kernels(args.model)
    if not kernels:
        print(f"ssr-analyze: no dense kernels found in {args.model}", file=sys.stderr)
        return 1
    report = analyze_kernels(kernels, args.threshold, args.top_fraction)
    result = dict(report.to_json(), model=args.model,
                  paper={"near_zero_fraction": PAPER_NEAR_ZERO, "top_input_mass_share": PAPER_TOP_SHARE})
    if args.plot:
        plot_implicit_sparsity(kernels, report, args.plot)
        result["plot"] = args.plot

    print(f"{'kernel':72s} {'shape':>12s} {'near-zero':>10s} {'top-share':>10s}", file=sys.stderr)
    for k in report.kernels:
        print(f"{k.name[-72:]:72s} {'x'.join(map(str, k.shape)):>12s} {k.near_zero_fraction:10.1%} "
              f"{k.top_input_mass_share:10.1%}", file=sys.stderr)
    print(f"all kernels: {report.near_zero_fraction:.1%} of weights below {args.threshold:g} x max|w| "
          f"(paper: >{PAPER_NEAR_ZERO:.0%}); top {args.top_fraction:.0%} of input dims hold "
          f"{report.top_input_mass_share:.1%} of squared-weight mass (paper: {PAPER_TOP_SHARE:.0%})",
          file=sys.stderr)
    text = json.dumps(result, indent=2)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
