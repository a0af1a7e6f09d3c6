"""What happens without an agent: greeting and away messages, routing, and bots' turns.

Each function runs inside the transaction of the store function that calls it,
appending to the same ``Appender``, so these events follow the visitor's
message in sequence and commit with it.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from server.bots import flows, runtime
from server.conversations import workflow
from server.conversations.events import Appender, Author, author_data, status_data
from server.conversations.models import Conversation
from server.ids import new_id

conversations = Conversation.__table__  # type: ignore[attr-defined]

ROUTING = Author("system", None, "Routing")


def system_message(appender: Appender, text: str, kind: str) -> None:
    message = {
        "id": new_id("msg"),
        "author_type": "system",
        "author_id": None,
        "client_id": f"{kind}.{appender.state['last_seq'] + 1}",
        "text": text,
    }
    appender.append("message.created", {"author_name": None, "kind": kind}, message)


def arrival(appender: Appender, conn: Connection, *, greet: bool) -> None:
    """A conversation a visitor just started or reopened: a greeting (text or bot),
    an away message (text or bot) outside business hours, then routing."""
    policy = workflow.site_policy(conn, appender.state["site_id"])
    outside = policy.has_hours and not policy.hours.open_at(appender.now)
    if outside and policy.away_bot and start_bot(appender, conn, policy.away_bot, now=True):
        return
    if greet and policy.greeting_bot and start_bot(appender, conn, policy.greeting_bot, now=True):
        return
    if greet and policy.greeting:
        system_message(appender, policy.greeting, "greeting")
    away = workflow.away_text(policy, appender.now)
    if away:
        system_message(appender, away, "away")
    route(appender, conn, policy.routing)


def route(appender: Appender, conn: Connection, routing: str) -> None:
    if appender.state["assignee_id"] is None:
        picked = workflow.pick_agent(
            conn, channel_id=appender.state["channel_id"], routing=routing, now=appender.now
        )
        if picked is not None:
            appender.set(assignee_id=picked)
            appender.append("conversation.updated", status_data(appender.state, ROUTING))


def add_tags(conn: Connection, conversation_id: str, tags: list[str]) -> list[str]:
    """The conversation's tags with these added (in order, once each)."""
    current = conn.execute(
        select(conversations.c.tags).where(conversations.c.id == conversation_id)
    ).scalar_one()
    merged = list(dict.fromkeys([*(current or []), *tags]))
    if merged != (current or []):
        conn.execute(update(conversations).where(conversations.c.id == conversation_id).values(tags=merged))
    return merged


# -- bots (server/bots): their turns run inside the conversation's transaction ----------


def tags_of(conn: Connection, conversation_id: str) -> list[str]:
    found = conn.execute(select(conversations.c.tags).where(conversations.c.id == conversation_id)).scalar()
    return list(found or [])


def start_bot(appender: Appender, conn: Connection, answer_id: str, *, now: bool) -> bool:
    """Start a published bot answer here: at once, or at the visitor's next message
    (``now=False``). False when the answer is unpublished or gone."""
    found = runtime.published(conn, answer_id)
    if found is None:
        return False
    version, flow, name = found
    if now:
        contact = runtime.contact_of(conn, appender.state["visitor_id"], tags_of(conn, appender.state["id"]))
        bot_apply(appender, conn, answer_id, version, name, flows.start(flow, contact))
    else:
        fresh = flows.Outcome(state={"step": flow["start"], "answers": {}, "retries": 0, "fresh": True})
        runtime.save(conn, appender.state["id"], answer_id, version, fresh, appender.now)
        appender.set(bot_active=True)
    return True


def bot_turn(appender: Appender, conn: Connection, text: str | None, *, woke: bool = False) -> bool:
    """The bot's answer to a visitor's message (or to its wait ending); False: no bot here."""
    if not appender.state.get("bot_active"):
        # The locked row says whether a run is active (kept in the same transactions
        # as bot_runs), so most messages, with no bot, cost no extra query.
        return False
    run = runtime.active_run(conn, appender.state["id"])
    if run is None:
        return False
    if run["status"] == "waiting_time" and not woke:
        return True  # the bot is pausing; the message waits for it, or for an agent
    flow, name = runtime.flow_of(conn, run)
    contact = runtime.contact_of(conn, appender.state["visitor_id"], tags_of(conn, appender.state["id"]))
    state = dict(run["state"])
    if state.pop("fresh", False) and not (text and flows.wants_human(text)):
        outcome = flows.start(flow, contact)
    else:
        outcome = flows.advance(flow, state, contact, text)
    bot_apply(appender, conn, run["answer_id"], run["version"], name, outcome)
    return True


def bot_apply(
    appender: Appender, conn: Connection, answer_id: str, version: int, name: str, outcome: flows.Outcome
) -> None:
    cid = appender.state["id"]
    bot = Author("bot", answer_id, name)
    for said in outcome.say:
        message = {
            "id": new_id("msg"),
            "author_type": "bot",
            "author_id": answer_id,
            "client_id": f"bot.{appender.state['last_seq'] + 1}",
            "text": said["text"],
            "buttons": said.get("buttons", []),
        }
        appender.append("message.created", author_data(bot), message)
    runtime.learn(conn, appender.state["visitor_id"], outcome.contact)
    tags = outcome.tags + ((outcome.handoff or {}).get("tags") or [])
    if tags:
        appender.state["tags"] = add_tags(conn, cid, tags)
    runtime.save(conn, cid, answer_id, version, outcome, appender.now)
    appender.set(bot_active=outcome.status in runtime.ACTIVE)
    if outcome.handoff is not None:
        channel = outcome.handoff.get("channel_id")
        if channel and channel != appender.state["channel_id"]:
            conn.execute(update(conversations).where(conversations.c.id == cid).values(channel_id=channel))
            appender.state["channel_id"] = channel
        data = {
            **status_data(appender.state, bot),
            "handoff": True,
            "channel_id": appender.state["channel_id"],
        }
        if "tags" in appender.state:
            data["tags"] = appender.state["tags"]
        appender.append("conversation.updated", data)
        route(appender, conn, workflow.site_policy(conn, appender.state["site_id"]).routing)
