"""The work of `ssr-analyze` (its flags: `ssr_keras.cli.analyze`): read kernels, report implicit sparsity."""

from __future__ import annotations

import argparse
import json
import sys

from ssr_keras.analysis import analyze_kernels, load_dense_kernels, plot_implicit_sparsity

# The paper's figures (arXiv 2604.08011), printed beside ours for comparison.
PAPER_NEAR_ZERO = 0.92
PAPER_TOP_SHARE = 0.80


def run(args: argparse.Namespace) -> int:
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
