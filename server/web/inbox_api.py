"""``GET /api/v1/inbox``: conversations by view, status and search, for agents."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.conversations import inbox
from server.errors import InvalidInput
from server.services import services_of
from server.web.auth import signed_in
from server.web.history import _int_param


async def inbox_api(request: Request) -> Response:
    access = await signed_in(request, "conversations")
    services = services_of(request)
    params = request.query_params
    limit = _int_param(request, "limit", 50, low=1, high=200) or 50
    before = None
    if params.get("before"):
        try:
            before = datetime.fromisoformat(params["before"].replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(
                "before must be a time like 2026-11-22T09:30:00.125Z", code="invalid_parameter"
            ) from None
    query = params.get("q", "")[:200]
    found = await services.db.read(
        lambda c: inbox.page(
            c,
            view=params.get("view", "all"),
            status=params.get("status", "open"),
            user_id=access.user.id,
            query=query,
            limit=limit,
            before=before,
            channels=access.channels,
        )
    )
    return JSONResponse(found)


async def badge_api(request: Request) -> Response:
    access = await signed_in(request, "conversations")
    return JSONResponse(
        await services_of(request).db.read(lambda c: inbox.badge(c, access.user.id, access.channels))
    )
