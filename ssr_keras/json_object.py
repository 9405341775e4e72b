"""A flag's JSON object: one reader and one error wording for every CLI (no numpy, no TensorFlow: the CLIs
parse their flags before anything heavy loads)."""

from __future__ import annotations

import json
import os
from typing import Any, Dict


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
    as_path = allow_file and not value.lstrip().startswith(("{", "["))
    from_file = as_path and os.path.isfile(value)
    text = value
    if from_file:
        with open(value, encoding="utf-8") as f:
            text = f.read()
    expected = f"{what} or the path of a .json file" if allow_file else what
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        problem = "no such file" if as_path and not from_file else f"invalid JSON ({error})"
        raise ValueError(f"{problem}; expected {expected}. Received: {value!r}") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"expected {what}, got {json.dumps(parsed)}. Received: {value!r}")
    return parsed
