"""``parley``: serve, demo, demo-site, migrate, create-user, create-site."""

from __future__ import annotations

import argparse
import getpass
import logging
import math
import os
import secrets
import sys
from collections.abc import Sequence
from functools import partial
from typing import Any

from server.config import ConfigError, Settings, load_settings

log = logging.getLogger("parley")

DEMO_SITE_KEY = "demo"
DEMO_ACCOUNTS = (
    ("admin@parley.example", "Ada Admin", "admin"),
    ("agent@parley.example", "Alex Agent", "agent"),
)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        sys.exit(f"parley: configuration error: {exc}")


def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    from server.db.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


def cmd_migrate(args: argparse.Namespace) -> int:
    from server.db.migrate import current_revision, upgrade

    settings = _settings()
    upgrade(settings.database_url)
    print(f"database at revision {current_revision(settings.database_url)}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.db.migrate import current_revision

    settings = _settings()
    revision = current_revision(settings.database_url)
    if revision != _head_revision():
        sys.exit(
            f"parley: the database is at revision {revision or 'none'}, not {_head_revision()}; "
            "run `parley migrate` first"
        )
    from server.web.transport import BoundedHTTP, BoundedWebSocket

    uvicorn.run(
        "server.web.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        # uvicorn's h11 and websockets-sansio protocols, with time and count bounds.
        http=BoundedHTTP,
        ws=BoundedWebSocket,
        # A hard ceiling against abuse; the protocol's own, smaller frame limit
        # answers with an error frame and keeps the socket open.
        ws_max_size=max(1 << 20, settings.max_frame_bytes * 4),
        ws_ping_interval=settings.heartbeat_interval_s,
        ws_ping_timeout=settings.heartbeat_interval_s,
        log_level=args.log_level,
        access_log=args.log_level == "debug",
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(sorted(settings.trusted_proxies)),
        # Our own shutdown closes sockets with 1001 and cuts those that do not answer.
        timeout_graceful_shutdown=max(math.ceil(settings.close_timeout_s * 2), 5),
    )
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    from server.accounts.store import create_user
    from server.db import Database
    from server.errors import ParleyError

    password = args.password or os.environ.get("PARLEY_PASSWORD") or getpass.getpass("Password: ")
    db = Database(_settings().database_url)
    try:
        user = db.write_sync(
            lambda c: create_user(
                c, email=args.email, name=args.name or "", password=password, role=args.role
            )
        )
    except ParleyError as exc:
        sys.exit(f"parley: {exc.code}: {exc.message}")
    finally:
        db.close()
    print(f"created {user.role} {user.email} ({user.id})")
    return 0


def cmd_create_site(args: argparse.Namespace) -> int:
    from server.channels.store import open_site
    from server.db import Database
    from server.errors import ParleyError

    db = Database(_settings().database_url)
    try:
        site = db.write_sync(
            lambda c: open_site(c, name=args.name, allowed_domains=args.domain, key=args.key)
        )
    except ParleyError as exc:
        sys.exit(f"parley: {exc.code}: {exc.message}")
    finally:
        db.close()
    print(f"created site {site.name!r}: key {site.key}, allowed domains {', '.join(site.allowed_domains)}")
    print(f"identity verification secret (keep it on your server): {site.identity_secret}")
    return 0


def seed_demo(settings: Settings) -> list[tuple[str, str, str]]:
    """The demo site and accounts; passwords are new on every run and printed."""
    from server.accounts.store import create_user, set_password, user_by_email
    from server.channels.store import open_site
    from server.db import Database
    from server.sites.store import site_by_key

    db = Database(settings.database_url)
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


def _start_shop(host: str, port: int, parley_url: str) -> None:
    """The demo shop on its own port, in a thread beside the server."""
    import threading

    import uvicorn

    from server.demo_site import create_demo_site

    config = uvicorn.Config(
        create_demo_site(parley_url, DEMO_SITE_KEY), host=host, port=port, log_level="warning"
    )
    threading.Thread(target=uvicorn.Server(config).run, name="demo-shop", daemon=True).start()


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
    from sqlalchemy import select, update

    from server.conversations.models import CannedResponse
    from server.sites.store import site_by_key, sites

    canned = CannedResponse.__table__  # type: ignore[attr-defined]
    have = set(conn.execute(select(canned.c.shortcut)).scalars())
    for shortcut, text in DEMO_CANNED:
        if shortcut not in have:
            conn.execute(canned.insert().values(CannedResponse(shortcut=shortcut, text=text).model_dump()))
    site = site_by_key(conn, DEMO_SITE_KEY)
    assert site is not None
    if "inbox" not in site.settings:
        bot = _demo_bot(conn, site.id)
        settings = {
            **site.settings,
            "inbox": {
                "greeting": "Thanks for your message! An agent will answer here shortly.",
                "greeting_bot": bot,
                "routing": "round_robin",
            },
        }
        conn.execute(update(sites).where(sites.c.id == site.id).values(settings=settings))


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


def cmd_demo(args: argparse.Namespace) -> int:
    from server.db.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    accounts = seed_demo(settings)
    base = f"http://{args.host}:{args.port}"
    shop_port = args.shop_port or args.port + 1
    print()
    print("Parley demo")
    print(f"  shop:      http://{args.host}:{shop_port}/   <- chat here as a visitor (embeds the widget)")
    print(f"  agents:    {base}/agent   <- answer here, in another window")
    print(
        f"  admins:    {base}/admin/proactive   <- proactive messages; one is live on the shop's pricing page"
    )
    print(f"  server:    {base}   (database: {settings.database_url})")
    print(f"  site key:  {DEMO_SITE_KEY}")
    for role, email, password in accounts:
        print(f"  {role:<9}  {email}   password: {password}")
    print()
    _start_shop(args.host, shop_port, base)
    return cmd_serve(args)


def cmd_demo_site(args: argparse.Namespace) -> int:
    import uvicorn

    from server.demo_site import create_demo_site

    uvicorn.run(
        create_demo_site(args.parley_url, args.site_key), host=args.host, port=args.port, log_level="warning"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="parley", description="Parley chat server")
    sub = parser.add_subparsers(dest="command", required=True)

    def serve_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    serve_options(sub.add_parser("serve", help="run the server"))
    demo = sub.add_parser("demo", help="migrate, seed the demo site and accounts, and serve with the shop")
    serve_options(demo)
    demo.add_argument("--shop-port", type=int, help="the demo shop's port (default: --port + 1)")
    shop = sub.add_parser("demo-site", help="serve only the demo shop, embedding a given server's widget")
    shop.add_argument("--host", default="127.0.0.1")
    shop.add_argument("--port", type=int, default=8001)
    shop.add_argument("--parley-url", default="http://127.0.0.1:8000")
    shop.add_argument("--site-key", default=DEMO_SITE_KEY)
    sub.add_parser("migrate", help="bring the database schema up to date")
    user = sub.add_parser("create-user", help="create an admin or agent")
    user.add_argument("--email", required=True)
    user.add_argument("--name")
    user.add_argument("--role", choices=["admin", "agent"], default="agent")
    user.add_argument("--password", help="prefer PARLEY_PASSWORD or the prompt; argv is visible to others")
    site = sub.add_parser("create-site", help="create a site that embeds the widget")
    site.add_argument("--name", required=True)
    site.add_argument("--domain", action="append", required=True, help="allowed domain (repeatable)")
    site.add_argument("--key", help="public site key (random if omitted)")

    args = parser.parse_args(argv)
    if hasattr(args, "log_level"):
        logging.getLogger().setLevel(args.log_level.upper())
    commands = {
        "serve": cmd_serve,
        "demo": cmd_demo,
        "demo-site": cmd_demo_site,
        "migrate": cmd_migrate,
        "create-user": cmd_create_user,
        "create-site": cmd_create_site,
    }
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
