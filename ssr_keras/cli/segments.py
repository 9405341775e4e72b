"""`ssr-segments`: Compressed ELSA's item segments on MovieLens-1M, and whole segments recommended to users.

Each item's dominant active dimension (with its sign) in a top-k sparse item matrix `A` is its segment;
the inverted index of those dimensions groups the catalogue (Vančura et al., WWW'26). The command trains a
compressed ELSA on `positives.csv.gz` (exponential pruning to `--nnz` non-zeros per item, with restarting),
or reads one saved with `--save`, then prints the largest segments with their most typical movies and,
for each `--user`, the best whole segments by `x A B^T`.

Example:

    ssr-segments --data ../shared/data/movielens-1m --factors 1024 --nnz 16 --save runs/ml1m_items.npz \\
        --segments 10 --top 5 --user 1 42
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ssr_keras.cli.launch import add_verbose_flag, run_command

MOVIES_FILE = "movies.dat"
POSITIVES_FILE = "positives.csv.gz"

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssr-segments", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data", required=True, help=f"MovieLens-1M folder with {POSITIVES_FILE} and {MOVIES_FILE}")
    parser.add_argument("--items", help="a saved item matrix (.npz, scipy CSR [items, factors]) instead of training")
    parser.add_argument("--save", help="write the trained item matrix here (.npz)")
    parser.add_argument("--factors", type=int, default=1024, help="width F of the item matrix")
    parser.add_argument("--nnz", type=int, default=16, help="non-zeros kept per item")
    parser.add_argument("--epochs-per-stage", type=int, default=1, help="epochs per halving of the non-zeros")
    parser.add_argument("--final-epochs", type=int, default=3, help="epochs at the final number of non-zeros")
    parser.add_argument("--learning-rate", type=float, default=0.1, help="Nadam learning rate")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and batches")
    parser.add_argument("--segments", type=int, default=10, help="how many of the largest segments to print")
    parser.add_argument("--top", type=int, default=5, help="movies printed per segment")
    parser.add_argument("--user", type=int, nargs="*", default=[], help="MovieLens user ids to recommend segments to")
    add_verbose_flag(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_command("ssr-segments", "ssr_keras.cli.segments_command", build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
