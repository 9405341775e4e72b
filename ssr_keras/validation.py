"""Argument checks shared by the whole library: each error names the argument and the value received."""

from __future__ import annotations

import json
import os
from typing import Any, Dict

import numpy as np


def check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def check_non_negative_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}")
    return int(value)


def check_rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0 <= value < 1:
        raise ValueError(f"`{name}` must be a float in [0, 1). Received: {name}={value!r}")
    return float(value)


def check_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not np.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number. Received: {name}={value!r}")
    return float(value)


def read_json_object(value: str, what: str = "a JSON object", allow_file: bool = False) -> Dict[str, Any]:
    """A flag's JSON object, inline (or, with `allow_file`, the path of a JSON file holding one).

    Raises ValueError naming the value and what was expected: invalid JSON, a JSON value that is not an
    object, or (with `allow_file`) a path that does not exist.

    >>> read_json_object('{"levels": 5}')
    {'levels': 5}
    >>> read_json_object("[5]")
    Traceback (most recent call last):
    ...
    ValueError: expected a JSON object, got [5]. Received: '[5]'
    """
    inline = value.lstrip().startswith(("{", "["))
    text = value
    if allow_file and not inline and os.path.isfile(value):
        with open(value, encoding="utf-8") as f:
            text = f.read()
    expected = f"{what} or the path of a .json file" if allow_file else what
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        problem = f"invalid JSON ({error})" if inline or text is not value or not allow_file else "no such file"
        raise ValueError(f"{problem}; expected {expected}. Received: {value!r}") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"expected {what}, got {json.dumps(parsed)}. Received: {value!r}")
    return parsed
