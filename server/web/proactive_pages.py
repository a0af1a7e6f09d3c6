"""The proactive messages admin pages: plain HTML forms that work without JavaScript.

Every form carries a CSRF token (an HMAC of the session cookie) and posts
same-origin; the list sorts by any column through links; the options menu is
a <details> element offering exactly the actions the status allows.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server import untrusted
from server.accounts.access import Access
from server.accounts.models import User
from server.bots import store as bots
from server.channels.store import site_channels
from server.contacts.fields import of_settings as contact_fields
from server.errors import InvalidInput, NotFound, ParleyError, Unauthorized
from server.proactive import admin, rules, store, why
from server.services import Services, services_of
from server.sites.models import Site
from server.sites.store import first_site
from server.web.auth import check_csrf, csrf_token, signed_in
from server.web.templates import templates

COLUMNS = ("name", "status", "channel", "sent", "opened", "replied", "updated_at")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' https: data:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def section_page(
    section: str | None, *, admins: bool = False
) -> Callable[[Callable[[Request, Access], Awaitable[Response]]], Callable[[Request], Awaitable[Response]]]:
    """An HTML page for people with ``section`` (any signed-in person for None; admins
    only with ``admins``): others sign in first, or get the 403 page."""

    def wrap(
        page: Callable[[Request, Access], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(page)
        async def endpoint(request: Request) -> Response:
            try:
                access = await signed_in(request)
            except Unauthorized:
                return RedirectResponse("/login?" + urlencode({"next": request.url.path}), status_code=303)
            if (section is not None and not access.can(section)) or (admins and access.user.role != "admin"):
                return _page("proactive_denied.html", {"user": access.user}, status=403)
            return await page(request, access)

        return endpoint

    return wrap


def admin_page(
    page: Callable[[Request, User], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """A page of the Proactive messages section, given its signed-in user."""

    async def with_user(request: Request, access: Access) -> Response:
        return await page(request, access.user)

    return section_page("proactive")(functools.wraps(page)(with_user))


async def _checked_form(request: Request) -> dict[str, Any]:
    """The posted form, after the CSRF and same-origin checks."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    for key, value in form.multi_items():
        if isinstance(value, str):
            untrusted.check_text(value, key)
    return {k: form.getlist(k) if k in ("collect",) else form.get(k) for k in form}


def _page(name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return HTMLResponse(templates.get_template(name).render(**context), status_code=status, headers=HEADERS)


async def _site(request: Request, services: Services) -> Site:
    key = request.query_params.get("site")

    site = await services.db.read(first_site, key)
    if site is None:
        raise NotFound(f"no site {key!r}", code="site_unknown")
    return site


@admin_page
async def list_page(request: Request, user: User) -> Response:
    services = services_of(request)
    site = await _site(request, services)
    sort = request.query_params.get("sort", "updated_at")
    if sort not in COLUMNS:
        raise InvalidInput(
            f"cannot sort by {sort[:40]!r}; sort by one of {', '.join(COLUMNS)}", code="invalid_sort"
        )
    direction = request.query_params.get("dir", "desc" if sort == "updated_at" else "asc")
    if direction not in ("asc", "desc"):
        raise InvalidInput(f"dir is asc or desc, not {direction[:40]!r}", code="invalid_sort")
    descending = direction == "desc"

    def load(conn: Any) -> tuple[list[Any], dict[str, Any], list[Any]]:
        return (
            store.site_messages(conn, site.id),
            store.counters(conn, site.id),
            site_channels(conn, site.id),
        )

    messages, counts, channels = await services.db.read(load)
    names = {c.id: f"{c.name}" for c in channels}
    rows = []
    for msg in messages:
        c = counts.get(msg.id, {"sent": 0, "opened": 0, "replied": 0, "conversations": 0})
        rows.append(
            {
                "id": msg.id,
                "name": msg.name,
                "status": msg.status,
                "status_label": store.STATUS_LABELS[msg.status],
                "error_reason": msg.error_reason,
                "channel": names.get(msg.channel_id or "", "—"),
                **c,
                "updated_at": msg.updated_at,
                "actions": [a for a in store.ACTIONS[msg.status] if a != "edit"],
                "summary": rules.describe(msg.conditions),
            }
        )

    def key(row: dict[str, Any]) -> Any:
        value = row[sort]
        return value.casefold() if isinstance(value, str) else value

    rows.sort(key=key, reverse=descending)
    return _page(
        "proactive_list.html",
        {
            "user": user,
            "site": site,
            "rows": rows,
            "sort": sort,
            "descending": descending,
            "columns": COLUMNS,
            "csrf": csrf_token(request),
            "done": request.query_params.get("done"),
            "problem": request.query_params.get("problem"),
        },
    )


@admin_page
async def create_page(request: Request, user: User) -> Response:
    services = services_of(request)
    site = await _site(request, services)
    form = await _checked_form(request)
    name = str(form.get("name") or "New proactive message")

    msg = await admin.create_web_draft(services.db, site.id, name)
    return RedirectResponse(f"/admin/proactive/{msg.id}", status_code=303)


def _form_values(form: dict[str, Any]) -> dict[str, Any]:
    """The editor's fields as a message's fields; conditions come as JSON."""
    values: dict[str, Any] = {
        "name": form.get("name") or "",
        "text": form.get("text") or "",
        "followup": form.get("followup") or "",
        "response": form.get("response") or "agent",
        "channel_id": form.get("channel_id") or None,
        "bot_answer_id": form.get("bot_answer_id") or None,
        "collect": list(form.get("collect") or []),
        "tags": [t.strip() for t in str(form.get("tags") or "").split(",") if t.strip()],
        "schedule": form.get("schedule") or "any",
        "frequency": form.get("frequency") or "once_per_visit",
    }
    try:
        values["priority"] = int(str(form.get("priority") or "10"))
    except ValueError:
        values["priority"] = form.get("priority")
    trigger: dict[str, Any] = {"type": form.get("trigger_type") or "page_load"}
    if trigger["type"] in ("time_on_page", "time_on_site"):
        try:
            trigger["seconds"] = int(str(form.get("trigger_seconds") or "0"))
        except ValueError:
            trigger["seconds"] = form.get("trigger_seconds")
    if trigger["type"] == "event":
        trigger["name"] = form.get("trigger_event") or ""
    values["trigger"] = trigger
    raw = str(form.get("conditions") or "").strip() or '{"all": []}'
    try:
        values["conditions"] = untrusted.loads(raw)
    except ParleyError as exc:
        values["conditions"] = {"invalid json": exc.message}
    return values


SERIES = (("sent", "Sent", "#64748b"), ("opened", "Opened", "#2563eb"), ("replied", "Replied", "#15803d"))


def _chart(days: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Bars per day (the last 14 with any showing): sent, opened and replied side by side,
    drawn by the template as SVG; the table below it keeps the exact numbers."""
    if not days:
        return None
    top = max(max(d[key] for key, _, _ in SERIES) for d in days) or 1
    height, bar, gap = 120, 10, 14
    group = bar * len(SERIES) + gap
    bars = []
    for i, d in enumerate(days):
        for j, (key, label, colour) in enumerate(SERIES):
            h = round(d[key] / top * height)
            bars.append(
                {
                    "x": i * group + j * bar,
                    "y": height - h,
                    "h": max(h, 1 if d[key] else 0),
                    "colour": colour,
                    "title": f"{d['day']}: {d[key]} {label.lower()}",
                }
            )
    labels = [{"x": i * group + bar * len(SERIES) / 2, "text": d["day"][5:]} for i, d in enumerate(days)]
    total = {key: sum(d[key] for d in days) for key, _, _ in SERIES}
    summary = ", ".join(f"{total[key]} {label.lower()}" for key, label, _ in SERIES)
    return {
        "width": len(days) * group,
        "height": height,
        "bar": bar,
        "bars": bars,
        "labels": labels,
        "top": top,
        "series": [{"label": label, "colour": colour} for _, label, colour in SERIES],
        "summary": f"Over {len(days)} day{'s' if len(days) > 1 else ''}: {summary}.",
    }


@admin_page
async def edit_page(request: Request, user: User) -> Response:
    services = services_of(request)
    message_id = request.path_params["id"]
    msg = await services.db.read(lambda c: store.message(c, message_id))
    problem = None
    status = 200
    draft: dict[str, Any] | None = None
    if request.method == "POST":
        form = await _checked_form(request)
        draft = _form_values(form)
        try:
            await admin.edit_message(services.db, services.proactive, message_id, msg.site_id, draft or {})
            return RedirectResponse(f"/admin/proactive/{message_id}?saved=1", status_code=303)
        except ParleyError as exc:
            problem, status = exc.message, exc.http_status

    def load(conn: Any) -> dict[str, Any]:
        from server.sites.store import site_by_id

        fresh = store.message(conn, message_id)
        answers = bots.site_answers(conn, fresh.site_id)
        return {
            "msg": fresh,
            "site": site_by_id(conn, fresh.site_id),
            "channels": site_channels(conn, fresh.site_id),
            "answers": [dict(a) for a in answers],
            "counters": store.counters(conn, fresh.site_id).get(fresh.id),
            "daily": store.daily(conn, fresh.id),
            "why_not_live": store.problem(conn, fresh),
        }

    data = await services.db.read(load)
    shown = data["msg"].model_dump()
    if draft is not None:
        shown.update(draft)  # show what was typed, with the problem
    return _page(
        "proactive_edit.html",
        {
            **data,
            "user": user,
            "m": shown,
            "conditions_json": json.dumps(shown["conditions"], indent=2, ensure_ascii=False),
            "problem": problem,
            "saved": request.query_params.get("saved"),
            "csrf": csrf_token(request),
            "actions": [a for a in store.ACTIONS[data["msg"].status] if a != "edit"],
            "fields": [*sorted(rules.FIELDS), "event.NAME", "attribute.KEY"],
            "operators": rules.OPERATOR_LABELS,
            "schema": rules.builder_schema(contact_fields(data["site"].settings)),
            "status_label": store.STATUS_LABELS[data["msg"].status],
            "chart": _chart(data["daily"][-14:]),
        },
        status=status,
    )


@admin_page
async def action_page(request: Request, user: User) -> Response:
    services = services_of(request)
    await _checked_form(request)
    message_id, action = request.path_params["id"], request.path_params["action"]
    msg = await services.db.read(lambda c: store.message(c, message_id))
    from server.sites.store import site_by_id

    site = await services.db.read(lambda c: site_by_id(c, msg.site_id))
    back = {"site": site.key}
    try:
        result = await admin.act(services.db, services.proactive, message_id, msg.site_id, action)
        back["done"] = f"{msg.name}: {store._done(action)}" if action != "delete" else f"{msg.name}: deleted"
        if action == "clone" and result is not None:
            return RedirectResponse(f"/admin/proactive/{result.id}", status_code=303)
    except ParleyError as exc:
        back["problem"] = f"{msg.name}: {exc.message}"
    return RedirectResponse("/admin/proactive?" + urlencode(back), status_code=303)


@admin_page
async def why_page(request: Request, user: User) -> Response:
    services = services_of(request)
    site = await _site(request, services)
    visitor = request.query_params.get("visitor") or None
    test: dict[str, Any] | None = None
    if request.method == "POST":
        form = await _checked_form(request)
        test = {k: v for k, v in form.items() if k not in ("csrf",) and v not in (None, "")}
        extra = str(form.get("extra") or "")
        for line in extra.splitlines():  # event.NAME=3, attribute.plan=pro
            if "=" in line:
                name, value = line.split("=", 1)
                test[name.strip()] = value.strip()
        test.pop("extra", None)
        visitor = None
    checks = None
    problem = None
    if visitor or test is not None:
        try:
            checks = await services.db.read(lambda c: why.explain(c, site, visitor_id=visitor, test=test))
        except ParleyError as exc:
            problem = exc.message
    query = request.query_params.get("q", "")[:200]
    recent = await services.db.read(lambda c: why.recent_visitors(c, site.id, query))
    return _page(
        "proactive_why.html",
        {
            "user": user,
            "site": site,
            "recent": recent,
            "query": query,
            "visitor": visitor,
            "test": test or {},
            "checks": checks,
            "problem": problem,
            "csrf": csrf_token(request),
            "labels": rules.OPERATOR_LABELS,
        },
    )


@admin_page
async def bots_page(request: Request, user: User) -> Response:
    """Bot answers: build (the flow as JSON, outlined), preview, publish and unpublish.
    The page is a shell over the JSON API (``admin/static/bots.js``)."""
    site = await _site(request, services_of(request))
    return _page(
        "bots.html",
        {"user": user, "site": site, "section": "bots", "csrf": csrf_token(request)},
    )
