"""The hot path's SQL: statements written once, run as cheaply as each database allows.

Storing one message takes five statements. Through SQLAlchemy each cost
50 to 200 µs of Python; on SQLite the driver itself needs under 10 µs. So on
SQLite these statements run on the DBAPI connection underneath the
SQLAlchemy one (same connection, same transaction), converting times and
JSON exactly as SQLAlchemy's types store them; on PostgreSQL they run as
prebuilt ``text()`` with typed parameters. The two test stacks run every
path on both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Connection, TextClause, bindparam, text
from sqlmodel.sql.sqltypes import UTCDateTime

from server.db.bulk import sqlite_time

_TS = UTCDateTime()


def _to_sqlite(value: Any, is_time: bool, is_json: bool) -> Any:
    if value is None:
        return None
    if is_time:
        return sqlite_time(value)
    if is_json:
        return json.dumps(value)
    return value


def _from_sqlite_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class Statement:
    sql: str  # with :name parameters
    times: tuple[str, ...] = ()  # parameters and result columns that are timestamps
    json_params: tuple[str, ...] = ()
    postgres_suffix: str = ""  # e.g. " FOR UPDATE"
    _text: TextClause = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        clause = text(self.sql + self.postgres_suffix)
        binds = [bindparam(n, type_=_TS) for n in self.times if f":{n}" in self.sql]
        binds += [bindparam(n, type_=JSON) for n in self.json_params]
        if binds:
            clause = clause.bindparams(*binds)
        if self.sql.lstrip().upper().startswith("SELECT") and self.times:
            clause = clause.columns(**{n: _TS for n in self.times})  # type: ignore[assignment]
        object.__setattr__(self, "_text", clause)

    def rows(self, conn: Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
        if conn.dialect.name != "sqlite":
            result = conn.execute(self._text, params)
            return [dict(row) for row in result.mappings()] if result.returns_rows else []
        raw = conn.connection.driver_connection
        assert raw is not None
        cursor = raw.execute(
            self.sql,
            {k: _to_sqlite(v, k in self.times, k in self.json_params) for k, v in params.items()},
        )
        if cursor.description is None:
            return []
        names = [column[0] for column in cursor.description]
        out = []
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            for name in self.times:
                if row.get(name) is not None:
                    row[name] = _from_sqlite_time(row[name])
            out.append(row)
        return out

    def first(self, conn: Connection, params: dict[str, Any]) -> dict[str, Any] | None:
        found = self.rows(conn, params)
        return found[0] if found else None

    def run(self, conn: Connection, params: dict[str, Any]) -> None:
        self.rows(conn, params)


_CONVERSATION = (
    "SELECT id, site_id, visitor_id, status, assignee_id, last_seq, visitor_read_seq, agent_read_seq, "
    "last_visitor_seq, last_agent_seq, last_preview, channel_id, snoozed_until, bot_active, "
    "created_at, last_activity_at, closed_at, closed_by FROM conversations WHERE id = :id"
)
# SQLite has one writer at a time, so its plain SELECT is already a lock.
LOCK_CONVERSATION = Statement(
    _CONVERSATION,
    times=("created_at", "last_activity_at", "closed_at", "snoozed_until"),
    postgres_suffix=" FOR UPDATE",
)
MESSAGE_BY_CLIENT_ID = Statement(
    "SELECT id, conversation_id, seq, author_type, author_id, client_id, created_at FROM messages "
    "WHERE conversation_id = :conversation_id AND client_id = :client_id",
    times=("created_at",),
)
VISITOR_MESSAGE_BY_CLIENT_ID = Statement(
    "SELECT m.id, m.conversation_id, m.seq, m.author_type, m.author_id, m.client_id, m.created_at "
    "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
    "WHERE c.visitor_id = :visitor_id AND m.client_id = :client_id",
    times=("created_at",),
)
ACTIVE_CONVERSATION = Statement(
    "SELECT id FROM conversations WHERE visitor_id = :visitor_id AND status != 'closed'"
)
LATEST_CONVERSATION = Statement(
    "SELECT id FROM conversations WHERE visitor_id = :visitor_id AND channel_id = :channel_id "
    "ORDER BY last_activity_at DESC LIMIT 1"
)
INSERT_MESSAGE = Statement(
    "INSERT INTO messages (id, conversation_id, seq, author_type, author_id, client_id, text, created_at, "
    "attachments, buttons) VALUES (:id, :conversation_id, :seq, :author_type, :author_id, :client_id, :text, "
    ":created_at, :attachments, :buttons)",
    times=("created_at",),
    json_params=("attachments", "buttons"),
)
INSERT_EVENT = Statement(
    "INSERT INTO conversation_events (conversation_id, seq, type, message_id, data, created_at) "
    "VALUES (:conversation_id, :seq, :type, :message_id, :data, :created_at)",
    times=("created_at",),
    json_params=("data",),
)
UPDATE_CONVERSATION = Statement(
    "UPDATE conversations SET status = :status, assignee_id = :assignee_id, last_seq = :last_seq, "
    "visitor_read_seq = :visitor_read_seq, agent_read_seq = :agent_read_seq, "
    "last_visitor_seq = :last_visitor_seq, last_agent_seq = :last_agent_seq, last_preview = :last_preview, "
    "last_activity_at = :last_activity_at, closed_at = :closed_at, closed_by = :closed_by, "
    "snoozed_until = :snoozed_until, bot_active = :bot_active WHERE id = :id",
    times=("last_activity_at", "closed_at", "snoozed_until"),
)
