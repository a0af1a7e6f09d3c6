"""``python -m bench inbox``: the inbox's first page and search, 100,000 conversations, 1,000,000 messages.

The data is written straight into a fresh database (SQLite by default, or the
PostgreSQL of ``--database-url``). Visitors have names, emails and phones with
their search terms; conversations are open, snoozed or closed, assigned or
not; each has ten messages. Then a real server answers, over HTTP, a signed-in
agent's requests. The baseline is ``GET /healthz`` on the same server, the
cost of HTTP alone.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import insert

from bench import report
from bench.servers import parley_env, parley_server
from server.accounts.store import create_user
from server.config import load_settings
from server.contacts.models import Visitor
from server.contacts.search import index_many
from server.conversations.models import Conversation, Message
from server.db import Database
from server.db.migrate import upgrade
from server.onboarding import open_site
from server.tracking.models import Visit

FIRST = ["Ana", "Bruno", "Carla", "Diego", "Elena", "Fabio", "Gabriela", "Hugo", "Irene", "Joao"]
FIRST += ["Karla", "Luis", "Marta", "Nuno", "Olga", "Pedro", "Rita", "Sara", "Tiago", "Vera"]
LAST = ["Almeida", "Barros", "Costa", "Duarte", "Esteves", "Ferreira", "Gomes", "Henriques", "Igreja"]
LAST += ["Jesus", "Lopes", "Martins", "Nunes", "Oliveira", "Pereira", "Queiroz", "Rocha", "Santos"]
LAST += ["Teixeira", "Vieira", "Ximenes", "Zagalo", "Moreau", "Schmidt", "Rossi", "Novak", "Kowalski"]
TABLES = [
    Visitor.__table__,  # type: ignore[attr-defined]
    Visit.__table__,  # type: ignore[attr-defined]
    Conversation.__table__,  # type: ignore[attr-defined]
    Message.__table__,  # type: ignore[attr-defined]
]
DOMAINS = ["example.com", "mail.example", "shop.example", "post.example", "inbox.example"]


def _seed(url: str, conversations: int, per_conversation: int, rng: random.Random) -> tuple[str, list[str]]:
    """Fill a migrated database; returns an agent's email and the visitors' (name, email, phone) samples."""
    upgrade(url)
    db = Database(url)
    try:
        site = db.write_sync(lambda c: open_site(c, name="Bench", allowed_domains=["localhost"]))
        agents = [
            db.write_sync(
                lambda c, i=i: create_user(
                    c,
                    email=f"agent{i}@bench.example",
                    name=f"Agent {i}",
                    password="bench-password",
                    role="agent",
                )
            ).id
            for i in range(20)
        ]
        now = datetime.now(UTC)
        samples: list[str] = []
        batch = 5000
        for start in range(0, conversations, batch):
            visitors, visits, convs, messages = [], [], [], []
            entries: list[tuple[str, int | None, str | None, str | None, str | None]] = []
            for n in range(start, min(start + batch, conversations)):
                first, last = rng.choice(FIRST), rng.choice(LAST)
                name = f"{first} {last}"
                email = f"{first.lower()}.{last.lower()}{n}@{rng.choice(DOMAINS)}"
                digits = "9" + "".join(rng.choice(string.digits) for _ in range(8))
                phone = f"+351 {digits[:3]} {digits[3:6]} {digits[6:]}"
                vid = f"vis_bench{n:08d}"
                seen = now - timedelta(minutes=rng.randrange(90 * 24 * 60))
                visitors.append(
                    Visitor(
                        id=vid,
                        site_id=site.id,
                        name=name,
                        email=email,
                        phone=phone,
                        phone_digits=digits,
                        visit_count=rng.randrange(1, 6),
                        created_at=seen,
                        last_seen_at=seen,
                        search_row=n + 1,
                    ).model_dump()
                )
                entries.append((vid, n + 1, name, email, phone))
                visits.append(
                    Visit(
                        id=f"vst_bench{n:08d}",
                        visitor_id=vid,
                        site_id=site.id,
                        started_at=seen,
                        last_activity_at=seen,
                    ).model_dump()
                )
                status = rng.choices(("open", "snoozed", "closed"), (25, 5, 70))[0]
                assignee = None if rng.random() < 0.3 else rng.choice(agents)
                last_visitor = per_conversation - rng.randrange(2)
                cid = f"cnv_bench{n:08d}"
                convs.append(
                    Conversation(
                        id=cid,
                        site_id=site.id,
                        visitor_id=vid,
                        status=status,
                        assignee_id=assignee,
                        last_seq=per_conversation,
                        visitor_read_seq=per_conversation,
                        agent_read_seq=per_conversation - rng.randrange(3),
                        last_visitor_seq=last_visitor,
                        last_agent_seq=per_conversation - 1 + (last_visitor != per_conversation),
                        last_preview="the last thing said",
                        created_at=seen,
                        last_activity_at=seen,
                        closed_at=seen if status == "closed" else None,
                    ).model_dump()
                )
                for seq in range(1, per_conversation + 1):
                    who = "visitor" if seq % 2 else "agent"
                    messages.append(  # plain rows: a million model validations would cost minutes
                        {
                            "id": f"msg_b{n:08d}_{seq:03d}",
                            "conversation_id": cid,
                            "seq": seq,
                            "author_type": who,
                            "author_id": vid if who == "visitor" else assignee,
                            "client_id": f"c{n}-{seq}",
                            "text": f"message {seq} of conversation {n}",
                            "created_at": seen,
                        }
                    )
                if n % 997 == 0:
                    samples.append(f"{name}|{email}|{digits}")

            def write(
                c: Any,
                rows: tuple[list[Any], ...] = (visitors, visits, convs, messages),
                found: Any = entries,
            ) -> None:
                for table, data in zip(TABLES, rows, strict=True):
                    c.execute(insert(table), data)
                index_many(c, found)  # the search index, as the product writes it

            db.write_sync(write)
        # As a live database would have them (autovacuum on PostgreSQL; run ANALYZE on SQLite).
        db.write_sync(lambda c: c.exec_driver_sql("ANALYZE"))
        return "agent0@bench.example", samples
    finally:
        db.close()


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2)


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(7)
    env = parley_env(args.database_url)
    url = load_settings(env).database_url
    started = time.perf_counter()
    email, samples = _seed(url, args.conversations, args.messages // args.conversations, rng)
    seeded_s = time.perf_counter() - started
    server = parley_server(env)
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            http.post(
                "/api/v1/auth/login", json={"email": email, "password": "bench-password"}
            ).raise_for_status()

            def timed(path: str, params: dict[str, str] | None = None) -> tuple[float, Any]:
                t = time.perf_counter()
                answer = http.get(path, params=params)
                answer.raise_for_status()
                return (time.perf_counter() - t) * 1000, answer.json()

            for _ in range(20):  # warm the server and the database's cache
                timed("/api/v1/inbox", {"view": "all"})
            baseline = [timed("/healthz")[0] for _ in range(args.requests)]
            pages = []
            for i in range(args.requests):
                view = ("all", "mine", "unassigned")[i % 3]
                status = ("open", "closed", "snoozed")[i % 3 if i % 7 else 1]
                ms, body = timed("/api/v1/inbox", {"view": view, "status": status})
                pages.append(ms)
            searches: dict[str, list[float]] = {"name": [], "email": [], "phone": []}
            hits = 0
            for i in range(args.requests):
                name, mail, digits = rng.choice(samples).split("|")
                kind = ("name", "email", "phone")[i % 3]
                if kind == "name":
                    query = name.split()[1][: rng.randrange(3, 6)]
                elif kind == "email":
                    at = rng.randrange(0, max(1, len(mail) - 6))
                    query = mail[at : at + 6]
                else:
                    query = f"{digits[:3]} {digits[3:6]}"
                ms, body = timed(
                    "/api/v1/inbox", {"view": "all", "status": "closed" if i % 2 else "open", "q": query}
                )
                hits += bool(body["conversations"])
                searches[kind].append(ms)
    finally:
        server.stop()
    every = [ms for values in searches.values() for ms in values]
    return {
        "backend": "postgresql" if url.startswith("postgresql") else "sqlite",
        "conversations": args.conversations,
        "messages": args.messages,
        "inbox_p95_ms": _p95(pages),
        "search_p95_ms": _p95(every),
        "search_name_p95_ms": _p95(searches["name"]),
        "search_email_p95_ms": _p95(searches["email"]),
        "search_phone_p95_ms": _p95(searches["phone"]),
        "baseline_healthz_p95_ms": _p95(baseline),
        "inbox_median_ms": round(statistics.median(pages), 2),
        "searches_with_hits": hits,
        "requests": args.requests,
        "seed_s": round(seeded_s, 1),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench inbox")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300, help="requests per measured kind")
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (default: a fresh SQLite file)")
    args = parser.parse_args(argv)
    report(run(args), {"inbox_p95_ms": "<= 50", "search_p95_ms": "<= 50"}, args.json)
    return 0
