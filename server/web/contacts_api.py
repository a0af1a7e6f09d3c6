"""The contact base over JSON (the Contacts section): list, search, add, change, tag,
and one contact's page (fields, tags, conversations on every channel, visits, history)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import phonenumbers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from server import exports, merging, privacy
from server.accounts.access import Access
from server.contacts import actions, book, fields
from server.contacts.book import Actor, Filters
from server.contacts.store import visitor
from server.conversations import actions as conversations
from server.conversations import directory
from server.errors import Conflict, InvalidInput
from server.services import Services, services_of
from server.sites.models import Site
from server.sites.store import site_by_id
from server.tracking.reports import latest_visit, visitor_profile
from server.web.auth import read_object, signed_in


def country_of(site: Site) -> str | None:
    """The site's default country for phones typed without +, e.g. "PT" (settings.contacts)."""
    return (site.settings.get("contacts") or {}).get("default_country")


def actor_of(access: Access) -> Actor:
    """Who a contact's history says made a change: the teammate, or the API token."""
    if access.token is not None:
        return Actor("api", access.token.id, access.token.name)
    return Actor("agent", access.user.id, access.user.name)


async def _token_site(services: Services, access: Access, contact_id: str) -> None:
    """An API token reaches only its own site's contacts (403 ``token_site``)."""
    if access.token is not None:
        access.require_site((await _site_of_contact(services, contact_id)).id)


async def contacts_api(request: Request) -> Response:
    """GET: a page of contacts (q, tag, channel, open, sort, dir, cursor); POST: add one.
    API tokens too (contacts:read, contacts:write)."""
    access = await signed_in(request, "contacts", tokens=True)
    services = services_of(request)
    site = await services.sites.known(request.path_params["key"])
    access.require_site(site.id)
    if request.method == "POST":
        by = actor_of(access)
        added = await actions.add(services.db, site.id, await read_object(request), by, country_of(site))
        return JSONResponse({"contact": book.summary(added)}, status_code=201)
    filters = list_filters(request.query_params)
    filters = replace(
        filters,
        cursor=request.query_params.get("cursor") or None,
        limit=_limit(request.query_params.get("limit")),
    )
    also = directory.conditions(
        channel=request.query_params.get("channel") or None, open_=_open(request.query_params)
    )
    return JSONResponse(await services.db.read(lambda c: book.listed(c, site.id, filters, also)))


def list_filters(q: Mapping[str, str]) -> Filters:
    """The contact list's filters, search and sort as a query string gives them (the list
    and its export read the same ones)."""
    sort = q.get("sort", "last_seen")
    if sort not in book.SORTS:
        raise InvalidInput(f"sort: one of {', '.join(book.SORTS)}", code="invalid_input", field="sort")
    if q.get("dir", "desc") not in ("asc", "desc"):
        raise InvalidInput("dir: asc or desc", code="invalid_input", field="dir")
    return Filters(
        query=q.get("q", "")[:200],
        tag=q.get("tag") or None,
        field=_field_key(q.get("field")),
        value=q.get("value"),
        sort=sort,
        descending=q.get("dir", "desc") == "desc",
    )


def _open(q: Mapping[str, str]) -> bool | None:
    if q.get("open", "") not in ("", "yes", "no"):
        raise InvalidInput("open: yes or no", code="invalid_input", field="open")
    return {"yes": True, "no": False}.get(q.get("open", ""))


def _field_key(raw: str | None) -> str | None:
    if not raw:
        return None
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", raw):
        raise InvalidInput("field: a custom field's key", code="invalid_input", field="field")
    return raw


def _limit(raw: str | None) -> int:
    if raw is None:
        return book.PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= 200:
        raise InvalidInput("limit: 1 to 200", code="invalid_input", field="limit")
    return int(raw)


async def contact_api(request: Request) -> Response:
    """GET: everything about one contact; PATCH: change its name, email, phone or attributes.
    API tokens too."""
    access = await signed_in(request, "contacts", tokens=True)
    services = services_of(request)
    contact_id = request.path_params["id"]
    if request.method == "PATCH":
        site = await _site_of_contact(services, contact_id)  # read once: the token's check, the country
        access.require_site(site.id)
        by = actor_of(access)
        await actions.change(services.db, contact_id, await read_object(request), by, country_of(site))
    else:
        await _token_site(services, access, contact_id)
    return JSONResponse(await services.db.read(lambda c: _page(c, contact_id)))


async def tags_api(request: Request) -> Response:
    """POST {"add": [...], "remove": [...]}: the contact's tags, by hand (or an API token)."""
    access = await signed_in(request, "contacts", tokens=True)
    services = services_of(request)
    await _token_site(services, access, request.path_params["id"])
    body = await read_object(request)
    add, remove = body.get("add", []), body.get("remove", [])
    if not isinstance(add, list) or not isinstance(remove, list) or set(body) - {"add", "remove"}:
        raise InvalidInput('send {"add": [tags], "remove": [tags]}', code="invalid_tag", field="tags")
    by = actor_of(access)
    tags = await actions.tag(services.db, request.path_params["id"], add, remove, by)
    return JSONResponse({"tags": tags})


async def _site_of_contact(services: Services, contact_id: str) -> Site:
    return await services.db.read(lambda c: site_by_id(c, visitor(c, contact_id).site_id))


def _page(conn: Any, contact_id: str) -> dict[str, Any]:
    contact = visitor(conn, contact_id)
    profile = visitor_profile(conn, contact_id)
    return {
        "contact": {**book.summary(contact), "attributes": contact.attributes, "locale": contact.locale,
                    "timezone": contact.timezone, "visit_count": contact.visit_count,
                    "first_ref": contact.first_ref, "latest_ref": contact.latest_ref},
        "conversations": directory.of_contact(conn, contact_id),
        "visit": latest_visit(conn, contact_id),
        "page_views": profile["page_views"],
        "events": profile["events"],
        "history": book.history(conn, contact_id),
        "fields": [f.out() for f in fields.definitions(conn, contact.site_id)],
    }  # fmt: skip


def _chat_fields(body: dict[str, Any]) -> tuple[str, str, str | None]:
    text, client_id, channel = body.get("text"), body.get("client_id"), body.get("channel")
    if not isinstance(text, str):
        raise InvalidInput("text: the message to send", code="invalid_input", field="text")
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= 64:
        raise InvalidInput(
            "client_id: 1 to 64 characters, the same on a retry", code="invalid_input", field="client_id"
        )
    if channel is not None and not isinstance(channel, str):
        raise InvalidInput("channel: a channel kind such as web", code="invalid_input", field="channel")
    return text, client_id, channel


async def chat_api(request: Request) -> Response:
    """POST {text, client_id, channel?}: "+ Chat" from a contact, idempotent by client id."""
    access = await signed_in(request, "conversations")
    access.require("contacts")
    services = services_of(request)
    contact_id = request.path_params["id"]
    text, client_id, channel = _chat_fields(await read_object(request))
    site = await _site_of_contact(services, contact_id)
    return await _chat(request, access, site, contact_id, None, (text, client_id, channel))


async def upsert_chat_api(request: Request) -> Response:
    """POST {contact: {email?, phone?, user_id?, name?}, text, client_id, channel?}: find the
    contact (by verified user id, email, then phone) or add it, then "+ Chat", all at once."""
    access = await signed_in(request, "conversations")
    access.require("contacts")
    services = services_of(request)
    site = await services.sites.known(request.path_params["key"])
    body = await read_object(request)
    text, client_id, channel = _chat_fields(body)
    who = body.get("contact")
    if not isinstance(who, dict) or set(who) - {"email", "phone", "user_id", "name"}:
        raise InvalidInput("contact: {email, phone, user_id, name}", code="invalid_input", field="contact")
    user_id = who.get("user_id") if isinstance(who.get("user_id"), str) else None
    by = actor_of(access)
    country = country_of(site)

    def upsert(conn: Any) -> str:
        email, phone = book.clean_email(who.get("email")), book.clean_phone(who.get("phone"), country)
        found = book.duplicate(conn, site.id, email=email, phone=phone, user_id=user_id)
        if found is not None:
            return found.id
        fields = {k: v for k, v in {"name": who.get("name"), "email": email, "phone": phone}.items() if v}
        return book.add(conn, site.id, fields, by, country).id

    return await _chat(request, access, site, None, upsert, (text, client_id, channel))


async def _chat(request: Request, access: Any, site: Site, contact_id: str | None, upsert: Any,
                said: tuple[str, str, str | None]) -> Response:  # fmt: skip
    """The "+ Chat" action; 201 with the message's ack, 200 when the client id was used."""
    services = services_of(request)
    text, client_id, channel = said
    ack = await conversations.start_chat(
        services.db,
        services.bus,
        access=access,
        site_id=site.id,
        visitor_id=contact_id,
        upsert=upsert,
        channel_kind=channel,
        client_id=client_id,
        text=text,
        max_chars=services.settings.max_message_chars,
    )
    return JSONResponse(ack, status_code=200 if ack["duplicate"] else 201)


async def _admin_of(request: Request, what: str = "export or erase a contact's data") -> Any:
    """The signed-in admin with the Contacts section (403 ``admins_only`` for others)."""
    access = await signed_in(request, "contacts")
    access.require_admin(what)
    return access


async def export_api(request: Request) -> Response:
    """GET everything stored about the contact, as a JSON download (admins)."""
    await _admin_of(request)
    contact_id = request.path_params["id"]
    data = await services_of(request).db.read(lambda c: privacy.export(c, contact_id))
    return JSONResponse(
        data, headers={"Content-Disposition": f'attachment; filename="contact-{contact_id}.json"'}
    )


async def erase_api(request: Request) -> Response:
    """POST {"confirm": "<the contact's id>"}: erase the contact (admins); what went, counted."""
    access = await _admin_of(request)
    contact_id = request.path_params["id"]
    body = await read_object(request)
    if body.get("confirm") != contact_id:
        raise InvalidInput(
            "erasing cannot be undone: send the contact's id as confirm",
            code="confirm_required",
            field="confirm",
        )
    counts = await privacy.erase_contact(services_of(request).db, contact_id, by_user=access.user.id)
    return JSONResponse({"erased": counts})


async def merge_api(request: Request) -> Response:
    """POST {"from": other contact's id, "keep": {"name": "source", …}}: merge the other
    contact into this one, field by field; this contact's page after it."""
    access = await signed_in(request, "contacts")
    services = services_of(request)
    target = request.path_params["id"]
    body = await read_object(request)
    source = body.get("from")
    if not isinstance(source, str):
        raise InvalidInput(
            "from: the id of the contact to merge into this one", code="invalid_merge", field="from"
        )
    site = await _site_of_contact(services, target)
    await merging.merge_contacts(
        services.db,
        services.bus,
        site_id=site.id,
        source_id=source,
        target_id=target,
        keep=merging.check_keep(body.get("keep")),
        by=actor_of(access),
    )
    return JSONResponse(await services.db.read(lambda c: _page(c, target)))


async def contact_settings_api(request: Request) -> Response:
    """GET or PATCH {"default_country": "PT" | null}: how phones typed without + are read."""
    await signed_in(request, "settings")
    services = services_of(request)
    site = await services.sites.known(request.path_params["key"])
    if request.method == "PATCH":
        body = await read_object(request)
        country = body.get("default_country")
        if set(body) - {"default_country"} or not (
            country is None
            or (isinstance(country, str) and country.upper() in phonenumbers.SUPPORTED_REGIONS)
        ):
            raise InvalidInput(
                "default_country: a region code such as PT, or null",
                code="invalid_setting",
                field="default_country",
            )
        site = await services.sites.change(
            site.id, "contacts", {"default_country": country and country.upper()}
        )
    return JSONResponse(
        {"default_country": country_of(site), "countries": sorted(phonenumbers.SUPPORTED_REGIONS)}
    )


async def fields_api(request: Request) -> Response:
    """GET: the site's custom fields (anyone with Contacts); POST: define one (admins)."""
    access = await signed_in(request, "contacts")
    services = services_of(request)
    site = await services.sites.known(request.path_params["key"])
    if request.method == "POST":
        access.require_admin("define contact fields")
        body = await read_object(request)
        added = await actions.define_field(services.db, site.id, body)
        await services.sites.changed(site.key)
        return JSONResponse({"field": added.out()}, status_code=201)
    return JSONResponse(
        {"fields": [f.out() for f in fields.of_settings(site.settings)], "types": list(fields.TYPES)}
    )


async def field_api(request: Request) -> Response:
    """PATCH: a field's label or choices; DELETE: forget it (contacts keep the values)."""
    access = await signed_in(request, "contacts")
    access.require_admin("define contact fields")
    services = services_of(request)
    site = await services.sites.known(request.path_params["key"])
    key = request.path_params["field"]
    if request.method == "DELETE":
        await actions.undefine_field(services.db, site.id, key)
        await services.sites.changed(site.key)
        return Response(status_code=204)
    body = await read_object(request)
    changed = await actions.redefine_field(services.db, site.id, key, body)
    await services.sites.changed(site.key)
    return JSONResponse({"field": changed.out()})


async def exports_api(request: Request) -> Response:
    """POST {q, tag, field, value, channel, open, sort, dir}: export the list as it is
    filtered, as CSV, in a background job (admins)."""
    access = await _admin_of(request, "export contacts")
    services = services_of(request)
    site = await services.sites.known(request.path_params["key"])
    body = await read_object(request)
    wrong = next((k for k, v in body.items() if not isinstance(v, str)), None)
    if wrong is not None:
        raise InvalidInput(f"{wrong}: a string, as in the list's query", code="invalid_input", field=wrong)
    f = list_filters(body)
    stored = {
        "q": f.query,
        "tag": f.tag,
        "field": f.field,
        "value": f.value,
        "sort": f.sort,
        "dir": "desc" if f.descending else "asc",
        "channel": body.get("channel") or None,
        "open": _open(body),
    }
    started = await exports.start(services.db, site.id, access.user.id, stored)
    services.scheduler.nudge()
    return JSONResponse({"export": exports.summary(started)}, status_code=202)


async def export_state_api(request: Request) -> Response:
    """GET an export's progress (and, once done, the address of its file)."""
    await _admin_of(request, "export contacts")
    db = services_of(request).db
    found = await db.read(lambda c: exports.load(c, request.path_params["id"]))
    return JSONResponse({"export": exports.summary(found)})


async def export_file_api(request: Request) -> Response:
    """GET the export's CSV, streamed chunk by chunk."""
    await _admin_of(request, "export contacts")
    db = services_of(request).db
    found = await db.read(lambda c: exports.load(c, request.path_params["id"]))
    if found.status != "done":
        raise Conflict(f"the export is {found.status}; wait until it is done", code="export_not_ready")
    return StreamingResponse(
        exports.file(db, found.id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="contacts.csv"'},
    )
