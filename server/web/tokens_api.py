"""A site's API tokens, made, listed and revoked by its admins (Settings > API tokens).

Tokens themselves cannot manage tokens: these routes take a signed-in session only.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.accounts import actions, api_tokens
from server.accounts.models import API_SCOPES
from server.errors import InvalidInput
from server.services import services_of
from server.web.auth import read_object, signed_in


async def tokens_api(request: Request) -> Response:
    """GET: the site's tokens (live first) and the scopes there are; POST {"name",
    "scopes"}: a new token, whose ``secret`` this answer alone holds (admins)."""
    access = await signed_in(request, "settings")
    access.require_admin("manage API tokens")
    services = services_of(request)
    key = request.path_params["key"]
    site = await services.sites.known(key)
    if request.method == "POST":
        body = await read_object(request)
        if set(body) - {"name", "scopes"}:
            unknown = ", ".join(sorted(set(body) - {"name", "scopes"}))
            raise InvalidInput(f"unknown fields: {unknown}", code="invalid_input")
        made, secret = await actions.create_token(
            services.db, site.id, body.get("name"), body.get("scopes"), access.user.id
        )
        return JSONResponse({"token": api_tokens.public(made), "secret": secret}, status_code=201)
    found = await services.db.read(api_tokens.listed, site.id)
    return JSONResponse({"tokens": [api_tokens.public(t) for t in found], "scopes": list(API_SCOPES)})


async def token_api(request: Request) -> Response:
    """DELETE: revoke the token at once, on every process (admins)."""
    access = await signed_in(request, "settings")
    access.require_admin("revoke API tokens")
    services = services_of(request)
    revoked = await actions.revoke_token(services.db, request.path_params["id"])
    return JSONResponse({"token": api_tokens.public(revoked)})
