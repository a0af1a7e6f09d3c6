"""The demo's data: a shop site, two accounts, a live proactive message, canned
responses, a greeting bot and round-robin routing. Running it again keeps what
exists and gives the accounts new passwords."""

from __future__ import annotations

import contextlib
import secrets
from functools import partial
from typing import Any

DEMO_SITE_KEY = "demo"
DEMO_ACCOUNTS = (
    ("admin@parley.example", "Ada Admin", "admin"),
    ("agent@parley.example", "Alex Agent", "agent"),
)


def seed_demo(database_url: str) -> list[tuple[str, str, str]]:
    """The demo site and accounts; passwords are new on every run and printed."""
    from server.accounts.store import create_user, set_password, user_by_email
    from server.db import Database
    from server.onboarding import open_site
    from server.sites.store import site_by_key

    db = Database(database_url)
    accounts = []
    try:
        if db.write_sync(site_by_key, DEMO_SITE_KEY) is None:
            db.write_sync(
                lambda c: open_site(
                    c, name="Demo shop", key=DEMO_SITE_KEY, allowed_domains=["localhost", "127.0.0.1"]
                )
            )
        db.write_sync(_demo_proactive)
        db.write_sync(_demo_inbox)
        db.write_sync(_demo_contacts)
        for email, name, role in DEMO_ACCOUNTS:
            password = secrets.token_urlsafe(9)
            existing = db.write_sync(user_by_email, email)
            if existing is None:
                db.write_sync(partial(create_user, email=email, name=name, password=password, role=role))
            else:
                db.write_sync(set_password, existing.id, password)
            accounts.append((role, email, password))
    finally:
        db.close()
    return accounts


# A few contacts with tags and fields, to find, filter and write to (demo_site/contacts.csv
# has more, to try the import on).
DEMO_FIELDS: tuple[dict[str, Any], ...] = (
    {"key": "plan", "label": "Plan", "type": "choice", "choices": ["trial", "basic", "pro", "business"]},
    {"key": "city", "label": "City", "type": "text"},
    {"key": "seats", "label": "Seats", "type": "number"},
)
DEMO_CONTACTS: tuple[dict[str, Any], ...] = (
    {
        "name": "Rita Lopes",
        "email": "rita.lopes@example.com",
        "phone": "+351 912 345 678",
        "tags": ["vip", "kettles"],
        "attributes": {"plan": "pro", "city": "Lisbon", "seats": 12},
    },
    {
        "name": "João Sousa",
        "email": "joao.sousa@example.com",
        "tags": ["lead"],
        "attributes": {"plan": "trial"},
    },
    {
        "name": "Marta Díaz",
        "phone": "+34 612 345 678",
        "tags": ["lead", "es"],
        "attributes": {"city": "Madrid"},
    },
    {
        "name": "Sam Taylor",
        "email": "sam@example.org",
        "tags": ["wholesale"],
        "attributes": {"plan": "basic"},
    },
)


def _demo_contacts(conn: Any) -> None:
    """The demo's contacts, added once (a second run finds them by email or phone)."""
    from server.contacts import book, fields
    from server.contacts.book import Actor
    from server.errors import Conflict
    from server.sites.store import site_by_key, update_settings

    site = site_by_key(conn, DEMO_SITE_KEY)
    assert site is not None
    if not (site.settings.get("contacts") or {}).get("default_country"):
        update_settings(conn, site.id, "contacts", {"default_country": "PT"})
    for field in DEMO_FIELDS:
        with contextlib.suppress(Conflict):  # defined already
            fields.define(conn, site.id, field)
    for contact in DEMO_CONTACTS:
        with contextlib.suppress(Conflict):  # there already
            book.add(conn, site.id, dict(contact), Actor("import", None, "the demo"), "PT")


DEMO_PROACTIVE = "Pricing: ask for an email after 10 s"


def _demo_proactive(conn: Any) -> None:
    """A live proactive message on the demo site, so a newcomer sees one fire."""
    from server.channels.store import site_channels
    from server.proactive import store
    from server.sites.store import site_by_key

    site = site_by_key(conn, DEMO_SITE_KEY)
    assert site is not None
    if any(m.name == DEMO_PROACTIVE for m in store.site_messages(conn, site.id)):
        return
    store.seed_drafts(conn, site)
    web = next(c.id for c in site_channels(conn, site.id) if c.kind == "web")
    msg = store.create_message(
        conn,
        site.id,
        {
            "name": DEMO_PROACTIVE,
            "channel_id": web,
            "text": "Comparing plans? Leave your email and we will send you a quote.",
            "collect": ["email"],
            "followup": "Thanks! An agent will answer here in a moment.",
            "tags": ["pricing", "demo"],
            "trigger": {"type": "time_on_page", "seconds": 10},
            "conditions": {"all": [{"field": "page.path", "op": "starts_with", "value": "/pricing"}]},
            "frequency": "once_per_visit",
        },
    )
    store.act(conn, msg.id, site.id, "publish")


DEMO_CANNED = (
    ("hello", "Hi! Thanks for writing to Kettle & Co. How can I help?"),
    ("shipping", "We ship within 2 working days; delivery takes 3 to 5 days in Europe."),
    ("refund", "You can return any kettle within 30 days for a full refund."),
)


def _demo_inbox(conn: Any) -> None:
    """Canned responses, a greeting and round-robin routing, so the workspace shows them."""
    from server.conversations import canned
    from server.sites.store import site_by_key, update_settings

    have = canned.shortcuts(conn)
    for shortcut, text in DEMO_CANNED:
        if shortcut not in have:
            canned.write(conn, None, {"shortcut": shortcut, "text": text})
    site = site_by_key(conn, DEMO_SITE_KEY)
    assert site is not None
    if "inbox" not in site.settings:
        bot = _demo_bot(conn, site.id)
        inbox = {
            "greeting": "Thanks for your message! An agent will answer here shortly.",
            "greeting_bot": bot,
            "routing": "round_robin",
        }
        update_settings(conn, site.id, "inbox", inbox)


DEMO_BOT: dict[str, Any] = {
    "start": "hello",
    "steps": {
        "hello": {"type": "message", "text": "Hi! I am Kettle bot. I can help right away.", "next": "menu"},
        "menu": {
            "type": "buttons",
            "text": "What can I help you with?",
            "options": [
                {
                    "label": "Track my order",
                    "keywords": ["track", "order", "where", "parcel"],
                    "next": "email",
                },
                {
                    "label": "Returns",
                    "keywords": ["return", "refund", "devolução", "devolucion"],
                    "next": "returns",
                },
                {"label": "Something else", "keywords": ["other", "else"], "next": "human"},
            ],
            "retry_text": "Sorry, I did not get that. Pick one, or write 'agent' to talk to a person.",
            "max_retries": 1,
            "fallback": "human",
        },
        "email": {
            "type": "collect",
            "field": "email",
            "text": "What email did you order with?",
            "invalid_text": "That does not look like an email address. Could you type it again?",
            "next": "tag",
        },
        "tag": {"type": "set", "tags": ["order-help"], "next": "human"},
        "returns": {
            "type": "message",
            "text": "You can return any kettle within 30 days for a full refund.",
            "next": "more",
        },
        "more": {
            "type": "buttons",
            "text": "Did that answer your question?",
            "options": [
                {"label": "Yes, thanks", "keywords": ["yes", "sim", "si", "thanks"], "next": "bye"},
                {"label": "Talk to a person", "next": "human"},
            ],
            "fallback": "human",
        },
        "bye": {"type": "end", "text": "Great! Write again any time."},
        "human": {"type": "handoff", "text": "Thanks! An agent will continue here.", "tags": ["from-bot"]},
    },
}


def _demo_bot(conn: Any, site_id: str) -> str:
    """A published bot answer that greets the demo's visitors (buttons, an email, a handoff)."""
    from server.bots import store as bots

    answer = bots.create_answer(conn, site_id, "Order help (demo)")
    bots.save_draft(conn, answer.id, site_id, {"flow": DEMO_BOT, "bot_name": "Kettle bot"})
    bots.publish(conn, answer.id, site_id)
    return answer.id
