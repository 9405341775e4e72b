"""Fetching the supported data sets from their official sources.

Frappe and MovieLens are downloaded and turned into the layouts' `train.csv`/`valid.csv`/`test.csv`.
Criteo and Avazu require accepting their terms on the publisher's site first, so `download` only says
where to get them and how to read them.

Example:

>>> from ssr_keras.data.download import download
>>> download("movielens", "data/movielens")  # -> "data/movielens" with train/valid/test.csv  # doctest: +SKIP
'data/movielens'
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import urllib.request
import zipfile

from ssr_keras.data.csv_files import PathLike
from ssr_keras.data.frappe import build_frappe_ctr
from ssr_keras.data.movielens import prepare_movielens

FRAPPE_PAGE = "https://www.baltrunas.info/context-aware/frappe"
FRAPPE_URL = ("https://www.baltrunas.info/_files/archives/be17b7_474755a5e9684a749a012516d04fb456.zip"
              "?dn=Mobile_Frappe.zip")
MOVIELENS_URL = "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"

MANUAL_SOURCES = {
    "criteo": (
        "Criteo display advertising challenge (1 TB click logs: https://ailab.criteo.com/"
        "download-criteo-1tb-click-logs-dataset/; the 7-day Kaggle set: "
        "https://www.kaggle.com/c/criteo-display-ad-challenge/data, also "
        "https://huggingface.co/datasets/criteo/CriteoClickLogs). Accept the terms there, then read the raw "
        "tab-separated, header-less files with the 'criteo' layout and delimiter='\\t', e.g. "
        "build_vocabularies(get_layout('criteo'), 'train.txt', min_count=10, delimiter='\\t')."),
    "avazu": (
        "Avazu CTR prediction (https://www.kaggle.com/c/avazu-ctr-prediction/data). Accept the competition "
        "rules on Kaggle, download train.gz, gunzip it and split it (e.g. by day, from the 'hour' column); "
        "the files have a header and read with the 'avazu' layout as they are."),
}
DATASETS = ("frappe", "movielens", *MANUAL_SOURCES)


def _fetch_zip(url: str, work_dir: str) -> str:
    """Downloads and unzips `url` into `work_dir`; returns the extraction folder."""
    archive = os.path.join(work_dir, "archive.zip")
    print(f"Downloading {url} ...")
    with urllib.request.urlopen(url, timeout=60) as response, open(archive, "wb") as f:
        shutil.copyfileobj(response, f)
    extracted = os.path.join(work_dir, "extracted")
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(extracted)
    return extracted


def find_file(root: str, name: str) -> str:
    """The one file called `name` under `root` (archives nest their folders differently over time)."""
    matches = [os.path.join(d, name) for d, _, files in os.walk(root) if name in files]
    if len(matches) != 1:
        raise FileNotFoundError(f"Expected exactly one {name!r} under {root}, found {matches or 'none'}.")
    return matches[0]


def download(name: str, dest: PathLike, seed: int = 2026) -> str | None:
    """Downloads data set `name` and writes its layout's `train.csv`, `valid.csv`, `test.csv` into `dest`.

    * `frappe`: the raw log from the authors' site (research use only, no redistribution; see the
      archive's README), then `build_frappe_ctr(..., seed=seed)` (2 negatives per log, split 7:2:1).
    * `movielens`: GroupLens' ml-latest-small, then `prepare_movielens(..., split="time")`.
    * `criteo`, `avazu`: printed instructions only (their terms must be accepted by hand); returns None.

    Args:
        name: one of `DATASETS`.
        dest: the output folder.
        seed: the Frappe negative-sampling and split seed.

    Returns:
        `dest` when files were written, None for the manual data sets.
    """
    if name not in DATASETS:
        raise ValueError(f"Unknown data set {name!r}; expected one of {list(DATASETS)}.")
    if name in MANUAL_SOURCES:
        print(MANUAL_SOURCES[name])
        return None
    dest = os.fspath(dest)
    with tempfile.TemporaryDirectory() as work_dir:
        if name == "frappe":
            print(f"Frappe is for research use only; terms: {FRAPPE_PAGE}")
            extracted = _fetch_zip(FRAPPE_URL, work_dir)
            sizes = build_frappe_ctr(find_file(extracted, "frappe.csv"), dest, seed=seed)
        else:
            extracted = _fetch_zip(MOVIELENS_URL, work_dir)
            ratings_dir = os.path.dirname(find_file(extracted, "ratings.csv"))
            sizes = prepare_movielens(ratings_dir, dest, split="time")
    print(f"Wrote {sizes} rows to {dest}")
    return dest


def main(argv: list | None = None) -> None:
    """`python -m ssr_keras.data.download NAME DEST`: fetch a data set for users without `../shared/data`."""

    parser = argparse.ArgumentParser(prog="python -m ssr_keras.data.download", description=main.__doc__)
    parser.add_argument("name", choices=["frappe", "movielens", "criteo", "avazu"])
    parser.add_argument("dest", help="folder to write train.csv, valid.csv and test.csv into")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the Frappe negatives and splits")
    args = parser.parse_args(argv)
    written = download(args.name, args.dest, seed=args.seed)
    if written:
        print(f"wrote {args.name} to {written}")


if __name__ == "__main__":
    main()
