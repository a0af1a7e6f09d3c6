"""Regular expressions that admins write (the ``matches`` operator), run in linear time.

Python's ``re`` backtracks: ``^(a+)+$`` against 28 a's and a ``!`` held the
event loop for seconds, and each extra character doubled it, so one
published rule froze every socket of the process. RE2 never backtracks: its
time grows with the input's length, whatever the pattern. What RE2 cannot
run (backreferences such as ``\\1``, lookarounds such as ``(?=…)``) is
refused when the rule is saved, with the reason; the input a pattern sees is
bounded too.
"""

from __future__ import annotations

import functools
from typing import Any

import re2

# Page titles are at most 512 characters and URLs 2,048; nothing longer is matched.
MAX_INPUT = 4096
MAX_PATTERN = 500


class PatternError(ValueError):
    """A pattern RE2 cannot run; the message says why, for the admin."""


def _options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # refusals are ours to report, not the C library's
    options.max_mem = 1 << 22
    return options


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Any:
    if len(pattern) > MAX_PATTERN:
        raise PatternError(f"patterns are limited to {MAX_PATTERN} characters")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        detail = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        raise PatternError(
            f"{detail}; patterns run on RE2, which has no backreferences (\\1) or lookarounds ((?=…), (?!…))"
        ) from None


def search(pattern: str, text: str) -> bool:
    """Whether the pattern occurs in the text (case-insensitive); False for a refused pattern."""
    try:
        compiled = compile_pattern(pattern)
    except PatternError:
        return False
    return compiled.search(text[:MAX_INPUT]) is not None
