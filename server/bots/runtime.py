"""Running bot answers in conversations.

Everything here runs inside the transaction of the conversation's store
function that called it (a visitor's message, a proactive handoff, a wait
ending): the run's state, the bot's messages and the contact's new details
commit together, so a crash or a restart never leaves a flow half-stepped, and
the next message or the housekeeper resumes it from its stored step.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from server.bots import flows
from server.bots.models import BotAnswer, BotAnswerVersion, BotRun
from server.contacts import fields, refs
from server.contacts.models import Visitor
from server.contacts.search import index_visitor
from server.conversations.models import Conversation
from server.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)

runs = BotRun.__table__  # type: ignore[attr-defined]
versions = BotAnswerVersion.__table__  # type: ignore[attr-defined]
answers = BotAnswer.__table__  # type: ignore[attr-defined]
visitors = Visitor.__table__  # type: ignore[attr-defined]
conversations = Conversation.__table__  # type: ignore[attr-defined]

ACTIVE = ("waiting_input", "waiting_time")


def published(conn: Connection, answer_id: str) -> tuple[int, dict[str, Any], str] | None:
    """The answer's published version, flow and bot name; None when unpublished or gone."""
    row = conn.execute(
        select(answers.c.published, answers.c.version, answers.c.bot_name).where(answers.c.id == answer_id)
    ).first()
    if row is None or not row.published or not row.version:
        return None
    flow = conn.execute(
        select(versions.c.flow).where(versions.c.answer_id == answer_id, versions.c.version == row.version)
    ).scalar()
    return (row.version, flow, row.bot_name) if flow else None


def active_run(conn: Connection, conversation_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(runs).where(runs.c.conversation_id == conversation_id)).mappings().first()
    return dict(row) if row and row["status"] in ACTIVE else None


def flow_of(conn: Connection, run: dict[str, Any]) -> tuple[dict[str, Any], str]:
    flow = conn.execute(
        select(versions.c.flow).where(
            versions.c.answer_id == run["answer_id"], versions.c.version == run["version"]
        )
    ).scalar()
    if flow is None:
        raise NotFound("the bot answer's version is gone", code="bot_answer_not_found")
    name = conn.execute(select(answers.c.bot_name).where(answers.c.id == run["answer_id"])).scalar()
    return flow, name or "Bot"


def contact_of(
    conn: Connection, visitor_id: str, tags: list[str], conversation_id: str | None = None
) -> flows.Contact:
    row = conn.execute(
        select(
            visitors.c.name, visitors.c.email, visitors.c.phone, visitors.c.attributes, visitors.c.site_id,
            visitors.c.first_ref, visitors.c.latest_ref,
        ).where(visitors.c.id == visitor_id)
    ).first()  # fmt: skip
    if row is None:
        return flows.Contact(tags=list(tags))
    defined = {f.key: f for f in fields.definitions(conn, row.site_id)}
    known = {
        "contact.ref": refs.word(row.latest_ref),
        "contact.first_ref": refs.word(row.first_ref),
        "conversation.ref": refs.word(
            conn.execute(select(conversations.c.ref).where(conversations.c.id == conversation_id)).scalar()
            if conversation_id
            else None
        ),
    }
    return flows.Contact(
        row.name, row.email, row.phone, dict(row.attributes or {}), list(tags), defined, known
    )


def learn(conn: Connection, visitor_id: str, changes: dict[str, Any]) -> None:
    """What the flow collected, onto the contact (and into search)."""
    if not changes:
        return
    row = conn.execute(
        select(
            visitors.c.name, visitors.c.email, visitors.c.phone, visitors.c.attributes, visitors.c.site_id
        ).where(visitors.c.id == visitor_id)
    ).first()
    if row is None:
        return
    values: dict[str, Any] = {k: v for k, v in changes.items() if k in flows.FIELDS}
    if "email" in values:
        values["email"] = values["email"].strip().lower()
    if "phone" in values:
        values["phone_digits"] = "".join(ch for ch in values["phone"] if ch.isdigit())[:20]
    if changes.get("attributes"):
        values["attributes"] = {
            **(row.attributes or {}),
            **_fitting(conn, row.site_id, changes["attributes"]),
        }
    conn.execute(update(visitors).where(visitors.c.id == visitor_id).values(**values))
    if any(k in values for k in flows.FIELDS):
        index_visitor(
            conn,
            visitor_id,
            values.get("name", row.name),
            values.get("email", row.email),
            values.get("phone", row.phone),
        )


def _fitting(conn: Connection, site_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """A flow's attributes with each custom field's value stored by its type; a value the
    field refuses is left out (a bot's run never fails on it)."""
    kept: dict[str, Any] = {}
    defined = {f.key: f for f in fields.definitions(conn, site_id)}
    for key, value in attributes.items():
        try:
            kept[key] = fields.value_of(defined[key], value) if key in defined else value
        except InvalidInput:
            log.warning("a bot's value for field %s is not a %s; left out", key, defined[key].type)
    return {k: v for k, v in kept.items() if v is not None}


def save(
    conn: Connection,
    conversation_id: str,
    answer_id: str,
    version: int,
    outcome: flows.Outcome,
    now: datetime,
) -> None:
    wake = (
        now + timedelta(seconds=outcome.wait_s)
        if outcome.status == "waiting_time" and outcome.wait_s
        else None
    )
    conn.execute(delete(runs).where(runs.c.conversation_id == conversation_id))
    conn.execute(
        insert(runs).values(
            conversation_id=conversation_id,
            answer_id=answer_id,
            version=version,
            state=outcome.state,
            status=outcome.status,
            wake_at=wake,
            updated_at=now,
        )
    )


def due(conn: Connection, now: datetime, limit: int = 100) -> list[str]:
    """Conversations whose bot wait has ended."""
    return [
        r[0]
        for r in conn.execute(
            select(runs.c.conversation_id)
            .where(runs.c.status == "waiting_time", runs.c.wake_at <= now)
            .limit(limit)
        )
    ]


def stop(conn: Connection, conversation_id: str) -> None:
    """An agent took over (wrote, or the conversation closed): the bot says no more."""
    conn.execute(
        update(runs)
        .where(runs.c.conversation_id == conversation_id, runs.c.status.in_(ACTIVE))
        .values(status="ended", wake_at=None)
    )
