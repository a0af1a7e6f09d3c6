"""A site's channels: created with the site, listed, changed, deleted.

Deleting or disabling a channel is a change other parts react to (proactive
messages that go through it stop); the caller composes that reaction into
the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from server.channels.models import Channel
from server.db import rows
from server.errors import InvalidInput
from server.sites.models import Site
from server.sites.store import create_site

channels = Channel.__table__  # type: ignore[attr-defined]

EDITABLE = frozenset({"enabled", "sender_name", "sender_avatar_url", "name"})


def create_channels(conn: Connection, site: Site) -> None:
    """A new site's web widget and mobile SDK channels."""
    for kind, label in (("web", "Web widget"), ("sdk", "Mobile SDK")):
        channel = Channel(site_id=site.id, kind=kind, name=label, sender_name=site.name)
        conn.execute(insert(channels).values(channel.model_dump()))


def open_site(conn: Connection, **fields: Any) -> Site:
    """A new site with its channels (``fields`` as for ``sites.store.create_site``)."""
    site = create_site(conn, **fields)
    create_channels(conn, site)
    return site


def site_channels(conn: Connection, site_id: str) -> list[Channel]:
    rows = conn.execute(
        select(channels).where(channels.c.site_id == site_id).order_by(channels.c.kind)
    ).mappings()
    return [Channel.model_validate(dict(r)) for r in rows]


def site_channel_ids(conn: Connection, site_id: str) -> set[str]:
    return {r[0] for r in conn.execute(select(channels.c.id).where(channels.c.site_id == site_id))}


def site_of(conn: Connection, channel_id: str) -> str:
    return rows.site_of(conn, channels, channel_id, what="channel")


def channel(conn: Connection, channel_id: str, site_id: str) -> Channel:
    return Channel.model_validate(rows.of_site(conn, channels, channel_id, site_id, what="channel"))


def update_channel(conn: Connection, channel_id: str, site_id: str, changes: dict[str, Any]) -> Channel:
    """Change a channel; returns it as it was before."""
    found = channel(conn, channel_id, site_id)
    if set(changes) - EDITABLE:
        raise InvalidInput(f"a channel has only {', '.join(sorted(EDITABLE))}", code="invalid_input")
    conn.execute(update(channels).where(channels.c.id == found.id).values(**changes))
    return found


def delete_channel(conn: Connection, channel_id: str, site_id: str) -> Channel:
    """Delete a channel; returns what it was."""
    found = channel(conn, channel_id, site_id)
    conn.execute(delete(channels).where(channels.c.id == found.id))
    return found
