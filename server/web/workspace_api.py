"""JSON endpoints of the agent workspace: conversation changes, the contact panel,
the team, canned responses, and the inbox settings of a site."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.accounts import actions as accounts
from server.accounts.access import Access, channels_of, sections_of
from server.accounts.models import User
from server.accounts.store import list_users
from server.conversations import actions, canned, panel, queries, workflow
from server.conversations.events import Author
from server.errors import Forbidden, InvalidInput, NotFound
from server.proactive import admin as proactive_admin
from server.services import Services, services_of
from server.web.agent_socket import changes_of
from server.web.auth import read_object, signed_in, user_json


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


async def contact_api(request: Request) -> Response:
    """The contact panel of a conversation."""
    access = await signed_in(request, "conversations")
    conversation = await _conversation(request, access)
    return JSONResponse(await services_of(request).db.read(panel.contact_panel, conversation))


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


def _team(conn: Any) -> list[dict[str, Any]]:
    online = workflow.online(conn)
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


async def canned_list_api(request: Request) -> Response:
    """GET: every canned response (agents); POST: a new one (the Settings section)."""
    services = services_of(request)
    if request.method == "POST":
        await signed_in(request, "settings")
        created = await canned.save(services.db, None, await read_object(request))
        return JSONResponse(created, status_code=201)
    await signed_in(request, "conversations")
    return JSONResponse({"canned_responses": await services.db.read(canned.listed)})


async def canned_api(request: Request) -> Response:
    await signed_in(request, "settings")
    services = services_of(request)
    canned_id = request.path_params["id"]
    if request.method == "DELETE":
        await canned.delete_one(services.db, canned_id)
        return JSONResponse({"deleted": canned_id})
    return JSONResponse(await canned.save(services.db, canned_id, await read_object(request)))


# -- a site's inbox settings -----------------------------------------------------------------


async def inbox_settings_api(request: Request) -> Response:
    """GET or PATCH greeting, away, routing, closing logic and history cap (the Settings section)."""
    await signed_in(request, "settings")
    services = services_of(request)
    key = request.path_params["key"]
    site = await services.sites.known(key)
    if request.method == "PATCH":
        changes = workflow.validate(await read_object(request))
        for name in ("greeting_bot", "away_bot"):
            if changes.get(name) is not None:
                await _site_answer(services, changes[name], site.id, name)
        saved = await services.sites.change(site.id, "inbox", changes)
        return JSONResponse({"inbox": workflow.settings_of(saved.settings)})
    return JSONResponse({"inbox": workflow.settings_of(site.settings)})


async def _site_answer(services: Services, answer_id: str, site_id: str, key: str) -> None:
    """A greeting or away bot must be one of the site's bot answers."""
    try:
        found = await proactive_admin.answer_site(services.db, answer_id)
    except NotFound:
        found = None
    if found != site_id:
        raise InvalidInput(
            f"{key}: no bot answer {answer_id!r} on this site", code="invalid_setting", field=key
        )
