"""Link references: where a contact came from. A landing page's ``?ref=`` and
``utm_*`` parameters, or a ``ref`` the host site or app passes (``Parley('set',
{ref})``, the SDK's ``set``), make a reference; the contact keeps its first and its
latest, and a conversation keeps the contact's latest when it starts.

A reference is ``{"ref", "utm", "url", "via", "at"}``: ``ref`` the word itself (or
None when only utm parameters came), ``utm`` the campaign's parameters without their
prefix, ``url`` the landing page (None for a ``set``), ``via`` "link" or "set".
Rules and bot branches read ``contact.ref``, ``contact.first_ref`` and
``conversation.ref`` as the reference's word, or its campaign when it has no word.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Connection, select, update

from server.contacts.models import Visitor
from server.errors import InvalidInput
from server.ids import iso

visitors = Visitor.__table__  # type: ignore[attr-defined]

UTM_KEYS = ("source", "medium", "campaign", "term", "content")
MAX_REF = 200
_WORD = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


def utm_of(url: str | None) -> dict[str, str]:
    """utm_source, utm_medium, … of a page's address, without the prefix."""
    if not url:
        return {}
    query = parse_qs(urlsplit(url).query)
    return {k: query[f"utm_{k}"][0][:MAX_REF] for k in UTM_KEYS if query.get(f"utm_{k}")}


def of_link(url: str | None, at: datetime) -> dict[str, Any] | None:
    """The reference a landing page's address carries, or None when it has none."""
    if not url:
        return None
    words = parse_qs(urlsplit(url).query).get("ref") or []
    word = _clean(words[0]) if words else None
    utm = utm_of(url)
    if not (word or utm):
        return None
    return {"ref": word, "utm": utm, "url": url[:2048], "via": "link", "at": iso(at)}


def of_set(raw: Any, at: datetime) -> dict[str, Any]:
    """The reference the host site or app passed with ``set``."""
    word = _clean(raw) if isinstance(raw, str) else None
    if word is None:
        raise InvalidInput(
            f"ref: 1 to {MAX_REF} characters, no control characters", code="invalid_ref", field="ref"
        )
    return {"ref": word, "utm": {}, "url": None, "via": "set", "at": iso(at)}


def word(reference: dict[str, Any] | None) -> str | None:
    """What rules compare: the reference's word, or its campaign (or source)."""
    if not reference:
        return None
    utm = reference.get("utm") or {}
    found = reference.get("ref") or utm.get("campaign") or utm.get("source")
    return str(found) if found else None


def record(conn: Connection, visitor_id: str, reference: dict[str, Any]) -> None:
    """The contact's latest reference from now on, and its first if it had none."""
    conn.execute(update(visitors).where(visitors.c.id == visitor_id).values(latest_ref=reference))
    conn.execute(
        update(visitors)
        .where(visitors.c.id == visitor_id, visitors.c.first_ref.is_(None))
        .values(first_ref=reference)
    )


def latest(conn: Connection, visitor_id: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = conn.execute(
        select(visitors.c.latest_ref).where(visitors.c.id == visitor_id)
    ).scalar()
    return found


def _clean(raw: str) -> str | None:
    text = raw.strip()[:MAX_REF]
    return text if text and _WORD.match(text) else None


def of_contact(conn: Connection, visitor_id: str) -> dict[str, Any]:
    """The contact's first and latest references, as stored."""
    row = conn.execute(
        select(visitors.c.first_ref, visitors.c.latest_ref).where(visitors.c.id == visitor_id)
    ).first()
    return {"first": row.first_ref if row else None, "latest": row.latest_ref if row else None}
