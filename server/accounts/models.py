from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlmodel import Field, SQLModel

from server.ids import new_id, utcnow

Role = Literal["admin", "agent"]
ROLES: tuple[str, ...] = ("admin", "agent")


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
