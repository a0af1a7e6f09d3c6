"""``/contacts`` and ``/contacts/{id}``: the contact base's pages (the Contacts section).

Shells that ``admin/static/contacts.js`` fills from the JSON API, so the pages and
the API enforce the same rules.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.contacts.fields import of_settings
from server.errors import Unauthorized
from server.services import services_of
from server.web.auth import csrf_token, signed_in
from server.web.proactive_pages import HEADERS, _site
from server.web.templates import templates


async def contacts_page(request: Request) -> Response:
    try:
        access = await signed_in(request)
    except Unauthorized:
        return RedirectResponse("/login?" + urlencode({"next": request.url.path}), status_code=303)
    if not access.can("contacts"):
        denied = templates.get_template("proactive_denied.html").render(user=access.user)
        return HTMLResponse(denied, status_code=403, headers=HEADERS)
    contact = request.path_params.get("id")
    site = await _site(request, services_of(request))
    html = templates.get_template("contact.html" if contact else "contacts.html").render(
        user=access.user,
        site=site,
        contact_id=contact,
        fields=[f.out() for f in of_settings(site.settings)],
        section="contacts",
        csrf=csrf_token(request),
        sections=access.sections,
    )
    return HTMLResponse(html, headers=HEADERS)


async def import_page(request: Request) -> Response:
    """``/contacts/import``: upload, map, dry-run and import a CSV (admins)."""
    try:
        access = await signed_in(request)
    except Unauthorized:
        return RedirectResponse("/login?" + urlencode({"next": request.url.path}), status_code=303)
    if access.user.role != "admin":
        denied = templates.get_template("proactive_denied.html").render(user=access.user)
        return HTMLResponse(denied, status_code=403, headers=HEADERS)
    site = await _site(request, services_of(request))
    html = templates.get_template("contacts_import.html").render(
        user=access.user,
        site=site,
        fields=[f.out() for f in of_settings(site.settings)],
        section="contacts",
        csrf=csrf_token(request),
        sections=access.sections,
    )
    return HTMLResponse(html, headers=HEADERS)
