"""Agent and admin sign-in: a signed, HttpOnly session cookie.

CSRF: every state-changing request signed in by the cookie must carry the
session's token, in the ``X-CSRF-Token`` header (JSON) or a ``csrf`` field
(HTML forms); the token is an HMAC of the session cookie, so it needs no storage
and changes with every new session. JSON endpoints also require
``Content-Type: application/json``, and the /login form checks the Origin.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from typing import Any
from urllib.parse import urlencode

from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from server import untrusted
from server.accounts.access import Access, access_of, token_access
from server.accounts.actions import (
    change_password,
    end_session,
    open_session,
    sign_in_failed,
    sign_in_succeeded,
    use_token,
)
from server.accounts.models import User
from server.accounts.store import (
    authenticate,
    check_throttle,
    session_user,
)
from server.errors import Forbidden, InvalidInput, LimitExceeded, ParleyError, TooLarge, Unauthorized
from server.services import services_of
from server.web.templates import templates

COOKIE = "parley_session"
CSRF_HEADER = "x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def csrf_token(conn: HTTPConnection, session: str | None = None) -> str:
    """The CSRF token of the request's session (or of a session cookie just issued)."""
    secret = services_of(conn).settings.secret_key.encode()
    cookie = session if session is not None else conn.cookies.get(COOKIE, "")
    return hmac.new(secret, ("csrf:" + cookie).encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, given: str | None = None) -> None:
    """Refuse a state-changing request without its session's token (403 csrf_failed)."""
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise Forbidden("cross-site request refused", code="csrf_failed")
    token = given if given is not None else request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(token, csrf_token(request)):
        raise Forbidden(
            "missing or wrong CSRF token: send the X-CSRF-Token header that sign-in returned",
            code="csrf_failed",
        )


async def current_user(conn: HTTPConnection) -> User:
    """The signed-in, still-active user behind a request or socket, or Unauthorized.

    The cookie names its sign-in (``conn.state.session_id``); a signed-out
    session fails here on every process at once, as a revoked one does.
    """
    services = services_of(conn)
    token = conn.cookies.get(COOKIE)
    if not token:
        raise Unauthorized("not signed in", code="not_authenticated")
    claim = services.tokens.read_session_token(token)
    user, live = await services.db.read(session_user, claim.user_id, claim.session_id)
    if user is None or not user.is_active:
        raise Unauthorized("not signed in", code="not_authenticated")
    if user.session_version != claim.session_version or not live:
        raise Unauthorized("the session was revoked; sign in again", code="session_revoked")
    if isinstance(conn, Request) and conn.method in UNSAFE and conn.url.path.startswith("/api/"):
        check_csrf(conn)
    conn.state.session_id = claim.session_id
    return user


def bearer_of(conn: HTTPConnection) -> str | None:
    """The API token a request carries (``Authorization: Bearer …``), if any."""
    scheme, _, given = conn.headers.get("authorization", "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" else None


async def signed_in(conn: HTTPConnection, section: str | None = None, *, tokens: bool = False) -> Access:
    """The signed-in user's access, refused (403 section_forbidden) without the section.

    ``tokens``: the route also takes API tokens (``Authorization: Bearer``), which need
    no CSRF token: the token's scope for the section (read for GET, else write) decides,
    and each use counts against its limit. Elsewhere a token is refused (403
    ``token_not_accepted``) rather than mistaken for a missing cookie."""
    bearer = bearer_of(conn)
    if bearer is not None:
        if not tokens or section is None:
            refused = "this endpoint takes a signed-in session, not an API token"
            raise Forbidden(refused, code="token_not_accepted")
        services = services_of(conn)
        per_minute = services.settings.api_requests_per_minute
        used = await use_token(services.db, bearer, per_minute)
        write = isinstance(conn, Request) and conn.method in UNSAFE
        return token_access(used, section, write)
    user = await current_user(conn)
    access = await services_of(conn).db.read(access_of, user)
    if section is not None:
        access.require(section)
    return access


async def _signed_in_response(request: Request, user: User, response: Response | None = None) -> Response:
    """Sign the user in: a new session, its cookie and, for JSON callers, its CSRF token."""
    services = services_of(request)
    max_age = services.settings.session_max_age_s
    session_id = await open_session(services.db, user.id, max_age)
    session = services.tokens.session_token(user.id, user.session_version, session_id)
    if response is None:
        response = JSONResponse({"user": user_json(user), "csrf_token": csrf_token(request, session)})
    response.set_cookie(
        COOKIE,
        session,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


def user_json(user: User) -> dict[str, str]:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role}


async def sign_in(request: Request, email: str, password: str) -> User:
    """Check the password, behind the throttle: every failure counts, a success clears the account's."""
    services = services_of(request)
    s = services.settings
    ip = request.client.host if request.client else "unknown"
    await services.db.read(
        lambda c: check_throttle(
            c,
            email,
            ip,
            per_email=s.login_failures_per_email,
            per_ip=s.login_failures_per_ip,
            window_s=s.login_window_s,
        )
    )
    try:
        user = await services.db.read(authenticate, email, password)
    except Unauthorized:
        await sign_in_failed(services.db, email, ip, s.login_window_s)
        raise
    await sign_in_succeeded(services.db, email)
    return user


async def login_api(request: Request) -> Response:
    body = await _json_body(request, "email", "password")
    return await _signed_in_response(request, await sign_in(request, body["email"], body["password"]))


async def logout_api(request: Request) -> Response:
    """End this session for good: its cookie fails everywhere and its sockets close (4401)."""
    token = request.cookies.get(COOKIE)
    if token:
        check_csrf(request)
        services = services_of(request)
        try:
            claim = services.tokens.read_session_token(token)
        except Unauthorized:
            pass  # nothing to end
        else:
            await end_session(services.db, services.bus, claim.session_id)
    response = JSONResponse({"ok": True})
    response.delete_cookie(COOKIE, path="/")
    return response


# JSON bodies are settings, flows and messages: a megabyte is far more than any needs.
MAX_JSON_BYTES = 1 << 20


async def read_json(request: Request) -> Any:
    """The request's JSON body; only ``application/json``, which no cross-site form can send.

    Bounded in size (413 body_too_large) and parsed by server.untrusted, so a
    deep, non-finite or unstorable body is a 4xx with its code, never a 500.
    """
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise InvalidInput("send JSON with Content-Type: application/json", code="json_required")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_JSON_BYTES:
        raise TooLarge(f"JSON bodies are limited to {MAX_JSON_BYTES} bytes", limit=MAX_JSON_BYTES)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BYTES:
            raise TooLarge(f"JSON bodies are limited to {MAX_JSON_BYTES} bytes", limit=MAX_JSON_BYTES)
    return untrusted.loads(bytes(body))


async def read_form(request: Request) -> dict[str, str]:
    """An HTML form's fields as text, refused (invalid_text) if one cannot be stored."""
    form = await request.form()
    fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    for key, value in fields.items():
        untrusted.check_text(value, key)
    return fields


async def read_object(request: Request, what: str = "a JSON object") -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidInput(f"send {what}", code="invalid_input")
    return body


async def _json_body(request: Request, *fields: str) -> dict[str, str]:
    body = await read_json(request)
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in fields):
        wanted = ", ".join(f'"{k}": "…"' for k in fields)
        raise InvalidInput(f"send {{{wanted}}}", code="invalid_input")
    return body


async def password_api(request: Request) -> Response:
    services = services_of(request)
    user = await current_user(request)
    body = await _json_body(request, "current_password", "new_password")
    user = await change_password(
        services.db, services.bus, user, body["current_password"], body["new_password"]
    )
    return await _signed_in_response(request, user)


async def me_api(request: Request) -> Response:
    access = await signed_in(request)
    return JSONResponse(
        {"user": user_json(access.user), "csrf_token": csrf_token(request), **access.public()}
    )


def _login(request: Request, *, error: str = "", email: str = "", status: int = 200, **kw: Any) -> Response:
    """The sign-in page; ``error`` is shown above the form, in words a person reads."""
    page = templates.get_template("login.html").render(error=error, email=email, next=_next_query(request))
    return HTMLResponse(page, status, **kw)


def _readable(exc: ParleyError) -> str:
    """A refusal as the sign-in page says it: the throttle in minutes, not seconds."""
    retry = exc.extra.get("retry_after_s")
    if exc.code == "too_many_attempts" and isinstance(retry, int | float):
        minutes = max(1, math.ceil(retry / 60))
        return f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes > 1 else ''}."
    return exc.message[:1].upper() + exc.message[1:] + "."


def _next_path(request: Request) -> str:
    """Where to go after signing in: a path on this server only, never another site."""
    wanted = request.query_params.get("next", "/agent")
    if not wanted.startswith("/") or wanted.startswith("//") or "\\" in wanted:
        return "/agent"
    return wanted


def _next_query(request: Request) -> str:
    return "?" + urlencode({"next": _next_path(request)})


async def login_page(request: Request) -> Response:
    if request.method == "GET":
        return _login(request)
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        return _login(request, error="Cross-site sign-in refused.", status=403)
    form: dict[str, str] = {}
    try:
        form = await read_form(request)
        user = await sign_in(request, form.get("email", ""), form.get("password", ""))
    except (Unauthorized, LimitExceeded, InvalidInput) as exc:
        return _login(
            request,
            error=_readable(exc),
            email=str(form.get("email", ""))[:254],
            status=exc.http_status,
            headers=exc.headers(),
        )
    return await _signed_in_response(request, user, RedirectResponse(_next_path(request), status_code=303))
