from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from server.ids import new_id, utcnow

Role = Literal["admin", "agent"]
ROLES: tuple[str, ...] = ("admin", "agent")
# The parts of the workspace a role may use. Admins use all of them; an agent
# uses Conversations and Contacts unless an admin grants more.
SECTIONS: tuple[str, ...] = ("conversations", "contacts", "proactive", "settings")
AGENT_SECTIONS: tuple[str, ...] = ("conversations", "contacts")


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(default_factory=lambda: new_id("usr"), primary_key=True, max_length=40)
    email: str = Field(index=True, unique=True, max_length=254)
    name: str = Field(max_length=200)
    # Shown beside the agent's messages in the widget; initials when unset.
    avatar_url: str | None = Field(default=None, max_length=2048)
    role: str = Field(default="agent", max_length=20)
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    # Bumped on password change or disable: every session signed with an
    # older version stops working.
    session_version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    # Agents only (admins have every section); empty means AGENT_SECTIONS.
    sections: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # False: the agent sees only the channels granted in user_channels.
    all_channels: bool = Field(default=True)
    # Round-robin routing hands the next conversation to whoever waited longest.
    last_routed_at: datetime | None = Field(default=None)


class UserChannel(SQLModel, table=True):
    """A channel an agent without ``all_channels`` may see and answer."""

    __tablename__ = "user_channels"

    user_id: str = Field(foreign_key="users.id", primary_key=True, max_length=40)
    channel_id: str = Field(
        sa_column=Column(String(40), ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    )


class LoginFailure(SQLModel, table=True):
    """A failed sign-in, kept for the throttle's window (shared by every server process)."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_email_at", "email", "at"),
        Index("ix_login_failures_ip_at", "ip", "at"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    email: str = Field(max_length=254)
    ip: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow)


class AgentPresence(SQLModel, table=True):
    """How many workspace sockets a user has open on one server process; routing
    picks only agents seen recently (a dead process's rows go stale)."""

    __tablename__ = "agent_presence"

    user_id: str = Field(foreign_key="users.id", primary_key=True, max_length=40)
    process_id: str = Field(primary_key=True, max_length=40)
    sockets: int = Field(default=0)
    seen_at: datetime = Field(default_factory=utcnow)


class Session(SQLModel, table=True):
    """One sign-in. The cookie names it, so signing out ends just this one, on
    every process at once; a password change or disable still ends them all
    (``users.session_version``)."""

    __tablename__ = "sessions"

    id: str = Field(default_factory=lambda: new_id("ses"), primary_key=True, max_length=40)
    user_id: str = Field(
        sa_column=Column(String(40), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    created_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = Field(default=None)


# What an API token may be allowed (server/accounts/api_tokens.py): a section's reads or
# writes, and the webhooks of its site.
API_SCOPES: tuple[str, ...] = (
    "contacts:read",
    "contacts:write",
    "conversations:read",
    "conversations:write",
    "proactive:read",
    "webhooks:manage",
)


class ApiToken(SQLModel, table=True):
    """A site's key for an integration, sent as ``Authorization: Bearer``. Only its
    SHA-256 is kept (the token is 256 random bits, so a fast hash is enough) and its
    first characters, to tell tokens apart. Each use counts in the minute it falls in,
    in the row itself, so that every server process sees the same count."""

    __tablename__ = "api_tokens"

    id: str = Field(default_factory=lambda: new_id("tok"), primary_key=True, max_length=40)
    site_id: str = Field(foreign_key="sites.id", index=True, max_length=40)
    name: str = Field(max_length=100)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    digest: str = Field(unique=True, index=True, max_length=64)
    hint: str = Field(max_length=16)
    created_by: str | None = Field(default=None, max_length=40)  # a user's id; None: the command line
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = Field(default=None)
    revoked_at: datetime | None = Field(default=None)
    window_start: datetime | None = Field(default=None)  # the minute being counted
    window_uses: int = Field(default=0)
