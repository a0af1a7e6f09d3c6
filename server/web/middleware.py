"""What every request and socket gets before any route: text checks and page headers.

Pure ASGI (not BaseHTTPMiddleware), so WebSockets and streaming pass through
untouched.
"""

from __future__ import annotations

import json
from typing import Any

Scope = dict[str, Any]
ASGIApp = Any

# Every HTML page unless it sets its own: never framed, its own code only, and
# no URL (which may carry a conversation id) leaked to other sites.
PAGE_HEADERS: dict[bytes, bytes] = {
    b"content-security-policy": b"default-src 'self'; img-src 'self' https: data:; frame-ancestors 'none'; "
    b"base-uri 'none'; form-action 'self'",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"same-origin",
    b"x-content-type-options": b"nosniff",
}


class Hardening:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        # The path arrives decoded; the query still percent-encoded (a raw NUL never parses).
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            # PostgreSQL cannot hold a NUL; refused here rather than as a 500 deep inside.
            await _refuse(scope, send, 400, "invalid_text", "the address holds a NUL character (%00)")
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    headers += [(n, v) for n, v in PAGE_HEADERS.items() if n not in names]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _refuse(scope: Scope, send: Any, status: int, code: str, message: str) -> None:
    body = json.dumps({"code": code, "message": message}).encode()
    start = "http.response.start" if scope["type"] == "http" else "websocket.http.response.start"
    body_type = "http.response.body" if scope["type"] == "http" else "websocket.http.response.body"
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": start, "status": status, "headers": headers})
    await send({"type": body_type, "body": body})
