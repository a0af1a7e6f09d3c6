"""The Starlette application: routes, error handlers, start-up and shutdown."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from server.config import Settings, load_settings
from server.db import unavailable, unstorable
from server.errors import ParleyError
from server.services import Services
from server.web import (
    admin_api,
    attachments_api,
    auth,
    contacts_api,
    contacts_pages,
    history,
    imports_api,
    inbox_api,
    pages,
    proactive_api,
    proactive_pages,
    settings_page,
    tokens_api,
    widget,
    workspace_api,
)
from server.web.agent_socket import agent_socket
from server.web.middleware import Hardening
from server.web.templates import STATIC
from server.web.transport import GATE, Gate
from server.web.visitor_socket import visitor_socket

log = logging.getLogger(__name__)

INDEX = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Parley</title></head>
<body><h1>Parley</h1><p>The chat server is running.</p>
<ul><li><a href="/agent">Agent page</a> (sign in as an agent or admin)</li>
<li>Widget loader: <code>&lt;script async src="/widget.js" data-site="SITE_KEY"&gt;&lt;/script&gt;</code></li>
<li>Visitor socket: <code>/ws/v1/visitor?site=SITE_KEY</code></li>
<li>Agent socket: <code>/ws/v1/agent</code></li></ul></body></html>"""


async def index(request: Request) -> Response:
    return HTMLResponse(INDEX)


async def healthz(request: Request) -> Response:
    """Liveness: the process answers. Whether it can do its work is /readyz."""
    services: Services = request.app.state.services
    return JSONResponse({"ok": True, "connections": len(services.hub.connections)})


async def readyz(request: Request) -> Response:
    """Readiness: the database answers and the bus reaches every process; 503 while not."""
    services: Services = request.app.state.services
    problem = await services.db.ping()
    database = {"ok": problem is None, **({"error": problem} if problem else {})}
    bus = services.bus.status()
    ok = database["ok"] and bus["ok"]
    body = {"ok": ok, "database": database, "bus": bus, "connections": len(services.hub.connections)}
    if not ok:
        body["code"] = "not_ready"
    return JSONResponse(body, status_code=200 if ok else 503)


async def parley_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ParleyError)
    return JSONResponse(exc.as_dict(), status_code=exc.http_status, headers=exc.headers())


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse({"code": code, "message": str(exc.detail)}, status_code=exc.status_code)


async def server_error(request: Request, exc: Exception) -> Response:
    if unavailable(exc):
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            {"code": "database_unavailable", "message": "the database is unreachable; retry shortly"},
            status_code=503,
            headers={"Retry-After": "2"},
        )
    if unstorable(exc):  # a value the edges let through but the database refuses
        return JSONResponse(
            {"code": "unstorable", "message": "a value in the request cannot be stored"}, status_code=422
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"code": "internal_error", "message": "the server failed"}, status_code=500)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        services = Services.build(settings)
        app.state.services = services
        await services.start()
        log.info(
            "parley started: database %s, bus %s",
            services.db.engine.url.get_backend_name(),
            settings.bus_url.split("://")[0],
        )
        gate = Gate(
            per_ip=settings.connections_per_ip,
            handshake_timeout_s=settings.handshake_timeout_s,
            send_timeout_s=settings.send_timeout_s,
            close_timeout_s=settings.close_timeout_s,
            trusted=settings.trusted_proxies,
        )
        try:
            yield {GATE: gate}  # for the protocols of server.web.transport
        finally:
            await services.stop()

    routes = [
        Route("/", index),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/login", auth.login_page, methods=["GET", "POST"]),
        Route("/api/v1/auth/login", auth.login_api, methods=["POST"]),
        Route("/api/v1/auth/logout", auth.logout_api, methods=["POST"]),
        Route("/agent", pages.agent_page),
        Route("/admin/proactive", proactive_pages.list_page),
        Route("/admin/proactive/new", proactive_pages.create_page, methods=["POST"]),
        Route("/admin/proactive/why", proactive_pages.why_page, methods=["GET", "POST"]),
        Route("/admin/proactive/{id}", proactive_pages.edit_page, methods=["GET", "POST"]),
        Route("/admin/proactive/{id}/{action}", proactive_pages.action_page, methods=["POST"]),
        Route("/admin/settings", settings_page.settings_page),
        Route("/admin/components", settings_page.components_page),
        Route("/contacts", contacts_pages.contacts_page),
        Route("/contacts/import", contacts_pages.import_page),
        Route("/contacts/{id}", contacts_pages.contacts_page),
        Route("/admin/bots", proactive_pages.bots_page),
        Route("/widget.js", widget.loader),
        Route("/widget/v/{version}/{name}", widget.chunk),
        Route("/api/v1/widget/config", widget.config),
        Route("/api/v1/sites/{key}/widget", admin_api.widget_settings_api, methods=["GET", "PATCH"]),
        Route("/api/v1/visitors/{id}", admin_api.visitor_api),
        Route("/api/v1/sites/{key}/contacts", contacts_api.contacts_api, methods=["GET", "POST"]),
        Route("/api/v1/contacts/{id}", contacts_api.contact_api, methods=["GET", "PATCH"]),
        Route("/api/v1/contacts/{id}/tags", contacts_api.tags_api, methods=["POST"]),
        Route("/api/v1/contacts/{id}/chat", contacts_api.chat_api, methods=["POST"]),
        Route("/api/v1/contacts/{id}/export", contacts_api.export_api),
        Route("/api/v1/contacts/{id}/erase", contacts_api.erase_api, methods=["POST"]),
        Route("/api/v1/contacts/{id}/merge", contacts_api.merge_api, methods=["POST"]),
        Route("/api/v1/sites/{key}/chats", contacts_api.upsert_chat_api, methods=["POST"]),
        Route(
            "/api/v1/sites/{key}/contact-settings",
            contacts_api.contact_settings_api,
            methods=["GET", "PATCH"],
        ),
        Route("/api/v1/sites/{key}/contact-exports", contacts_api.exports_api, methods=["POST"]),
        Route("/api/v1/contact-exports/{id}", contacts_api.export_state_api),
        Route("/api/v1/contact-exports/{id}/contacts.csv", contacts_api.export_file_api),
        Route("/api/v1/sites/{key}/contact-fields", contacts_api.fields_api, methods=["GET", "POST"]),
        Route(
            "/api/v1/sites/{key}/contact-fields/{field}",
            contacts_api.field_api,
            methods=["PATCH", "DELETE"],
        ),
        Route("/api/v1/sites/{key}/tokens", tokens_api.tokens_api, methods=["GET", "POST"]),
        Route("/api/v1/tokens/{id}", tokens_api.token_api, methods=["DELETE"]),
        Route("/api/v1/sites/{key}/imports", imports_api.upload_api, methods=["POST"]),
        Route("/api/v1/imports/{id}", imports_api.import_api),
        Route("/api/v1/imports/{id}/run", imports_api.run_api, methods=["POST"]),
        Route("/api/v1/imports/{id}/rejected.csv", imports_api.rejected_api),
        Route("/api/v1/sites/{key}/proactive", proactive_api.messages_api, methods=["GET", "POST"]),
        Route("/api/v1/sites/{key}/proactive/why", proactive_api.why_api, methods=["GET", "POST"]),
        Route("/api/v1/sites/{key}/proactive-settings", proactive_api.settings_api, methods=["GET", "PATCH"]),
        Route("/api/v1/sites/{key}/channels", proactive_api.channels_api),
        Route("/api/v1/sites/{key}/bot-answers", proactive_api.answers_api, methods=["GET", "POST"]),
        Route("/api/v1/proactive/{id}", proactive_api.message_api, methods=["GET", "PATCH"]),
        Route("/api/v1/proactive/{id}/{action}", proactive_api.action_api, methods=["POST"]),
        Route("/api/v1/channels/{id}", proactive_api.channel_api, methods=["PATCH", "DELETE"]),
        Route("/api/v1/bot-answers/{id}", proactive_api.answer_api, methods=["GET", "PATCH", "DELETE"]),
        Route("/api/v1/bot-answers/{id}/preview", proactive_api.preview_api, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        Route("/api/v1/me", auth.me_api),
        Route("/api/v1/me/password", auth.password_api, methods=["POST"]),
        Route("/api/v1/conversations", history.agent_conversations),
        Route("/api/v1/inbox", inbox_api.inbox_api),
        Route("/api/v1/inbox/badge", inbox_api.badge_api),
        Route("/api/v1/conversations/{id}/events", history.agent_history),
        Route("/api/v1/conversations/{id}", workspace_api.conversation_api, methods=["GET", "PATCH"]),
        Route("/api/v1/conversations/{id}/contact", workspace_api.contact_api),
        Route("/api/v1/conversations/{id}/attachments", attachments_api.agent_upload, methods=["POST"]),
        Route("/api/v1/visitor/attachments", attachments_api.visitor_upload, methods=["POST", "OPTIONS"]),
        Route("/api/v1/attachments/{id}/{name}", attachments_api.download),
        Route("/api/v1/team", workspace_api.team_api, methods=["GET", "POST"]),
        Route("/api/v1/users/{id}", workspace_api.user_api, methods=["PATCH"]),
        Route("/api/v1/canned-responses", workspace_api.canned_list_api, methods=["GET", "POST"]),
        Route("/api/v1/canned-responses/{id}", workspace_api.canned_api, methods=["PATCH", "DELETE"]),
        Route(
            "/api/v1/sites/{key}/inbox-settings", workspace_api.inbox_settings_api, methods=["GET", "PATCH"]
        ),
        Route(
            "/api/v1/visitor/conversations",
            history.visitor_conversations,
            methods=["GET", "OPTIONS"],
        ),
        Route(
            "/api/v1/visitor/conversations/{id}/events",
            history.visitor_history,
            methods=["GET", "OPTIONS"],
        ),
        WebSocketRoute("/ws/v1/visitor", visitor_socket),
        WebSocketRoute("/ws/v1/agent", agent_socket),
    ]
    return Starlette(
        middleware=[Middleware(Hardening)],
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            ParleyError: parley_error,
            HTTPException: http_error,
            Exception: server_error,
        },
    )
