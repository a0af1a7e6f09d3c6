"""Paged conversation history over HTTP: what a client fetches after resync_required.

Visitors authenticate with their token (``Authorization: Bearer …`` and the
site key in ``?site=``); agents with their session cookie. Pages go backwards
from the newest event (``?before=SEQ``) or forwards from a cursor (``?after=SEQ``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.conversations import queries
from server.errors import InvalidInput, NotFound, Unauthorized
from server.realtime.hub import AGENTS_ONLY
from server.services import Services, services_of
from server.sites.models import Site
from server.sites.origins import origin_allowed
from server.web.auth import signed_in

DEFAULT_PAGE = 50


def _int_param(request: Request, name: str, default: int | None, *, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name}={raw!r} is not a whole number", code="invalid_parameter") from None
    if not low <= value <= high:
        raise InvalidInput(f"{name}={value} must be between {low} and {high}", code="invalid_parameter")
    return value


async def _page(
    services: Services, request: Request, conversation: dict[str, Any], *, visitor: bool = False
) -> dict[str, Any]:
    limit = _int_param(request, "limit", DEFAULT_PAGE, low=1, high=services.settings.history_page_max)
    assert limit is not None
    before = _int_param(request, "before", None, low=1, high=2**62)
    after = _int_param(request, "after", None, low=0, high=2**62)
    if before is not None and after is not None:
        raise InvalidInput("use before or after, not both", code="invalid_parameter")
    cid = conversation["id"]
    if after is not None:
        frames = await services.db.read(queries.events_after, cid, after, limit + 1)
        has_more = len(frames) > limit
        frames = frames[:limit]
    else:
        frames = await services.db.read(queries.events_before, cid, before, limit + 1)
        has_more = len(frames) > limit
        frames = frames[-limit:] if has_more else frames
    if visitor:  # internal notes stay among agents
        frames = [f for f in frames if f["type"] not in AGENTS_ONLY]
    return {
        "conversation": {k: v for k, v in conversation.items() if k not in ("site_id",)},
        "events": frames,
        "has_more": has_more,
    }


async def _visitor_id(request: Request) -> tuple[str, dict[str, str]]:
    """The visitor behind a request, and the CORS headers its page needs."""
    _, visitor_id, headers = await visitor_on_site(request)
    return visitor_id, headers


async def visitor_on_site(request: Request) -> tuple[Site, str, dict[str, str]]:
    """The site (``?site=KEY``), the visitor behind the request's token, and the CORS headers."""
    services = services_of(request)
    site = await services.sites.by_key(request.query_params.get("site", ""))
    if site is None:
        raise NotFound("no site has that key; pass ?site=KEY", code="site_unknown")
    headers: dict[str, str] = {"Vary": "Origin"}
    origin = request.headers.get("origin")
    if origin is not None and origin_allowed(origin, site.allowed_domains):
        headers["Access-Control-Allow-Origin"] = origin
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Bearer "):
        raise Unauthorized("send Authorization: Bearer VISITOR_TOKEN", code="token_invalid")
    claim = services.tokens.read_visitor_token(auth.removeprefix("Bearer ").strip(), site.id)
    return site, claim.visitor_id, headers


def _preflight(request: Request) -> Response:
    return preflight(request, "GET", "Authorization")


def preflight(request: Request, methods: str, headers: str) -> Response:
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": request.headers.get("origin", ""),
            "Access-Control-Allow-Methods": methods,
            "Access-Control-Allow-Headers": headers,
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        },
    )


async def visitor_conversations(request: Request) -> Response:
    if request.method == "OPTIONS":
        return _preflight(request)
    services = services_of(request)
    visitor_id, headers = await _visitor_id(request)
    found = await services.db.read(
        lambda c: queries.visitor_conversations(c, visitor_id, include_closed=True)
    )
    return JSONResponse({"conversations": found}, headers=headers)


async def visitor_history(request: Request) -> Response:
    if request.method == "OPTIONS":
        return _preflight(request)
    services = services_of(request)
    visitor_id, headers = await _visitor_id(request)
    conversation = await services.db.read(queries.conversation, request.path_params["id"])
    if conversation["visitor_id"] != visitor_id:
        # The same answer as a missing one: never confirm another visitor's id.
        raise NotFound(f"no conversation {conversation['id']!r}", code="conversation_not_found")
    return JSONResponse(await _page(services, request, conversation, visitor=True), headers=headers)


async def agent_conversations(request: Request) -> Response:
    access = await signed_in(request, "conversations")
    services = services_of(request)
    status = request.query_params.get("status", "open")
    if status not in ("open", "snoozed", "closed", "all"):
        raise InvalidInput(f"status={status!r}: use open, snoozed, closed or all", code="invalid_parameter")
    limit = _int_param(request, "limit", DEFAULT_PAGE, low=1, high=services.settings.history_page_max)
    found = await services.db.read(
        lambda c: queries.recent_conversations(
            c,
            limit=limit or DEFAULT_PAGE,
            status=None if status == "all" else status,
            channels=access.channels,
        )
    )
    return JSONResponse({"conversations": found})


async def agent_history(request: Request) -> Response:
    access = await signed_in(request, "conversations")
    services = services_of(request)
    conversation = await services.db.read(queries.conversation, request.path_params["id"])
    access.check(conversation)
    return JSONResponse(await _page(services, request, conversation))
