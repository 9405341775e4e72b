"""Dense item content vectors from MovieLens metadata: title tokens, year, genres and user tags.

The vectors feed the semantic-ID quantizer (`ssr_keras.embeddings.semantic_id.ResidualQuantizer`).
They use *content only*: a movie's own title, year and genres, and the free-text tags users attached
to it before `max_timestamp`. No rating enters them, so an item that appears only after a time split
still gets a vector (its content is known when it is listed, which is the point of semantic IDs);
tags are user interactions, so those at or after `max_timestamp` are dropped to keep the future out.

Pipeline (scikit-learn):

1. title words (the title without its "(1995)" suffix): TF-IDF, sublinear tf, L2 rows;
2. tags (lower-cased, one document per movie): TF-IDF, sublinear tf, L2 rows;
3. genres: multi-hot, L2 rows ("(no genres listed)" gives an all-zero row);
4. year: one-hot decade plus a "no year" flag;
5. the four blocks are weighted (`block_weights`), stacked into one sparse matrix and reduced with
   `TruncatedSVD(dim)`; the result is standardised per column (zero mean, unit variance).

Example:

>>> movies = [(1, "Toy Story (1995)", "Adventure|Animation|Children"),
...           (2, "Heat (1995)", "Action|Crime|Thriller"),
...           (3, "Toy Soldiers (1991)", "Action|Drama"),
...           (4, "Untitled", "(no genres listed)")]
>>> tags = [(1, "pixar", 100), (1, "funny", 200), (2, "pacino", 300), (2, "future tag", 10**10)]
>>> content = build_item_content(movies, tags, dim=3, max_timestamp=10**9)
>>> content.item_keys.tolist(), content.vectors.shape
([1, 2, 3, 4], (4, 3))
"""

from __future__ import annotations

import csv
import dataclasses
import os
import re
from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import MultiLabelBinarizer

# "(1995)" or "(2006-2007)" at the end of a MovieLens title.
TITLE_YEAR = re.compile(r"\((\d{4})(?:\s*[-\u2013]\s*\d{0,4})?\)\s*$")
NO_GENRES = "(no genres listed)"
CONTENT_BLOCKS = ("title", "tags", "genres", "year")
DEFAULT_BLOCK_WEIGHTS = {"title": 1.0, "tags": 1.0, "genres": 1.0, "year": 0.5}
# Decades covered by the one-hot year block; earlier/later years go to the first/last bucket.
FIRST_DECADE, LAST_DECADE = 1900, 2020


@dataclasses.dataclass(frozen=True)
class ItemContent:
    """Content vectors of a catalogue.

    Attributes:
        item_keys: int64 `[n]`, the raw item keys (MovieLens `movieId`), in `vectors` row order.
        vectors: float32 `[n, dim]`, one standardised content vector per item.
        explained_variance: fraction of the (weighted, stacked) sparse matrix's variance kept by the SVD.
    """

    item_keys: np.ndarray
    vectors: np.ndarray
    explained_variance: float

    def lookup(self, keys: Sequence[int]) -> np.ndarray:
        """Rows of `vectors` for raw item `keys`; raises ValueError naming the first unknown key."""
        index = {int(k): i for i, k in enumerate(self.item_keys)}
        missing = [k for k in keys if int(k) not in index]
        if missing:
            raise ValueError(f"`keys` must be item keys of this catalogue. Received unknown keys: {missing[:5]}")
        return self.vectors[[index[int(k)] for k in keys]]


def split_title(title: str) -> Tuple[str, int | None]:
    """`"Toy Story (1995)"` -> `("Toy Story", 1995)`; a title without a year gives `(title, None)`.

    >>> split_title("Heat (1995)"), split_title("Untitled")
    (('Heat', 1995), ('Untitled', None))
    """
    match = TITLE_YEAR.search(title)
    if not match:
        return title.strip(), None
    return title[:match.start()].strip(), int(match.group(1))


def _decade_bucket(year: int | None) -> int:
    """Index of `year`'s decade in the one-hot block; the last index means "no year"."""
    num_decades = (LAST_DECADE - FIRST_DECADE) // 10 + 1
    if year is None:
        return num_decades
    return int(np.clip((year - FIRST_DECADE) // 10, 0, num_decades - 1))


def _tfidf(documents: List[str]) -> sp.csr_matrix:
    if not any(doc.strip() for doc in documents):
        return sp.csr_matrix((len(documents), 0), dtype=np.float64)
    vectorizer = TfidfVectorizer(sublinear_tf=True, token_pattern=r"(?u)\b\w+\b", lowercase=True)
    try:
        return vectorizer.fit_transform(documents).tocsr()
    except ValueError:  # only stop-words / no tokens at all
        return sp.csr_matrix((len(documents), 0), dtype=np.float64)


def _l2_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
    norms[norms == 0] = 1.0
    return sp.diags(1.0 / norms) @ matrix


def build_item_content(movies: Iterable[Tuple[int, str, str]], tags: Iterable[Tuple[int, str, int]] = (),
                       dim: int = 64, max_timestamp: int | None = None,
                       block_weights: Mapping[str, float] | None = None, seed: int = 0) -> ItemContent:
    """Builds one dense content vector per movie.

    Args:
        movies: `(movie_id, title, genres)` rows; genres are "A|B|C" or "(no genres listed)".
        tags: `(movie_id, tag, timestamp)` rows; tags of movies absent from `movies` are ignored.
        dim: output width (the SVD rank); must be smaller than the number of movies.
        max_timestamp: if given, only tags with `timestamp < max_timestamp` are used (the split time).
        block_weights: weights of the "title", "tags", "genres" and "year" blocks before the SVD
            (defaults `DEFAULT_BLOCK_WEIGHTS`); 0 drops a block.
        seed: TruncatedSVD's random state.

    Returns:
        `ItemContent` with rows in the order of `movies`.

    Raises:
        ValueError: `dim` not in `[1, n_movies)`, a duplicate movie id, an unknown block name, a
            negative weight, or a non-integer tag timestamp.
    """
    movies = [(int(m), str(t), str(g)) for m, t, g in movies]
    if not movies:
        raise ValueError("`movies` must not be empty. Received: movies=[]")
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not 1 <= dim < len(movies):
        raise ValueError(f"`dim` must be an integer in [1, {len(movies)}) (fewer than the movies). "
                         f"Received: dim={dim!r}")
    keys = np.array([m for m, _, _ in movies], np.int64)
    if len(np.unique(keys)) != len(keys):
        raise ValueError("`movies` must have unique movie ids. Received duplicates: "
                         f"{sorted(k for k in set(keys.tolist()) if (keys == k).sum() > 1)[:5]}")
    weights = dict(DEFAULT_BLOCK_WEIGHTS)
    for name, value in (block_weights or {}).items():
        if name not in CONTENT_BLOCKS:
            raise ValueError(f"`block_weights` keys must be in {CONTENT_BLOCKS}. Received: {name!r}")
        if not value >= 0:
            raise ValueError(f"`block_weights` values must be >= 0. Received: {name}={value!r}")
        weights[name] = float(value)
    row_of = {int(k): i for i, k in enumerate(keys)}

    tag_docs: Dict[int, List[str]] = {}
    for movie_id, tag, timestamp in tags:
        try:
            timestamp = int(timestamp)
        except (TypeError, ValueError) as error:
            raise ValueError(f"tag timestamps must be integer seconds. Received: timestamp={timestamp!r}") from error
        if max_timestamp is not None and timestamp >= max_timestamp:
            continue
        if int(movie_id) in row_of:
            tag_docs.setdefault(int(movie_id), []).append(str(tag).lower())

    titles, years = zip(*(split_title(title) for _, title, _ in movies))
    genre_lists = [[] if g.strip() == NO_GENRES else [x for x in g.split("|") if x] for _, _, g in movies]
    blocks = {
        "title": _tfidf(list(titles)),
        "tags": _tfidf([" ".join(tag_docs.get(int(k), [])) for k in keys]),
        "genres": sp.csr_matrix(MultiLabelBinarizer(sparse_output=False).fit_transform(genre_lists)
                                .astype(np.float64)),
        "year": sp.csr_matrix(np.eye((LAST_DECADE - FIRST_DECADE) // 10 + 2)[[_decade_bucket(y) for y in years]]),
    }
    stacked = sp.hstack([_l2_rows(sp.csr_matrix(blocks[name])) * weights[name]
                         for name in CONTENT_BLOCKS if weights[name] > 0 and blocks[name].shape[1] > 0]).tocsr()
    if dim >= stacked.shape[1]:
        raise ValueError(f"`dim` must be smaller than the {stacked.shape[1]} sparse content columns. "
                         f"Received: dim={dim}")
    svd = TruncatedSVD(n_components=dim, random_state=seed)
    dense = svd.fit_transform(stacked)
    dense = (dense - dense.mean(axis=0)) / np.maximum(dense.std(axis=0), 1e-8)
    return ItemContent(keys, dense.astype(np.float32), float(svd.explained_variance_ratio_.sum()))


def read_movielens_content(data_dir: str | os.PathLike, dim: int = 64, max_timestamp: int | None = None,
                           block_weights: Mapping[str, float] | None = None, seed: int = 0) -> ItemContent:
    """`build_item_content` on `movies.csv` and (if present) `tags.csv` of an ml-latest-small folder.

    Example:

    >>> content = read_movielens_content("../shared/data/movielens-latest-small")  # doctest: +SKIP
    """
    data_dir = os.fspath(data_dir)
    movies_path = os.path.join(data_dir, "movies.csv")
    if not os.path.exists(movies_path):
        raise FileNotFoundError(f"{movies_path} not found: expected an unzipped ml-latest-small folder.")
    with open(movies_path, newline="", encoding="utf-8") as f:
        movies = [(int(r["movieId"]), r["title"], r["genres"]) for r in csv.DictReader(f)]
    tags: List[Tuple[int, str, int]] = []
    tags_path = os.path.join(data_dir, "tags.csv")
    if os.path.exists(tags_path):
        with open(tags_path, newline="", encoding="utf-8") as f:
            tags = [(int(r["movieId"]), r["tag"], r["timestamp"]) for r in csv.DictReader(f)]
    return build_item_content(movies, tags, dim=dim, max_timestamp=max_timestamp, block_weights=block_weights,
                              seed=seed)
