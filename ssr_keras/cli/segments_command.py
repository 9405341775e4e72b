"""The work of `ssr-segments` (its flags: `ssr_keras.cli.segments`): train or read the item matrix, print segments."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Dict

import numpy as np
import scipy.sparse as sp
import tf_keras as keras

from ssr_keras.cli.segments import MOVIES_FILE, POSITIVES_FILE
from ssr_keras.data.interactions import read_movielens_positives
from ssr_keras.models.retrieval.elsa import ELSA, InteractionBatches
from ssr_keras.models.retrieval.segments import item_segments, largest_segments, recommend_segments
from ssr_keras.training.pruning import PruningSchedule, TopKPruning


def read_titles(path: str) -> Dict[int, str]:
    """`movies.dat` (`id::title::genres`, Latin-1) -> `{movie id: title}`."""
    with open(path, encoding="latin-1") as f:
        return {int(line.split("::")[0]): line.split("::")[1] for line in f if line.strip()}


def train_item_matrix(interactions: sp.csr_matrix, args: argparse.Namespace) -> sp.csr_matrix:
    """A compressed ELSA trained on `interactions`: the top-k CSR item matrix."""
    keras.utils.set_random_seed(args.seed)
    schedule = PruningSchedule("exponential", factors=args.factors, target=args.nnz,
                               epochs_per_stage=args.epochs_per_stage,
                               num_stages=max(1, round(np.log2(args.factors / args.nnz)) - 1),
                               final_epochs=args.final_epochs)
    model = ELSA(num_items=interactions.shape[1], factors=args.factors)
    model.compile(optimizer=keras.optimizers.Nadam(args.learning_rate))
    model.fit(InteractionBatches(interactions, seed=args.seed), epochs=schedule.num_epochs, verbose=2,
              callbacks=[TopKPruning(model.items, schedule, restart=True)])
    return model.items.to_csr()


def run(args: argparse.Namespace) -> int:
    try:
        data, maps = read_movielens_positives(os.path.join(args.data, POSITIVES_FILE))
        titles = read_titles(os.path.join(args.data, MOVIES_FILE))
        items = sp.load_npz(args.items).tocsr() if args.items else None
    except (OSError, ValueError) as error:
        print(f"ssr-segments: error: {error}", file=sys.stderr)
        return 2
    interactions = (data.train + data.valid + data.test).tocsr()
    if items is not None and items.shape[0] != interactions.shape[1]:
        print(f"ssr-segments: error: --items has {items.shape[0]} rows; MovieLens-1M has {interactions.shape[1]} "
              "items.", file=sys.stderr)
        return 2
    if items is None:
        items = train_item_matrix(interactions, args)
        if args.save:
            sp.save_npz(args.save, items)
    movie_of = {index: movie for movie, index in maps["item"].items()}
    user_index = maps["user"]

    def title(item: int) -> str:
        return titles.get(int(movie_of[item]), f"movie {movie_of[item]}")

    segments = item_segments(items)
    print(f"{len(segments.sizes)} segments over {items.shape[0]} movies ({items.nnz / items.shape[0]:.0f} "
          f"non-zeros per movie, {items.shape[1]} dimensions); the {args.segments} largest:")
    for entry in largest_segments(segments, args.segments, args.top):
        sign = "+" if entry["sign"] > 0 else "-"
        print(f"  segment {entry['segment']:>5} (dimension {sign}{entry['dimension']}, {entry['size']} movies): "
              + "; ".join(title(i) for i in entry["top_items"]))
    for user in args.user:
        if user not in user_index:
            print(f"ssr-segments: error: --user {user} is not a MovieLens-1M user id.", file=sys.stderr)
            return 2
        row = interactions[user_index[user]]
        print(f"user {user} ({row.nnz} movies), best segments:")
        for entry in recommend_segments(row, items, segments, k=3, top_n=args.top)[0]:
            listed = "; ".join(title(i) for i in entry["top_items"]) or "(the user has seen them all)"
            print(f"  segment {entry['segment']:>5} score {entry['score']:.3f}: {listed}")
    return 0
