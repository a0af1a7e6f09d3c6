"""JSON and text from outside, parsed with bounds and checked for what storage can hold.

Every frame on both sockets and every JSON body over HTTP comes through here,
so three refusals are made once, with stable codes, before any handler sees
the data:

- ``too_deep``: nesting past MAX_DEPTH (Python's parser would raise
  RecursionError, which used to surface as ``internal_error``);
- ``bad_json``: numbers that are not finite (``1e400`` parses as infinity,
  which the server would then echo as ``Infinity``, not JSON);
- ``invalid_text``: a NUL character (PostgreSQL cannot store one) or an
  unpaired surrogate (no UTF-8 encoding exists; JavaScript makes one when it
  slices through an emoji). Refused, not cleaned, so nothing a person wrote is
  silently changed; the message names the field.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from server.errors import InvalidInput

# Deeper than any frame or body Parley defines (a bot flow's conditions nest
# a few levels), far below where Python's parser gives up.
MAX_DEPTH = 64

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large to be finite")
    return value


def _constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def loads(raw: str | bytes) -> Any:
    """Parse untrusted JSON: InvalidInput (bad_json, too_deep, invalid_text) or the value."""
    if isinstance(raw, bytes):
        try:  # strictly: json.loads(bytes) would let encoded surrogates through
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the body is not UTF-8", code="bad_json") from None
    try:
        data = json.loads(raw, parse_float=_finite, parse_constant=_constant)
    except RecursionError:
        raise InvalidInput(f"the JSON nests deeper than {MAX_DEPTH} levels", code="too_deep") from None
    except ValueError as exc:
        problem = str(exc) if "finite" in str(exc) or "JSON number" in str(exc) else "not valid JSON"
        raise InvalidInput(f"the JSON is not accepted: {problem}", code="bad_json") from None
    # The walk is needed only when the text could hold what it looks for: strict
    # UTF-8 has no surrogates and JSON no raw NUL, so unstorable text comes only
    # from \u escapes, and nesting is at most the number of brackets. Most
    # frames skip it after two scans in C.
    if "\\u" in raw or raw.count("[") + raw.count("{") > MAX_DEPTH:
        check(data)
    return data


def check(value: Any) -> None:
    """Refuse nesting past MAX_DEPTH and strings that cannot be stored, naming where."""
    stack: list[tuple[Any, int, str]] = [(value, 0, "")]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, str):
            check_text(item, where)
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise InvalidInput(f"the JSON nests deeper than {MAX_DEPTH} levels", code="too_deep")
            if isinstance(item, dict):
                for key, child in item.items():
                    path = f"{where}.{key}" if where else str(key)
                    check_text(key, path)
                    stack.append((child, depth + 1, path))
            else:
                stack.extend((child, depth + 1, f"{where}[{i}]") for i, child in enumerate(item))


def check_text(text: str, where: str = "") -> None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return
    what = "a NUL character" if found.group() == "\x00" else "an unpaired surrogate (half an emoji?)"
    place = f"{where[:80]!s}" if where else "the text"
    raise InvalidInput(
        f"{place} holds {what} at position {found.start()}, which cannot be stored",
        code="invalid_text",
        field=where[:80] or None,
    )
