"""JSON endpoints of the agent workspace: conversation changes, the contact panel,
the team, canned responses, and the inbox settings of a site."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.accounts import actions as accounts
from server.accounts.access import Access, channels_of, sections_of
from server.accounts.models import AgentPresence, User
from server.accounts.store import list_users
from server.bots.models import BotAnswer
from server.channels.store import site_channels
from server.conversations import actions, queries, workflow
from server.conversations.events import Author
from server.conversations.models import CannedResponse
from server.errors import Forbidden, InvalidInput, NotFound
from server.ids import utcnow
from server.services import services_of
from server.sites.store import sites
from server.tracking.models import PageView, Visit
from server.tracking.reports import visitor_profile
from server.web.agent_socket import changes_of
from server.web.auth import read_object, signed_in, user_json

canned = CannedResponse.__table__  # type: ignore[attr-defined]
answers = BotAnswer.__table__  # type: ignore[attr-defined]
presence = AgentPresence.__table__  # type: ignore[attr-defined]
visits = Visit.__table__  # type: ignore[attr-defined]
page_views = PageView.__table__  # type: ignore[attr-defined]


async def _conversation(request: Request, access: Access) -> dict[str, Any]:
    found = await services_of(request).db.read(queries.conversation, request.path_params["id"])
    access.check(found)
    return found


async def conversation_api(request: Request) -> Response:
    """GET one conversation; PATCH its status, snooze or assignee (as the socket's conversation.update)."""
    access = await signed_in(request, "conversations")
    conversation = await _conversation(request, access)
    if request.method == "GET":
        return JSONResponse(conversation)
    body = await read_object(request)
    unknown = sorted(set(body) - {"status", "snoozed_until", "assignee_id"})
    if unknown:
        raise InvalidInput(
            f"no field {unknown[0]!r}; send status, snoozed_until or assignee_id", code="invalid_input"
        )
    for key in ("status", "snoozed_until", "assignee_id"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise InvalidInput(f"{key} must be a string", code="invalid_input", field=key)
    services = services_of(request)
    author = Author("agent", access.user.id, access.user.name, access.user.avatar_url)
    summary = await actions.update(
        services.db,
        services.bus,
        conversation_id=conversation["id"],
        by=author,
        **changes_of(set(body), body.get("status"), body.get("snoozed_until"), body.get("assignee_id")),
    )
    return JSONResponse(summary)


def _contact(conn: Connection, conversation: dict[str, Any]) -> dict[str, Any]:
    visitor_id = conversation["visitor_id"]
    profile = visitor_profile(conn, visitor_id, recent=10)
    visit = (
        conn.execute(
            select(visits.c.device, visits.c.browser, visits.c.os, visits.c.landing_url, visits.c.utm)
            .where(visits.c.visitor_id == visitor_id)
            .order_by(visits.c.started_at.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    pages_seen = conn.execute(select(func.count()).where(page_views.c.visitor_id == visitor_id)).scalar_one()
    # The page they wrote from: the last one they opened before the conversation began.
    started = queries.first_visitor_message_at(conn, conversation["id"])
    wrote_from = None
    if started is not None:
        wrote_from = (
            conn.execute(
                select(page_views.c.url, page_views.c.title)
                .where(page_views.c.visitor_id == visitor_id, page_views.c.at <= started)
                .order_by(page_views.c.at.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
    channel = None
    if conversation.get("channel_id"):
        found = [
            c for c in site_channels(conn, conversation["site_id"]) if c.id == conversation["channel_id"]
        ]
        channel = {"id": found[0].id, "kind": found[0].kind, "name": found[0].name} if found else None
    others = [
        c
        for c in queries.visitor_conversations(conn, visitor_id, include_closed=True)
        if c["id"] != conversation["id"]
    ]
    return {
        "visitor": profile,
        "channel": channel,
        "device": dict(visit) if visit else None,
        "pages_seen": pages_seen,
        "wrote_from": dict(wrote_from) if wrote_from else None,
        "tags": conversation.get("tags") or [],
        "other_conversations": [
            {k: c[k] for k in ("id", "status", "created_at", "last_activity_at", "last_preview")}
            for c in others
        ],
    }


async def contact_api(request: Request) -> Response:
    """The contact panel of a conversation."""
    access = await signed_in(request, "conversations")
    conversation = await _conversation(request, access)
    return JSONResponse(await services_of(request).db.read(_contact, conversation))


# -- the team ---------------------------------------------------------------------------


def _member(user: User, online: int, channels: frozenset[str] | None) -> dict[str, Any]:
    return {
        **user_json(user),
        "is_active": user.is_active,
        "sections": sorted(sections_of(user)),
        "all_channels": user.role == "admin" or user.all_channels,
        "channels": None if channels is None else sorted(channels),
        "online": online > 0,
    }


def _team(conn: Connection) -> list[dict[str, Any]]:
    fresh = utcnow().timestamp() - workflow.PRESENCE_TTL_S
    online: dict[str, int] = {}
    for row in conn.execute(select(presence.c.user_id, presence.c.sockets, presence.c.seen_at)):
        if row.seen_at.timestamp() >= fresh:
            online[row.user_id] = online.get(row.user_id, 0) + row.sockets
    return [_member(u, online.get(u.id, 0), channels_of(conn, u)) for u in list_users(conn)]


async def team_api(request: Request) -> Response:
    """GET: everyone, with who is online (any agent, for assigning); POST: a new user (admins)."""
    access = await signed_in(request, "conversations" if request.method == "GET" else None)
    # Anyone who answers conversations may list the team (to assign); only admins add to it.
    services = services_of(request)
    if request.method == "POST":
        _admins_only(access)
        body = await read_object(request)
        for key in ("email", "name", "password"):
            if not isinstance(body.get(key), str):
                raise InvalidInput(f"{key}: a string is required", code="invalid_input", field=key)
        user = await accounts.add_user(
            services.db,
            email=body["email"],
            name=body["name"],
            password=body["password"],
            role=body.get("role", "agent"),
            grants={k: v for k, v in body.items() if k in ("sections", "all_channels", "channels")},
        )
        return JSONResponse(
            await services.db.read(lambda c: _member(user, 0, channels_of(c, user))), status_code=201
        )
    return JSONResponse({"users": await services.db.read(_team)})


def _admins_only(access: Access) -> None:
    if access.user.role != "admin":
        raise Forbidden("only admins manage the team", code="section_forbidden")


async def user_api(request: Request) -> Response:
    """PATCH a user (admins): name, role, sections, channels, disable, new password."""
    access = await signed_in(request)
    _admins_only(access)
    services = services_of(request)
    user_id = request.path_params["id"]
    body = await read_object(request)
    if user_id == access.user.id and (body.get("is_active") is False or body.get("role", "admin") != "admin"):
        raise InvalidInput("you cannot disable or demote yourself", code="invalid_input")
    user = await accounts.update_user(services.db, services.bus, user_id, body)
    return JSONResponse(await services.db.read(lambda c: _member(user, 0, channels_of(c, user))))


# -- canned responses -----------------------------------------------------------------------


def _canned_public(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "shortcut": row["shortcut"], "text": row["text"]}


def _canned_values(body: dict[str, Any], partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "shortcut" in body or not partial:
        shortcut = body.get("shortcut")
        if (
            not isinstance(shortcut, str)
            or not shortcut.strip().lstrip("/").replace("-", "").replace("_", "").isalnum()
        ):
            raise InvalidInput(
                "shortcut: letters, digits, - and _ (e.g. refund)", code="invalid_input", field="shortcut"
            )
        values["shortcut"] = shortcut.strip().lstrip("/").lower()[:40]
    if "text" in body or not partial:
        text = body.get("text")
        if not isinstance(text, str) or not 1 <= len(text.strip()) <= 1000:
            raise InvalidInput("text: 1 to 1000 characters", code="invalid_input", field="text")
        values["text"] = text.strip()
    return values


def _write_canned(conn: Connection, canned_id: str | None, values: dict[str, Any]) -> dict[str, Any]:
    try:
        with conn.begin_nested():
            if canned_id is None:
                row = CannedResponse(**values).model_dump()
                conn.execute(insert(canned).values(row))
                return _canned_public(row)
            done = conn.execute(update(canned).where(canned.c.id == canned_id).values(**values))
    except IntegrityError:
        raise InvalidInput(
            f"the shortcut /{values['shortcut']} is taken", code="shortcut_taken", field="shortcut"
        ) from None
    if not done.rowcount:
        raise NotFound(f"no canned response {canned_id!r}", code="canned_not_found")
    return _canned_public(conn.execute(select(canned).where(canned.c.id == canned_id)).mappings().one())


async def canned_list_api(request: Request) -> Response:
    """GET: every canned response (agents); POST: a new one (the Settings section)."""
    services = services_of(request)
    if request.method == "POST":
        await signed_in(request, "settings")
        values = _canned_values(await read_object(request), partial=False)
        created = await services.db.write(lambda c: _write_canned(c, None, values))
        return JSONResponse(created, status_code=201)
    await signed_in(request, "conversations")
    rows = await services.db.read(
        lambda c: list(c.execute(select(canned).order_by(canned.c.shortcut)).mappings())
    )
    return JSONResponse({"canned_responses": [_canned_public(r) for r in rows]})


async def canned_api(request: Request) -> Response:
    await signed_in(request, "settings")
    services = services_of(request)
    canned_id = request.path_params["id"]
    if request.method == "DELETE":
        gone = await services.db.write(
            lambda c: c.execute(delete(canned).where(canned.c.id == canned_id)).rowcount
        )
        if not gone:
            raise NotFound(f"no canned response {canned_id!r}", code="canned_not_found")
        return JSONResponse({"deleted": canned_id})
    values = _canned_values(await read_object(request), partial=True)
    return JSONResponse(await services.db.write(lambda c: _write_canned(c, canned_id, values)))


# -- a site's inbox settings -----------------------------------------------------------------


async def inbox_settings_api(request: Request) -> Response:
    """GET or PATCH greeting, away, routing, closing logic and history cap (the Settings section)."""
    await signed_in(request, "settings")
    services = services_of(request)
    key = request.path_params["key"]
    site = await services.sites.by_key(key)
    if site is None:
        raise NotFound(f"no site {key!r}", code="site_unknown")
    if request.method == "PATCH":
        changes = workflow.validate(await read_object(request))

        def save(conn: Connection) -> dict[str, Any]:
            for key in ("greeting_bot", "away_bot"):
                if changes.get(key) is not None:
                    _site_answer(conn, changes[key], site.id, key)
            settings = dict(
                conn.execute(select(sites.c.settings).where(sites.c.id == site.id)).scalar_one() or {}
            )
            settings["inbox"] = {**(settings.get("inbox") or {}), **changes}
            conn.execute(update(sites).where(sites.c.id == site.id).values(settings=settings))
            return settings

        saved = await services.db.write(save)
        await services.sites.changed(key)
        return JSONResponse({"inbox": workflow.settings_of(saved)})
    return JSONResponse({"inbox": workflow.settings_of(site.settings)})


def _site_answer(conn: Connection, answer_id: str, site_id: str, key: str) -> None:
    """A greeting or away bot must be one of the site's bot answers."""
    found = conn.execute(
        select(answers.c.id).where(answers.c.id == answer_id, answers.c.site_id == site_id)
    ).scalar()
    if found is None:
        raise InvalidInput(
            f"{key}: no bot answer {answer_id!r} on this site", code="invalid_setting", field=key
        )
