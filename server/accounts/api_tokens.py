"""API tokens: a site's scoped keys for integrations (docs/http-api.md, "API tokens").

A token is ``pat_`` and 43 random characters, shown once when it is made; the database
keeps its SHA-256 and its first characters. Each request made with it is one UPDATE
of its row (``use``): the same statement checks that it is not revoked, counts the use
in the current minute against the token's limit and records its last use, so that a
revoked token fails at once on every process and the limit holds across processes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, insert, select, update

from server import untrusted
from server.accounts.models import API_SCOPES, ApiToken
from server.errors import InvalidInput, LimitExceeded, NotFound, Unauthorized
from server.ids import iso, new_id, utcnow

tokens = ApiToken.__table__  # type: ignore[attr-defined]

PREFIX = "pat_"
MAX_PER_SITE = 50


@dataclass(frozen=True)
class Used:
    """A token that was just used: what it may do, and for which site."""

    id: str
    site_id: str
    name: str
    scopes: frozenset[str]


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    conn: Connection, site_id: str, name: Any, scopes: Any, created_by: str | None
) -> tuple[ApiToken, str]:
    """A new token and its secret (which only this answer holds)."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        raise InvalidInput("name: 1 to 100 characters", code="invalid_name", field="name")
    untrusted.check_text(name, "name")
    if (
        not isinstance(scopes, list)
        or not scopes
        or not all(isinstance(s, str) and s in API_SCOPES for s in scopes)
    ):
        raise InvalidInput(
            f"scopes: a list of at least one of {', '.join(API_SCOPES)}", code="invalid_scope", field="scopes"
        )
    live = conn.execute(
        select(tokens.c.id).where(tokens.c.site_id == site_id, tokens.c.revoked_at.is_(None))
    ).all()
    if len(live) >= MAX_PER_SITE:
        raise LimitExceeded(
            f"a site has at most {MAX_PER_SITE} live tokens; revoke one first", code="too_many_tokens"
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        id=new_id("tok"),
        site_id=site_id,
        name=name.strip(),
        scopes=sorted(set(scopes), key=API_SCOPES.index),
        digest=digest_of(secret),
        hint=secret[: len(PREFIX) + 6],
        created_by=created_by,
    )
    conn.execute(insert(tokens).values(row.model_dump()))
    return row, secret


def listed(conn: Connection, site_id: str) -> list[ApiToken]:
    """The site's tokens, live ones first, newest first."""
    rows = conn.execute(select(tokens).where(tokens.c.site_id == site_id)).mappings().all()
    found = [ApiToken.model_validate(dict(r)) for r in rows]
    return sorted(found, key=lambda t: (t.revoked_at is not None, -t.created_at.timestamp()))


def token(conn: Connection, token_id: str) -> ApiToken:
    row = conn.execute(select(tokens).where(tokens.c.id == token_id)).mappings().first()
    if row is None:
        raise NotFound(f"no API token {token_id!r}", code="token_not_found")
    return ApiToken.model_validate(dict(row))


def revoke(conn: Connection, token_id: str) -> ApiToken:
    """The token revoked (again is a no-op): every later request with it is refused."""
    found = token(conn, token_id)
    if found.revoked_at is None:
        now = utcnow()
        conn.execute(update(tokens).where(tokens.c.id == token_id).values(revoked_at=now))
        found = found.model_copy(update={"revoked_at": now})
    return found


def use(conn: Connection, secret: str, now: datetime, per_minute: int) -> Used:
    """Count one request made with the token; refused when it is unknown or revoked
    (401) or past its limit for this minute (429, with when to retry)."""
    minute = now.replace(second=0, microsecond=0)
    counted = conn.execute(
        update(tokens)
        .where(tokens.c.digest == digest_of(secret), tokens.c.revoked_at.is_(None))
        .values(
            window_uses=case((tokens.c.window_start == minute, tokens.c.window_uses + 1), else_=1),
            window_start=minute,
            last_used_at=now,
        )
        .returning(tokens.c.id, tokens.c.site_id, tokens.c.name, tokens.c.scopes, tokens.c.window_uses)
    ).first()
    if counted is None:
        revoked = conn.execute(select(tokens.c.id).where(tokens.c.digest == digest_of(secret))).first()
        if revoked is not None:
            raise Unauthorized("this API token was revoked", code="token_revoked")
        raise Unauthorized("unknown API token", code="invalid_token")
    if counted.window_uses > per_minute:
        raise LimitExceeded(
            f"this token is limited to {per_minute} requests a minute",
            code="rate_limited",
            retry_after_s=60 - now.second,
        )
    return Used(counted.id, counted.site_id, counted.name, frozenset(counted.scopes))


def public(t: ApiToken) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "scopes": t.scopes,
        "hint": t.hint,
        "created_by": t.created_by,
        "created_at": iso(t.created_at),
        "last_used_at": iso(t.last_used_at),
        "revoked_at": iso(t.revoked_at),
    }
