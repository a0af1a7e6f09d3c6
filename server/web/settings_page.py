"""``/admin/settings``: a site's inbox, widget, hours, canned responses and (admins) the team;
``/admin/components``: the design system's gallery.

The page is a shell; ``admin/static/settings.js`` fills it from the JSON API, so
the page and the API enforce the same rules.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.errors import Unauthorized
from server.services import services_of
from server.web.auth import csrf_token, signed_in
from server.web.proactive_pages import HEADERS, _site
from server.web.templates import templates


async def settings_page(request: Request) -> Response:
    try:
        access = await signed_in(request)
    except Unauthorized:
        return RedirectResponse("/login?" + urlencode({"next": request.url.path}), status_code=303)
    if not access.can("settings"):
        denied = templates.get_template("proactive_denied.html").render(user=access.user)
        return HTMLResponse(denied, status_code=403, headers=HEADERS)
    site = await _site(request, services_of(request))
    html = templates.get_template("settings.html").render(
        user=access.user,
        site=site,
        section="settings",
        csrf=csrf_token(request),
        sections=access.sections,
        hours=access.can("proactive"),
    )
    return HTMLResponse(html, headers=HEADERS)


async def components_page(request: Request) -> Response:
    """``/admin/components``: every component of the design system, for people who build pages."""
    try:
        access = await signed_in(request)
    except Unauthorized:
        return RedirectResponse("/login?" + urlencode({"next": request.url.path}), status_code=303)
    html = templates.get_template("components.html").render(
        user=access.user, site=None, sections=access.sections
    )
    return HTMLResponse(html, headers=HEADERS)
