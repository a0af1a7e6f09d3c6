"""``/admin/settings``: a site's inbox, widget, hours, canned responses and (admins) the team;
``/admin/components``: the design system's gallery.

The page is a shell; ``admin/static/settings.js`` fills it from the JSON API, so
the page and the API enforce the same rules.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from server.accounts.access import Access
from server.services import services_of
from server.web.auth import csrf_token
from server.web.proactive_pages import HEADERS, _site, section_page
from server.web.templates import templates


@section_page("settings")
async def settings_page(request: Request, access: Access) -> Response:
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


@section_page(None)
async def components_page(request: Request, access: Access) -> Response:
    """``/admin/components``: every component of the design system, for people who build pages."""
    html = templates.get_template("components.html").render(
        user=access.user, site=None, sections=access.sections
    )
    return HTMLResponse(html, headers=HEADERS)
