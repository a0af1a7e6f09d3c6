"""JSON API for proactive messages, channels, bot answers and the why-view (admins only)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.bots import flows
from server.bots import store as bots
from server.errors import InvalidInput, NotFound
from server.proactive import admin, store, why
from server.services import Services, services_of
from server.sites.hours import Hours
from server.sites.models import Site
from server.web.auth import read_json, read_object, signed_in


async def _site(request: Request) -> Site:
    site = await services_of(request).sites.by_key(request.path_params["key"])
    if site is None:
        raise NotFound(f"no site {request.path_params['key']!r}", code="site_unknown")
    return site


async def _site_of_message(services: Services, message_id: str) -> Site:
    msg = await services.db.read(lambda c: store.message(c, message_id))
    from server.sites.store import site_by_id

    return await services.db.read(lambda c: site_by_id(c, msg.site_id))


async def messages_api(request: Request) -> Response:
    """GET: the site's messages with counters; POST: a new draft."""
    await signed_in(request, "proactive")
    services = services_of(request)
    site = await _site(request)
    if request.method == "POST":
        body = await read_object(request)
        msg = await admin.create_message(services.db, site.id, body)
        return JSONResponse(store.public(msg), status_code=201)
    listed = await services.db.read(lambda c: _listing(c, site))
    return JSONResponse({"messages": listed})


def _listing(conn: Any, site: Site) -> list[dict[str, Any]]:
    counts = store.counters(conn, site.id)
    return [store.public(m, counts.get(m.id)) for m in store.site_messages(conn, site.id)]


async def message_api(request: Request) -> Response:
    """GET one message (with counters per day); PATCH to edit it."""
    await signed_in(request, "proactive")
    services = services_of(request)
    message_id = request.path_params["id"]
    site = await _site_of_message(services, message_id)
    if request.method == "PATCH":
        body = await read_object(request)
        await admin.edit_message(services.db, services.proactive, message_id, site.id, body)
    return JSONResponse(await services.db.read(lambda c: _detail(c, message_id, site.id)))


def _detail(conn: Any, message_id: str, site_id: str) -> dict[str, Any]:
    msg = store.message(conn, message_id, site_id)
    data = store.public(msg, store.counters(conn, site_id).get(msg.id))
    data["daily"] = store.daily(conn, msg.id)
    return data


async def action_api(request: Request) -> Response:
    await signed_in(request, "proactive")
    services = services_of(request)
    message_id, action = request.path_params["id"], request.path_params["action"]
    if action not in ("clone", "publish", "pause", "resume", "delete"):
        raise NotFound(f"no action {action!r}", code="not_found")
    site = await _site_of_message(services, message_id)
    result = await admin.act(services.db, services.proactive, message_id, site.id, action)
    if result is None:
        return JSONResponse({"deleted": message_id})
    return JSONResponse(store.public(result), status_code=201 if action == "clone" else 200)


async def settings_api(request: Request) -> Response:
    """The site's proactive settings: the per-visit cap and business hours."""
    await signed_in(request, "proactive")
    services = services_of(request)
    site = await _site(request)
    current = dict(site.settings.get("proactive") or {})
    changes: dict[str, Any] = {}
    if request.method == "PATCH":
        body = await read_json(request)
        if not isinstance(body, dict) or set(body) - {"cap_per_visit", "business_hours"}:
            raise InvalidInput("send cap_per_visit and/or business_hours", code="invalid_setting")
        if "cap_per_visit" in body:
            cap = body["cap_per_visit"]
            if not isinstance(cap, int) or isinstance(cap, bool) or not 1 <= cap <= 20:
                raise InvalidInput("cap_per_visit: 1 to 20", code="invalid_setting", field="cap_per_visit")
            changes["cap_per_visit"] = cap
        if "business_hours" in body:
            Hours.parse(body["business_hours"])
            changes["business_hours"] = body["business_hours"]
        saved = await services.sites.change(site.id, "proactive", changes)
        current = dict(saved.settings.get("proactive") or {})
        await services.proactive.changed(site.id)
    return JSONResponse(
        {"cap_per_visit": current.get("cap_per_visit", 1), "business_hours": current.get("business_hours")}
    )


async def channels_api(request: Request) -> Response:
    await signed_in(request, "proactive")
    services = services_of(request)
    site = await _site(request)
    found = await admin.site_channels(services.db, site.id)
    return JSONResponse({"channels": [c.model_dump(mode="json") for c in found]})


async def channel_api(request: Request) -> Response:
    """PATCH a channel (enabled, sender_name, …) or DELETE it; its messages turn to has-errors."""
    await signed_in(request, "proactive")
    services = services_of(request)
    channel_id = request.path_params["id"]
    body = None if request.method == "DELETE" else await read_object(request)
    broken = await admin.change_channel(services.db, services.proactive, channel_id, body)
    return JSONResponse({"messages_with_errors": broken})


async def answers_api(request: Request) -> Response:
    """POST a bot answer ({name, published}); GET the site's answers."""
    await signed_in(request, "proactive")
    services = services_of(request)
    site = await _site(request)
    if request.method == "POST":
        body = await read_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            raise InvalidInput('send {"name": "…", "published": true}', code="invalid_input")
        made = await admin.create_answer(services.db, site.id, body["name"], bool(body.get("published")))
        return JSONResponse(made.model_dump(mode="json"), status_code=201)
    return JSONResponse({"answers": await admin.site_answers(services.db, site.id)})


async def preview_api(request: Request) -> Response:
    """Run a flow as a visitor would, storing nothing: ``{"flow"?, "state"?, "text"?, "contact"?}``
    → what the bot says and the state to send back with the next text. Without
    ``flow``, the answer's draft; without ``state``, the flow starts."""
    await signed_in(request, "proactive")
    services = services_of(request)
    answer_id = request.path_params["id"]
    site_id = await admin.answer_site(services.db, answer_id)
    body = await read_object(request)
    draft = (await admin.answer(services.db, answer_id))["draft"]
    flow = await services.db.read(lambda c: bots.check(c, site_id, body.get("flow", draft)))
    raw = body.get("contact")
    given: dict[str, Any] = raw if isinstance(raw, dict) else {}
    contact = flows.Contact(
        name=given.get("name"),
        email=given.get("email"),
        phone=given.get("phone"),
        attributes=dict(given.get("attributes") or {}),
        tags=list(given.get("tags") or []),
    )
    state, text = body.get("state"), body.get("text")
    if text is not None and not isinstance(text, str):
        raise InvalidInput("text: a string", code="invalid_input", field="text")
    if state is None:
        outcome = flows.start(flow, contact)
    elif not isinstance(state, dict) or state.get("step") not in flow["steps"]:
        raise InvalidInput("state: the state the last preview returned", code="invalid_input", field="state")
    else:
        outcome = flows.advance(flow, state, contact, text)
    return JSONResponse(
        {
            "say": outcome.say,
            "status": outcome.status,
            "state": outcome.state,
            "handoff": outcome.handoff,
            "wait_s": outcome.wait_s,
            "contact": {
                "name": contact.name,
                "email": contact.email,
                "phone": contact.phone,
                "attributes": contact.attributes,
                "tags": contact.tags,
            },
        }
    )


async def answer_api(request: Request) -> Response:
    """GET one bot answer (its draft flow and published version); PATCH its
    ``flow``, ``name``, ``bot_name`` or ``published``; DELETE it. Unpublishing or
    deleting turns the proactive messages that start it to has-errors."""
    await signed_in(request, "proactive")
    services = services_of(request)
    answer_id = request.path_params["id"]
    await admin.answer_site(services.db, answer_id)
    if request.method == "GET":
        return JSONResponse(await admin.answer(services.db, answer_id))
    body = None
    if request.method == "PATCH":
        body = await read_object(request)
        unknown = sorted(set(body) - {"flow", "name", "bot_name", "published"})
        if unknown or ("published" in body and not isinstance(body["published"], bool)):
            raise InvalidInput(
                'send any of {"flow": {...}, "name": "…", "bot_name": "…", "published": true|false}',
                code="invalid_input",
            )
    found, broken = await admin.change_answer(services.db, services.proactive, answer_id, body)
    if found is not None:
        return JSONResponse({**found, "messages_with_errors": broken})
    return JSONResponse({"messages_with_errors": broken})


async def why_api(request: Request) -> Response:
    """GET ?visitor=ID, or POST test values: every live message checked against them."""
    await signed_in(request, "proactive")
    services = services_of(request)
    site = await _site(request)
    if request.method == "POST":
        body = await read_object(request, "the test values as a JSON object")
        checks = await services.db.read(lambda c: why.explain(c, site, test=body))
    else:
        visitor = request.query_params.get("visitor")
        if not visitor:
            recent = await services.db.read(lambda c: why.recent_visitors(c, site.id))
            return JSONResponse({"recent_visitors": recent})
        checks = await services.db.read(lambda c: why.explain(c, site, visitor_id=visitor))
    return JSONResponse({"checks": why.as_json(checks)})
