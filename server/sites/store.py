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


def update_settings(conn: Connection, site_id: str, section: str | None, changes: dict[str, Any]) -> Site:
    """Merge ``changes`` into one section of the site's settings (or the top level, for
    ``section`` None): the one place their JSON is read, changed and written back, with
    the row locked so two processes never lose each other's change."""
    row = conn.execute(select(sites).where(sites.c.id == site_id).with_for_update()).mappings().first()
    if row is None:
        raise NotFound(f"no site {site_id!r}", code="site_not_found")
    site = Site.model_validate(dict(row))
    current = dict(site.settings or {})
    if section is None:
        settings = {**current, **changes}
    else:
        settings = {**current, section: {**(current.get(section) or {}), **changes}}
    conn.execute(update(sites).where(sites.c.id == site.id).values(settings=settings))
    return site.model_copy(update={"settings": settings})


def first_site(conn: Connection, key: str | None = None) -> Site | None:
    """The site with this key, or the oldest site."""
    query = select(sites).order_by(sites.c.created_at)
    if key:
        query = query.where(sites.c.key == key)
    row = conn.execute(query.limit(1)).mappings().first()
    return Site.model_validate(dict(row)) if row else None
