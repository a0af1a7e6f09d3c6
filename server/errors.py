"""Named errors with a stable machine code.

Every refusal the server makes, over HTTP or the socket, is one of these: the
``code`` is part of the public contract (see docs/protocol.md); the message is
for humans and quotes the bad value.
"""

from __future__ import annotations

import math
from typing import Any


class ParleyError(Exception):
    code = "error"
    http_status = 400
    # Over a socket: None keeps the connection open, a number closes it with that code.
    close_code: int | None = None

    def __init__(
        self, message: str, *, code: str | None = None, close_code: int | None = -1, **extra: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if close_code != -1:
            self.close_code = close_code
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}

    def headers(self) -> dict[str, str]:
        """HTTP headers the refusal implies: Retry-After when it says when to retry."""
        retry = self.extra.get("retry_after_s")
        if isinstance(retry, int | float) and not isinstance(retry, bool):
            return {"Retry-After": str(max(1, math.ceil(retry)))}
        return {}


class NotFound(ParleyError):
    code = "not_found"
    http_status = 404


class Forbidden(ParleyError):
    code = "forbidden"
    http_status = 403


class Unauthorized(ParleyError):
    code = "unauthorized"
    http_status = 401
    close_code = 4401


class InvalidInput(ParleyError):
    code = "invalid_input"
    http_status = 422


class LimitExceeded(ParleyError):
    code = "limit_exceeded"
    http_status = 429


class TooLarge(ParleyError):
    code = "body_too_large"
    http_status = 413


class Conflict(ParleyError):
    """The request clashes with what exists (a duplicate contact): the answer names it."""

    code = "conflict"
    http_status = 409
