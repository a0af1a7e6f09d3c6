"""Bots' turns inside a conversation's transaction: started by a greeting, an away
message or a proactive message, answering the visitor's messages, waking after a
wait. Registered with conversations (``automation.use_bots(TURNS)``) when the
services are built.
"""

from __future__ import annotations

from sqlalchemy import Connection

from server.bots import flows, runtime
from server.contacts import book
from server.contacts.book import Actor
from server.conversations import automation, workflow
from server.conversations.events import Appender, Author, author_data, status_data
from server.ids import new_id


def start(appender: Appender, conn: Connection, answer_id: str, *, now: bool) -> bool:
    """Start a published bot answer here: at once, or at the visitor's next message
    (``now=False``). False when the answer is unpublished or gone."""
    found = runtime.published(conn, answer_id)
    if found is None:
        return False
    version, flow, name = found
    if now:
        contact = runtime.contact_of(
            conn,
            appender.state["visitor_id"],
            automation.tags_of(conn, appender.state["id"]),
            appender.state["id"],
        )
        apply(appender, conn, answer_id, version, name, flows.start(flow, contact))
    else:
        fresh = flows.Outcome(state={"step": flow["start"], "answers": {}, "retries": 0, "fresh": True})
        runtime.save(conn, appender.state["id"], answer_id, version, fresh, appender.now)
        appender.set(bot_active=True)
    return True


def turn(appender: Appender, conn: Connection, text: str | None, *, woke: bool = False) -> bool:
    """The bot's answer to a visitor's message (or to its wait ending); False: no bot here."""
    if not appender.state.get("bot_active"):
        # The locked row says whether a run is active (kept in the same transactions
        # as bot_runs), so most messages, with no bot, cost no extra query.
        return False
    run = runtime.active_run(conn, appender.state["id"])
    if run is None:
        return False
    if woke and (run["status"] != "waiting_time" or (run["wake_at"] and run["wake_at"] > appender.now)):
        return False  # woken by mistake (an agent took over, or not yet due)
    if run["status"] == "waiting_time" and not woke:
        return True  # the bot is pausing; the message waits for it, or for an agent
    flow, name = runtime.flow_of(conn, run)
    contact = runtime.contact_of(
        conn,
        appender.state["visitor_id"],
        automation.tags_of(conn, appender.state["id"]),
        appender.state["id"],
    )
    state = dict(run["state"])
    if state.pop("fresh", False) and not (text and flows.wants_human(text)):
        outcome = flows.start(flow, contact)
    else:
        outcome = flows.advance(flow, state, contact, text)
    apply(appender, conn, run["answer_id"], run["version"], name, outcome)
    return True


def apply(
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
        appender.state["tags"] = automation.add_tags(conn, cid, tags)
        book.tag_by_automation(conn, appender.state["visitor_id"], tags, Actor("bot", answer_id, name))
    runtime.save(conn, cid, answer_id, version, outcome, appender.now)
    appender.set(bot_active=outcome.status in runtime.ACTIVE)
    if outcome.handoff is not None:
        channel = outcome.handoff.get("channel_id")
        if channel and channel != appender.state["channel_id"]:
            automation.move_channel(appender, conn, channel)
        data = {
            **status_data(appender.state, bot),
            "handoff": True,
            "channel_id": appender.state["channel_id"],
        }
        if "tags" in appender.state:
            data["tags"] = appender.state["tags"]
        appender.append("conversation.updated", data)
        automation.route(appender, conn, workflow.site_policy(conn, appender.state["site_id"]).routing)


def running(conn: Connection, conversation_id: str) -> bool:
    return runtime.active_run(conn, conversation_id) is not None


class Turns:
    """The ``automation.Bots`` conversations calls."""

    start = staticmethod(start)
    turn = staticmethod(turn)
    running = staticmethod(running)
    stop = staticmethod(runtime.stop)


TURNS = Turns()
