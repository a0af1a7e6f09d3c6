"""JSON endpoints for the people who run a site: its widget settings and its visitors."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.services import services_of
from server.sites import widget
from server.tracking.reports import visitor_profile
from server.web.auth import current_user, read_json, signed_in


async def widget_settings_api(request: Request) -> Response:
    services = services_of(request)
    key = request.path_params["key"]
    if request.method == "GET":
        await current_user(request)
        site = await services.sites.known(key)
        return JSONResponse({"widget": widget.settings_of(site)})
    await signed_in(request, "settings")
    changes = widget.validate(await read_json(request))
    site = await services.sites.known(key)
    site = await services.sites.change(site.id, "widget", changes)
    return JSONResponse({"widget": widget.settings_of(site)})


async def visitor_api(request: Request) -> Response:
    await signed_in(request, "contacts")
    services = services_of(request)
    return JSONResponse(await services.db.read(visitor_profile, request.path_params["id"]))
