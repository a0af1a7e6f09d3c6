"""What every request and socket gets before any route: text checks.

Pure ASGI (not BaseHTTPMiddleware), so WebSockets and streaming pass through
untouched.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes

Scope = dict[str, Any]
ASGIApp = Any


class Hardening:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
            # PostgreSQL cannot hold a NUL; refused here rather than as a 500 deep inside.
            await _refuse(scope, send, 400, "invalid_text", "the address holds a NUL character (%00)")
            return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Any, status: int, code: str, message: str) -> None:
    body = json.dumps({"code": code, "message": message}).encode()
    start = "http.response.start" if scope["type"] == "http" else "websocket.http.response.start"
    body_type = "http.response.body" if scope["type"] == "http" else "websocket.http.response.body"
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": start, "status": status, "headers": headers})
    await send({"type": body_type, "body": body})
