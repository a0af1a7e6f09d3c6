"""Bot answers: created, listed, their drafts saved and published, deleted.

A draft is edited freely (and validated on every save); publishing copies it
into a new numbered version, which is what new runs use. Runs already going
keep their version.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from server.bots import flows
from server.bots.models import BotAnswer, BotAnswerVersion, BotRun
from server.channels.store import site_channel_ids
from server.conversations.models import Conversation
from server.db import rows
from server.errors import InvalidInput
from server.ids import utcnow

answers = BotAnswer.__table__  # type: ignore[attr-defined]
versions = BotAnswerVersion.__table__  # type: ignore[attr-defined]
runs = BotRun.__table__  # type: ignore[attr-defined]
conversations = Conversation.__table__  # type: ignore[attr-defined]

# What a new answer starts as: valid, and useful (it hands over to a person).
STARTER: dict[str, Any] = {
    "start": "hello",
    "steps": {"hello": {"type": "handoff", "text": "Let me find someone to help you."}},
}


def check(conn: Connection, site_id: str, flow: Any) -> dict[str, Any]:
    return flows.validate(flow, channel_ids=site_channel_ids(conn, site_id))


def create_answer(conn: Connection, site_id: str, name: str, published: bool = False) -> BotAnswer:
    if not 1 <= len(name.strip()) <= 100:
        raise InvalidInput("name: 1 to 100 characters", code="invalid_message", field="name")
    answer = BotAnswer(site_id=site_id, name=name.strip(), draft=STARTER)
    conn.execute(insert(answers).values(answer.model_dump()))
    if published:
        answer.version = publish(conn, answer.id, site_id)
        answer.published = True
    return answer


def site_answers(conn: Connection, site_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(answers).where(answers.c.site_id == site_id).order_by(answers.c.name))
    return [public(dict(r)) for r in rows.mappings()]


def site_of(conn: Connection, answer_id: str) -> str:
    return rows.site_of(conn, answers, answer_id, what="bot_answer")


def answer(conn: Connection, answer_id: str, site_id: str) -> BotAnswer:
    return BotAnswer.model_validate(rows.of_site(conn, answers, answer_id, site_id, what="bot_answer"))


def answer_public(conn: Connection, answer_id: str) -> dict[str, Any]:
    return public(dict(conn.execute(select(answers).where(answers.c.id == answer_id)).mappings().one()))


def unpublish(conn: Connection, answer_id: str, site_id: str) -> BotAnswer:
    """New runs stop starting it; returns the answer as it was."""
    found = answer(conn, answer_id, site_id)
    conn.execute(update(answers).where(answers.c.id == found.id).values(published=False))
    return found


def delete_answer(conn: Connection, answer_id: str, site_id: str) -> BotAnswer:
    """Its runs stop (their conversations wait for agents); returns what it was."""
    found = answer(conn, answer_id, site_id)
    forget(conn, found.id)
    conn.execute(delete(answers).where(answers.c.id == found.id))
    return found


def save_draft(conn: Connection, answer_id: str, site_id: str, changes: dict[str, Any]) -> None:
    values: dict[str, Any] = {}
    if "flow" in changes:
        values["draft"] = check(conn, site_id, changes["flow"])
    if "bot_name" in changes:
        name = changes["bot_name"]
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 60:
            raise InvalidInput("bot_name: 1 to 60 characters", code="invalid_input", field="bot_name")
        values["bot_name"] = name.strip()
    if "name" in changes:
        name = changes["name"]
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
            raise InvalidInput("name: 1 to 100 characters", code="invalid_input", field="name")
        values["name"] = name.strip()
    if values:
        values["updated_at"] = utcnow()
        conn.execute(update(answers).where(answers.c.id == answer_id).values(**values))


def publish(conn: Connection, answer_id: str, site_id: str) -> int:
    """The draft, validated again (a channel may have gone), as the next version."""
    draft = conn.execute(select(answers.c.draft).where(answers.c.id == answer_id)).scalar_one()
    flow = check(conn, site_id, draft or STARTER)
    last = conn.execute(
        select(func.max(versions.c.version)).where(versions.c.answer_id == answer_id)
    ).scalar()
    version = (last or 0) + 1
    conn.execute(
        insert(versions).values(answer_id=answer_id, version=version, flow=flow, published_at=utcnow())
    )
    conn.execute(
        update(answers)
        .where(answers.c.id == answer_id)
        .values(published=True, version=version, updated_at=utcnow())
    )
    return version


def forget(conn: Connection, answer_id: str) -> None:
    """Before an answer is deleted: its runs stop (their conversations wait for agents)."""
    ids = [r[0] for r in conn.execute(select(runs.c.conversation_id).where(runs.c.answer_id == answer_id))]
    if ids:
        conn.execute(update(conversations).where(conversations.c.id.in_(ids)).values(bot_active=False))
    conn.execute(delete(runs).where(runs.c.answer_id == answer_id))
    conn.execute(delete(versions).where(versions.c.answer_id == answer_id))


def public(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "bot_name": row.get("bot_name") or "Bot",
        "published": row["published"],
        "version": row.get("version") or 0,
        "draft": row.get("draft") or STARTER,
        "created_at": str(row["created_at"]),
        "updated_at": str(row.get("updated_at") or row["created_at"]),
    }
