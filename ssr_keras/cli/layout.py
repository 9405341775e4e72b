"""`ssr-layout`: write and check layout files, so a new CSV needs no code.

    ssr-layout infer clicks/train.csv --label clicked -o clicks.yaml   # propose a layout file, then edit it
    ssr-layout check clicks.yaml --csv clicks/train.csv               # validate it (and a file's header)

`infer` reads a sample of the file and guesses each column's kind and type (see
`ssr_keras.data.layout_inference`); the comments in its output say what to check. The file then goes
wherever a layout name goes: `ssr-train --layout clicks.yaml`, `ssr-pipeline run --layout clicks.yaml`,
`ssr-client --layout clicks.yaml`. Neither command needs TensorFlow.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from typing import Sequence

from ssr_keras.cli.launch import add_verbose_flag, positive_int_argument, run_command
from ssr_keras.data.layout_file import LayoutSpec, load_layout_spec, loads_layout
from ssr_keras.data.layout_inference import SAMPLE_ROWS, infer_layout_file


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssr-layout", description=__doc__.split("\n\n")[0],
                                     epilog="See `ssr-layout infer --help` and `ssr-layout check --help`.")
    commands = parser.add_subparsers(dest="command", required=True)
    infer = commands.add_parser("infer", help="propose a layout file for a CSV file (edit it, then check it)",
                                description="Propose a layout file for a CSV file with a header, from a sample "
                                            "of its rows; comments mark every guess to check.")
    infer.add_argument("csv", help="the CSV file (with a header line)")
    infer.add_argument("--label", help="the label column (default: a column named like label/click/target/rating, "
                                       "else the first 0/1 column)")
    infer.add_argument("--name", help="the layout's name (default: the file's name, or its folder's for train.csv)")
    infer.add_argument("--rows", type=positive_int_argument, default=SAMPLE_ROWS,
                       help=f"rows read to guess from (default: {SAMPLE_ROWS})")
    infer.add_argument("-o", "--output", help="write the layout file here (default: print it)")
    add_verbose_flag(infer, "show the traceback of an error")
    check = commands.add_parser("check", help="validate a layout file (and a CSV file's header against it)",
                                description="Validate a layout file; with --csv, also check that the file's "
                                            "header names the layout's columns in order.")
    check.add_argument("layout", help="the layout file (.yaml, .yml, .json) or a built-in layout's name")
    check.add_argument("--csv", action="append", default=[], help="a CSV file whose header to check (repeatable)")
    add_verbose_flag(check, "show the traceback of an error")
    return parser


def infer_command(args: argparse.Namespace) -> int:
    text = infer_layout_file(args.csv, label=args.label, rows=args.rows, name=args.name)
    spec = loads_layout(text, args.output or "<proposal>")
    if args.output:
        if os.path.exists(args.output):
            raise ValueError(f"{args.output}: exists; remove it or choose another -o (a layout file is edited "
                             "by hand, so infer does not overwrite one)")
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {args.output}: {describe(spec)}; check the lines marked \"check\", then "
              f"`ssr-layout check {args.output}`", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def check_command(args: argparse.Namespace) -> int:
    spec = load_layout_spec(args.layout)
    for path in args.csv:
        _check_header(spec, path)
    matched = f"; the header of {len(args.csv)} file(s) matches" if args.csv else ""
    print(f"{spec.source}: OK: {describe(spec)}{matched}")
    return 0


def describe(spec: LayoutSpec) -> str:
    """One line: the layout's name, columns, fields and label rule."""
    label = spec.label
    rule = (f">= {label.threshold:g}" if label.threshold is not None else
            f"in {list(label.positive_values)}" if label.positive_values is not None else "> 0.5")
    fields = ", ".join(spec.fields[:8]) + (", ..." if len(spec.fields) > 8 else "")
    return (f"layout {spec.name!r}, {len(spec.columns)} columns, {len(spec.fields)} model fields ({fields}), "
            f"label {label.column!r} positive when {rule}")


def _check_header(spec: LayoutSpec, path: str) -> None:
    with open(path, newline="", encoding="utf-8-sig") as f:
        header = [c.strip() for c in next(csv.reader(f), [])]
    columns = [c.name for c in spec.columns]
    if header not in (columns, [c for c in columns if c != spec.label.column]):
        missing = [c for c in columns if c not in header]
        extra = [c for c in header if c not in columns]
        raise ValueError(f"{path}, line 1: the header does not match layout {spec.name!r} ({spec.source}): "
                         f"missing {missing}, unexpected {extra}" + ("" if missing or extra else ", order differs"))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command("ssr-layout", "ssr_keras.cli.layout", args, function=f"{args.command}_command")


if __name__ == "__main__":
    sys.exit(main())
