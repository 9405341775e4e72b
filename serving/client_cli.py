"""`ssr-client`: scores CSV rows of a layout against a TF Serving-compatible server.

Each CSV row becomes a `tf.Example` carrying the layout's feature columns typed as TFX's CsvExampleGen
types them (int64 / float / bytes; a blank value is left out; see `ssr_keras.data.raw_examples`), so the
same command works against `ssr-serve` and real TF Serving.
Rows are read and checked by `ssr_keras.data.csv_files` (the label column may be absent); with it
present, the run ends with AUC and log-loss over all rows.

With `--method retrieve` it queries a top-k retriever instead (`ssr_keras.export.retriever`): user ids
(`--user-ids`) or item histories (`--history`, item ids separated by `|`), printing each answer's items,
with their titles when `--titles` names a CSV of `item,title`.

Usage:

    ssr-client --layout frappe --csv ../shared/data/frappe-ctr/test.csv --server 127.0.0.1:8500 \\
        --model-name frappe --method classify --max-rows 2000
    ssr-client --method retrieve --model-name beauty --user-ids 0 7 123
    ssr-client --method retrieve --model-name elsa --history "12|45|7" --titles titles.csv
"""

from __future__ import annotations

import argparse
from typing import List, Sequence

from ssr_keras.cli.launch import add_verbose_flag, layout_argument, layout_help, positive_int_argument, run_command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssr-client", description=__doc__.split("\n\n")[0])
    parser.add_argument("--layout", type=layout_argument, metavar="NAME_OR_FILE",
                        help=layout_help("predict, classify: the data set layout"))
    parser.add_argument("--csv", help="CSV file of raw rows, header optional (predict, classify)")
    parser.add_argument("--server", default="127.0.0.1:8500",
                        help="host:port of the gRPC server (default: 127.0.0.1:8500)")
    parser.add_argument("--model-name", required=True, help="served model name")
    parser.add_argument("--method", choices=["predict", "classify", "retrieve"], default="predict",
                        help="predict / classify CSV rows on a ranker, or retrieve top items from a retriever "
                             "(default: predict)")
    parser.add_argument("--user-ids", type=int, nargs="+", help="retrieve: user ids to ask for")
    parser.add_argument("--history", action="append", default=[],
                        help="retrieve: one user's item ids separated by |, repeatable")
    parser.add_argument("--titles", help="retrieve: CSV with columns item,title to print titles")
    parser.add_argument("--signature", default=None,
                        help="signature key (default: serving_default for predict, classification for classify)")
    parser.add_argument("--batch-size", type=positive_int_argument, default=256,
                        help="examples per request (default: 256)")
    parser.add_argument("--max-rows", type=positive_int_argument, default=None,
                        help="score only the first N rows (default: all)")
    version = parser.add_mutually_exclusive_group()
    version.add_argument("--version", type=int, default=None, help="model version (default: latest)")
    version.add_argument("--version-label", default=None, help="model version label, e.g. stable")
    parser.add_argument("--show", type=int, default=10,
                        help="print the first N rows (retrieve: items per answer; default: 10)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default: 30)")
    add_verbose_flag(parser)
    return parser


def _histories(texts: Sequence[str]) -> List[List[int]]:
    """`["1|5", "7"]` -> `[[1, 5], [7, -1]]` (padded with -1; checked here, before any heavy import)."""
    try:
        lists = [[int(item) for item in text.split("|") if item.strip()] for text in texts]
    except ValueError:
        raise ValueError(f"--history takes item ids separated by |. Received: {list(texts)}") from None
    width = max(map(len, lists))
    return [items + [-1] * (width - len(items)) for items in lists]


def main(argv: Sequence[str] | None = None) -> int:
    return run_command("ssr-client", "serving.client_command", _parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
