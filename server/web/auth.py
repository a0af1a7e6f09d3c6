"""Agent and admin sign-in: a signed, HttpOnly session cookie.

JSON endpoints require ``Content-Type: application/json``, which a cross-site
form cannot send without a CORS preflight we never grant; the HTML form on
/login posts same-origin.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from server.accounts.actions import change_password
from server.accounts.models import User
from server.accounts.store import authenticate, user_by_id
from server.errors import InvalidInput, Unauthorized
from server.services import services_of

COOKIE = "parley_session"


async def current_user(conn: HTTPConnection) -> User:
    """The signed-in, still-active user behind a request or socket, or Unauthorized."""
    services = services_of(conn)
    token = conn.cookies.get(COOKIE)
    if not token:
        raise Unauthorized("not signed in", code="not_authenticated")
    claim = services.tokens.read_session_token(token)
    user = await services.db.read(user_by_id, claim.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("not signed in", code="not_authenticated")
    if user.session_version != claim.session_version:
        raise Unauthorized("the session was revoked; sign in again", code="session_revoked")
    return user


def _set_cookie(response: Response, request: Request, user: User) -> None:
    services = services_of(request)
    response.set_cookie(
        COOKIE,
        services.tokens.session_token(user.id, user.session_version),
        max_age=services.settings.session_max_age_s,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def user_json(user: User) -> dict[str, str]:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role}


async def login_api(request: Request) -> Response:
    services = services_of(request)
    body = await _json_body(request, "email", "password")
    user = await services.db.read(authenticate, body["email"], body["password"])
    response = JSONResponse({"user": user_json(user)})
    _set_cookie(response, request, user)
    return response


async def logout_api(request: Request) -> Response:
    response = JSONResponse({"ok": True})
    response.delete_cookie(COOKIE, path="/")
    return response


async def read_json(request: Request) -> Any:
    """The request's JSON body; only ``application/json``, which no cross-site form can send."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise InvalidInput("send JSON with Content-Type: application/json", code="json_required")
    try:
        return await request.json()
    except ValueError:
        raise InvalidInput("the body is not valid JSON", code="bad_json") from None


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
    response = JSONResponse({"user": user_json(user)})
    _set_cookie(response, request, user)
    return response


async def me_api(request: Request) -> Response:
    return JSONResponse({"user": user_json(await current_user(request))})


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Parley</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Sign in to Parley</h1>{error}
<form method="post" action="/login{next}">
<p><label>Email <input name="email" type="email" autocomplete="username" required autofocus></label></p>
<p><label>Password
<input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Sign in</button></p></form></main></body></html>"""


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
        return HTMLResponse(LOGIN_PAGE.format(error="", next=_next_query(request)))
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        return HTMLResponse(
            LOGIN_PAGE.format(error="<p role=alert>Cross-site sign-in refused.</p>", next=""), 403
        )
    services = services_of(request)
    form = await request.form()
    try:
        user = await services.db.read(authenticate, str(form.get("email", "")), str(form.get("password", "")))
    except Unauthorized as exc:
        return HTMLResponse(
            LOGIN_PAGE.format(
                error=f"<p role=alert>{exc.message.capitalize()}.</p>", next=_next_query(request)
            ),
            401,
        )
    response = RedirectResponse(_next_path(request), status_code=303)
    _set_cookie(response, request, user)
    return response
