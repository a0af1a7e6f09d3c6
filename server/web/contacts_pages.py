"""``/contacts`` and ``/contacts/{id}``: the contact base's pages (the Contacts section).

Shells that ``admin/static/contacts.js`` fills from the JSON API, so the pages and
the API enforce the same rules.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from server.accounts.access import Access
from server.contacts.fields import of_settings
from server.services import services_of
from server.web.auth import csrf_token
from server.web.proactive_pages import HEADERS, _site, section_page
from server.web.templates import templates


@section_page("contacts")
async def contacts_page(request: Request, access: Access) -> Response:
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


@section_page(None, admins=True)
async def import_page(request: Request, access: Access) -> Response:
    """``/contacts/import``: upload, map, dry-run and import a CSV (admins)."""
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
