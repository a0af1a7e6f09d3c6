"""The comparison operators that proactive rules and bot branches share.

Both layers import this module; neither imports the other for it.
"""

from __future__ import annotations

from typing import Any

from server import patterns


def holds(op: str, actual: Any, expected: Any) -> bool:
    """Whether ``actual`` passes ``op`` against ``expected``: texts compare without case,
    numbers as numbers, and a missing value is only "not" anything."""
    if op == "is_set":
        return actual not in (None, "")
    if actual is None:
        return op in ("is_not", "not_contains")
    if op in ("gt", "lt"):
        try:
            a, e = float(actual), float(expected)
        except (TypeError, ValueError):
            return False
        return a > e if op == "gt" else a < e
    if isinstance(actual, bool) or isinstance(expected, bool):
        same = actual == expected
    elif isinstance(actual, int | float) and isinstance(expected, int | float):
        same = float(actual) == float(expected)
    else:
        same = str(actual).casefold() == str(expected).casefold()
    if op == "is":
        return same
    if op == "is_not":
        return not same
    text, wanted = str(actual).casefold(), str(expected).casefold()
    if op == "contains":
        return wanted in text
    if op == "not_contains":
        return wanted not in text
    if op == "starts_with":
        return text.startswith(wanted)
    if op == "matches":
        return patterns.search(str(expected), str(actual))
    raise ValueError(f"unknown operator {op!r}")
