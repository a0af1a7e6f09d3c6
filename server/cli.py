"""``parley``: serve, demo, demo-site, migrate, create-user, create-site, create-token."""

from __future__ import annotations

import argparse
import getpass
import logging
import math
import os
import sys
from collections.abc import Sequence

from server.accounts.models import API_SCOPES
from server.config import ConfigError, Settings, load_settings
from server.demo.seed import DEMO_SITE_KEY

log = logging.getLogger("parley")


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
    from server.db import Database
    from server.errors import ParleyError
    from server.onboarding import open_site

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


def _start_shop(host: str, port: int, parley_url: str) -> None:
    """The demo shop on its own port, in a thread beside the server."""
    import threading

    import uvicorn

    from server.demo.shop import create_demo_site

    config = uvicorn.Config(
        create_demo_site(parley_url, DEMO_SITE_KEY), host=host, port=port, log_level="warning"
    )
    threading.Thread(target=uvicorn.Server(config).run, name="demo-shop", daemon=True).start()


def cmd_demo(args: argparse.Namespace) -> int:
    from server.db.migrate import upgrade
    from server.demo.seed import seed_demo

    settings = _settings()
    upgrade(settings.database_url)
    accounts = seed_demo(settings.database_url)
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

    from server.demo.shop import create_demo_site

    uvicorn.run(
        create_demo_site(args.parley_url, args.site_key), host=args.host, port=args.port, log_level="warning"
    )
    return 0


def cmd_protocol_schema(args: argparse.Namespace) -> int:
    import json

    from server.outgoing import json_schema

    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
    return 0


def cmd_create_token(args: argparse.Namespace) -> int:
    """A site's API token, printed once (only its hash is kept)."""
    from server.accounts.api_tokens import create
    from server.db import Database
    from server.errors import ParleyError
    from server.sites.store import site_by_key

    db = Database(_settings().database_url)
    try:
        site = db.read_sync(site_by_key, args.site)
        if site is None:
            sys.exit(f"parley: site_unknown: no site {args.site!r}")
        made, secret = db.write_sync(lambda c: create(c, site.id, args.name, args.scope, None))
    except ParleyError as exc:
        sys.exit(f"parley: {exc.code}: {exc.message}")
    finally:
        db.close()
    print(f"created API token {made.name!r} ({made.id}) for site {site.key}: {', '.join(made.scopes)}")
    print("the token, shown this once (send it as Authorization: Bearer …):")
    print(secret)
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
    sub.add_parser(
        "protocol-schema", help="print the wire protocol as JSON Schema (docs/protocol.schema.json)"
    )
    site = sub.add_parser("create-site", help="create a site that embeds the widget")
    site.add_argument("--name", required=True)
    site.add_argument("--domain", action="append", required=True, help="allowed domain (repeatable)")
    site.add_argument("--key", help="public site key (random if omitted)")

    token = sub.add_parser("create-token", help="create a site's API token (printed once)")
    token.add_argument("--site", required=True, help="the site's key")
    token.add_argument("--name", required=True, help="what the token is for, e.g. 'shop backend'")
    token.add_argument(
        "--scope", nargs="+", required=True, metavar="SCOPE", help="one or more of: " + ", ".join(API_SCOPES)
    )

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
        "create-token": cmd_create_token,
        "protocol-schema": cmd_protocol_schema,
    }
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
