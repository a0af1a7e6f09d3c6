"""Sites: create and look up."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Connection, insert, select, update

from server.errors import InvalidInput, NotFound
from server.sites.models import Site
from server.sites.origins import normalize_domain

sites = Site.__table__  # type: ignore[attr-defined]

DEFAULT_SETTINGS: dict[str, Any] = {
    # Mobile SDKs send no Origin header; browsers always do.
    "allow_originless": True,
}


def create_site(
    conn: Connection,
    *,
    name: str,
    allowed_domains: list[str],
    key: str | None = None,
    settings: dict[str, Any] | None = None,
) -> Site:
    try:
        domains = [normalize_domain(d) for d in allowed_domains]
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_domain") from None
    site = Site(
        key=key or secrets.token_urlsafe(12),
        name=name,
        allowed_domains=domains,
        settings={**DEFAULT_SETTINGS, **(settings or {})},
        identity_secret=secrets.token_urlsafe(32),
    )
    conn.execute(insert(sites).values(site.model_dump()))
    return site


def site_by_key(conn: Connection, key: str) -> Site | None:
    row = conn.execute(select(sites).where(sites.c.key == key)).mappings().first()
    return Site.model_validate(dict(row)) if row else None


def site_by_id(conn: Connection, site_id: str) -> Site:
    row = conn.execute(select(sites).where(sites.c.id == site_id)).mappings().first()
    if row is None:
        raise NotFound(f"no site {site_id!r}", code="site_not_found")
    return Site.model_validate(dict(row))


def update_widget_settings(conn: Connection, key: str, changes: dict[str, Any]) -> Site:
    site = site_by_key(conn, key)
    if site is None:
        raise NotFound(f"no site {key!r}", code="site_unknown")
    settings = {**site.settings, "widget": {**(site.settings.get("widget") or {}), **changes}}
    conn.execute(update(sites).where(sites.c.id == site.id).values(settings=settings))
    return site.model_copy(update={"settings": settings})
