"""`CodebookAssignment`: which codebook rows every user and item uses (the output of every codebook method).

Users have up to two codes (BACO's secondary user cluster), items one. Codes index two separate tables: a
user codebook of `num_user_codes` rows and an item codebook of `num_item_codes` rows, so the compressed model
holds `num_rows = num_user_codes + num_item_codes` embedding rows instead of `num_users + num_items`.

Example:

>>> import numpy as np
>>> a = CodebookAssignment("random-hash", np.array([[0, -1], [1, 0], [1, -1]]), np.array([0, 0]))
>>> a.num_rows, a.num_user_codes, a.num_item_codes, round(a.row_fraction, 3)
(3, 2, 1, 0.6)
>>> CodebookAssignment.from_json(a.to_json()).user_codes.tolist()
[[0, -1], [1, 0], [1, -1]]
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, List

import numpy as np

NO_CODE = -1


def _check_codes(name: str, codes: np.ndarray, size: int) -> None:
    if codes.size and (codes.min() < 0 or codes.max() >= size):
        raise ValueError(f"`{name}` must hold codes in [0, {size}). Received: codes in "
                         f"[{codes.min()}, {codes.max()}]")


@dataclasses.dataclass
class CodebookAssignment:
    """Users' and items' codebook rows.

    Args:
        method: the method that produced it ("baco", "random-hash", "frequency-hash", "louvain", ...).
        user_codes: int64 `[num_users, 2]`: primary code, secondary code or -1 (`NO_CODE`).
            A 1-D array is read as primary codes only.
        item_codes: int64 `[num_items]`.
        num_user_codes: rows of the user codebook; defaults to `max(user_codes) + 1`.
        num_item_codes: rows of the item codebook; defaults to `max(item_codes) + 1`.
        objective: the clustering objective at the start and after each sweep (empty for hashing).
        params: the method's arguments and diagnostics (JSON-friendly).
    """

    method: str
    user_codes: np.ndarray
    item_codes: np.ndarray
    num_user_codes: int | None = None
    num_item_codes: int | None = None
    objective: List[float] = dataclasses.field(default_factory=list)
    params: Dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        users = np.asarray(self.user_codes, dtype=np.int64)
        if users.ndim == 1:
            users = np.stack([users, np.full_like(users, NO_CODE)], axis=1)
        if users.ndim != 2 or users.shape[1] != 2 or users.shape[0] == 0:
            raise ValueError(f"`user_codes` must be [num_users >= 1, 2]. Received: shape {users.shape}")
        items = np.asarray(self.item_codes, dtype=np.int64)
        if items.ndim != 1 or items.size == 0:
            raise ValueError(f"`item_codes` must be [num_items >= 1]. Received: shape {items.shape}")
        self.user_codes, self.item_codes = users, items
        if self.num_user_codes is None:
            self.num_user_codes = int(users.max()) + 1
        if self.num_item_codes is None:
            self.num_item_codes = int(items.max()) + 1
        self.num_user_codes, self.num_item_codes = int(self.num_user_codes), int(self.num_item_codes)
        _check_codes("user_codes[:, 0]", users[:, 0], self.num_user_codes)
        secondary = users[:, 1]
        has = secondary != NO_CODE
        _check_codes("user_codes[:, 1]", secondary[has], self.num_user_codes)
        if np.any(secondary[has] == users[has, 0]):
            raise ValueError("`user_codes`: a secondary code must differ from the primary code. Received: "
                             f"{int(np.sum(secondary[has] == users[has, 0]))} users with equal codes")
        _check_codes("item_codes", items, self.num_item_codes)
        self.objective = [float(v) for v in self.objective]

    @property
    def num_users(self) -> int:
        return int(self.user_codes.shape[0])

    @property
    def num_items(self) -> int:
        return int(self.item_codes.shape[0])

    @property
    def num_rows(self) -> int:
        """Embedding rows of both codebooks."""
        return self.num_user_codes + self.num_item_codes

    @property
    def row_fraction(self) -> float:
        """`num_rows / (num_users + num_items)`."""
        return self.num_rows / (self.num_users + self.num_items)

    @property
    def num_secondary(self) -> int:
        """Users with a secondary code."""
        return int(np.sum(self.user_codes[:, 1] != NO_CODE))

    def codes(self, side: str) -> np.ndarray:
        """`[n, 2]` codes of "user" or "item" (items' second column is all -1)."""
        if side == "user":
            return self.user_codes
        if side == "item":
            return np.stack([self.item_codes, np.full_like(self.item_codes, NO_CODE)], axis=1)
        raise ValueError(f"`side` must be 'user' or 'item'. Received: side={side!r}")

    def num_codes(self, side: str) -> int:
        """Codebook rows of "user" or "item"."""
        if side not in ("user", "item"):
            raise ValueError(f"`side` must be 'user' or 'item'. Received: side={side!r}")
        return self.num_user_codes if side == "user" else self.num_item_codes

    def summary(self) -> Dict[str, Any]:
        """Sizes and diagnostics, JSON-friendly (no per-id arrays)."""
        return {"method": self.method, "num_users": self.num_users, "num_items": self.num_items,
                "num_user_codes": self.num_user_codes, "num_item_codes": self.num_item_codes,
                "num_rows": self.num_rows, "row_fraction": self.row_fraction,
                "num_secondary": self.num_secondary, "objective": self.objective, "params": self.params}

    def to_dict(self) -> Dict[str, Any]:
        return {"method": self.method, "user_codes": self.user_codes.tolist(),
                "item_codes": self.item_codes.tolist(), "num_user_codes": self.num_user_codes,
                "num_item_codes": self.num_item_codes, "objective": self.objective, "params": self.params}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> CodebookAssignment:
        return cls(**json.loads(text))

    def save_npz(self, path) -> None:
        """Writes the codes and sizes to a compressed `.npz` (params and objective as JSON)."""
        np.savez_compressed(path, user_codes=self.user_codes, item_codes=self.item_codes,
                            sizes=np.array([self.num_user_codes, self.num_item_codes], np.int64),
                            meta=np.array(json.dumps({"method": self.method, "objective": self.objective,
                                                      "params": self.params})))

    @classmethod
    def load_npz(cls, path) -> CodebookAssignment:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            return cls(meta["method"], data["user_codes"], data["item_codes"], int(data["sizes"][0]),
                       int(data["sizes"][1]), meta["objective"], meta["params"])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CodebookAssignment):
            return NotImplemented
        return (self.method == other.method and np.array_equal(self.user_codes, other.user_codes)
                and np.array_equal(self.item_codes, other.item_codes)
                and self.num_user_codes == other.num_user_codes and self.num_item_codes == other.num_item_codes)
