from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from server.ids import new_id, utcnow


class Site(SQLModel, table=True):
    __tablename__ = "sites"

    id: str = Field(default_factory=lambda: new_id("site"), primary_key=True, max_length=40)
    # Public: it sits in every page's script tag.
    key: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=200)
    allowed_domains: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Private: signs identify() calls (identity verification); never sent to a browser.
    identity_secret: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
