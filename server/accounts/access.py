"""Who may do what: a role's sections, and the channels whose conversations an agent sees.

Every HTTP endpoint and the agent socket ask the same ``Access``, so the two can
never disagree about what a user may see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from server.accounts.api_tokens import Used
from server.accounts.models import AGENT_SECTIONS, SECTIONS, User, UserChannel
from server.errors import Forbidden

grants = UserChannel.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Access:
    """What a signed-in person, or an API token, may do. A token's ``user`` is not a
    teammate but the token itself (``token_user``): routes that accept tokens
    (``signed_in(..., tokens=True)``) record it as an "api" actor and check its site."""

    user: User
    sections: frozenset[str]
    # None: every channel (admins, and agents with all_channels).
    channels: frozenset[str] | None
    token: Used | None = None

    def can(self, section: str) -> bool:
        return section in self.sections

    def require(self, section: str) -> None:
        if section not in self.sections:
            raise Forbidden(
                f"your role does not include {section.capitalize()}; ask an admin", code="section_forbidden"
            )

    def require_site(self, site_id: str) -> None:
        """Refuse (403 ``token_site``) a token used on another site than its own."""
        if self.token is not None and self.token.site_id != site_id:
            raise Forbidden("this API token belongs to another site", code="token_site")

    def require_admin(self, what: str) -> None:
        """Refuse (403 ``admins_only``) anyone but an admin; ``what`` is what they tried."""
        if self.user.role != "admin":
            raise Forbidden(f"only admins {what}", code="admins_only")

    def sees(self, channel_id: str | None) -> bool:
        return self.channels is None or channel_id in self.channels

    def check(self, conversation: dict[str, Any]) -> None:
        """Refuse a conversation of a channel the user was not granted."""
        if not self.sees(conversation.get("channel_id")):
            raise Forbidden(
                "you do not have access to this conversation's channel",
                code="channel_forbidden",
                conversation_id=conversation["id"],
            )

    def public(self) -> dict[str, Any]:
        return {
            "sections": sorted(self.sections),
            "channels": None if self.channels is None else sorted(self.channels),
        }


def sections_of(user: User) -> frozenset[str]:
    if user.role == "admin":
        return frozenset(SECTIONS)
    return frozenset(user.sections or AGENT_SECTIONS)


def channels_of(conn: Connection, user: User) -> frozenset[str] | None:
    if user.role == "admin" or user.all_channels:
        return None
    return frozenset(
        r[0] for r in conn.execute(select(grants.c.channel_id).where(grants.c.user_id == user.id))
    )


def access_of(conn: Connection, user: User) -> Access:
    return Access(user, sections_of(user), channels_of(conn, user))


def token_access(used: Used, section: str, write: bool) -> Access:
    """A token's access to one section, refused (403 ``scope_missing``) without the
    scope its reads or writes need."""
    scope = f"{section}:{'write' if write else 'read'}"
    if scope not in used.scopes:
        raise Forbidden(f"this API token lacks the {scope} scope", code="scope_missing", scope=scope)
    return Access(token_user(used), frozenset({section}), None, used)


def token_user(used: Used) -> User:
    """The token as the one acting: not a row of users, never an admin."""
    return User(id=used.id, email="", name=used.name, role="api", password_hash="")


def grant_channels(conn: Connection, user_id: str, channel_ids: Iterable[str]) -> None:
    conn.execute(delete(grants).where(grants.c.user_id == user_id))
    rows = [{"user_id": user_id, "channel_id": c} for c in dict.fromkeys(channel_ids)]
    if rows:
        conn.execute(insert(grants), rows)
