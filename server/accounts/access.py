"""Who may do what: a role's sections, and the channels whose conversations an agent sees.

Every HTTP endpoint and the agent socket ask the same ``Access``, so the two can
never disagree about what a user may see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from server.accounts.models import AGENT_SECTIONS, SECTIONS, User, UserChannel
from server.errors import Forbidden

grants = UserChannel.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Access:
    user: User
    sections: frozenset[str]
    # None: every channel (admins, and agents with all_channels).
    channels: frozenset[str] | None

    def can(self, section: str) -> bool:
        return section in self.sections

    def require(self, section: str) -> None:
        if section not in self.sections:
            raise Forbidden(
                f"your role does not include {section.capitalize()}; ask an admin", code="section_forbidden"
            )

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


def grant_channels(conn: Connection, user_id: str, channel_ids: Iterable[str]) -> None:
    conn.execute(delete(grants).where(grants.c.user_id == user_id))
    rows = [{"user_id": user_id, "channel_id": c} for c in dict.fromkeys(channel_ids)]
    if rows:
        conn.execute(insert(grants), rows)
