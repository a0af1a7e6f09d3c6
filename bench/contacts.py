"""``python -m bench contacts``: import a million generated contacts from CSV, then list
and search them over HTTP.

The file has names, emails, phones, two tags and two custom fields per row, and 10 % of
its rows repeat an earlier row's email (they update that contact). It goes through the
product's own path: uploaded over HTTP to a real server on a fresh database, mapped,
and imported by the server's background job (dedupe and search index included), while
the server's memory is sampled. The ceiling is the same rows inserted with
``executemany`` into a bare table of the same database in the same run. Then a
signed-in admin's requests: pages of the contact list (three sorts) and searches by
name prefix, email substring and phone digits.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import string
import tempfile
import threading
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import Column, Connection, MetaData, String, Table, insert

from bench import report
from bench.inbox import DOMAINS, FIRST, LAST
from bench.servers import parley_env, parley_server
from server.accounts.store import create_user
from server.config import load_settings
from server.contacts import import_rows
from server.contacts.import_rows import Draft
from server.contacts.search import index_many
from server.contacts.store import visitors
from server.db import Database
from server.db.bulk import insert_many
from server.db.migrate import upgrade
from server.ids import new_id, utcnow
from server.onboarding import open_site

HEADERS = ["Name", "Email", "Phone", "Tags", "Plan", "City"]
MAPPING = {"0": "name", "1": "email", "2": "phone", "3": "tags", "4": "attribute:plan", "5": "attribute:city"}
PLANS = ["trial", "basic", "pro", "enterprise"]
CITIES = ["Lisbon", "Porto", "Madrid", "Seville", "Paris", "Berlin", "Rome", "Warsaw"]
TAGS = ["lead", "vip", "newsletter", "wholesale", "returning", "es", "pt", "fr"]


def _rows(count: int, rng: random.Random) -> Iterator[list[str]]:
    emails: list[str] = []
    for n in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        digits = rng.choice(("91", "92", "93", "96")) + "".join(rng.choice(string.digits) for _ in range(7))
        if emails and n % 10 == 9:  # a repeat: the same person again, with a new phone
            email = rng.choice(emails)
        else:
            email = f"{first.lower()}.{last.lower()}{n}@{rng.choice(DOMAINS)}"
            if len(emails) < 100_000:
                emails.append(email)
        tags = ", ".join(rng.sample(TAGS, 2))
        yield [f"{first} {last}", email, f"+351 {digits[:3]} {digits[3:6]} {digits[6:]}", tags,
               rng.choice(PLANS), rng.choice(CITIES)]  # fmt: skip


def _write_csv(path: Path, count: int, rng: random.Random) -> list[list[str]]:
    """The file, and a sample of its rows to search for."""
    samples = []
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for n, row in enumerate(_rows(count, rng)):
            writer.writerow(row)
            if n % 997 == 0 and n % 10 != 9:
                samples.append(row)
    return samples


def _bare_insert(url: str, path: Path) -> float:
    """Rows per second into a bare table with executemany: the database's ceiling."""
    db = Database(url)
    meta = MetaData()
    bare = Table("bench_bare_contacts", meta, Column("id", String(40), primary_key=True),
                 *(Column(h.lower(), String(300)) for h in HEADERS))  # fmt: skip
    try:
        meta.create_all(db.engine)
        started = time.perf_counter()
        rows = 0
        with path.open(newline="", encoding="utf-8") as source:
            reader = csv.reader(source)
            next(reader)
            batch: list[dict[str, str]] = []
            for n, row in enumerate(reader):
                batch.append({"id": f"b{n}", **{h.lower(): v for h, v in zip(HEADERS, row, strict=True)}})
                if len(batch) == 5000:
                    db.write_sync(lambda c, b=batch: c.execute(insert(bare), b))
                    rows += len(batch)
                    batch = []
            if batch:
                db.write_sync(lambda c, b=batch: c.execute(insert(bare), b))
                rows += len(batch)
        return rows / (time.perf_counter() - started)
    finally:
        meta.drop_all(db.engine)
        db.close()


def _schema_insert(path: Path, folder: Path) -> float:
    """Rows per second of the same contacts written straight into the product's tables
    on a fresh SQLite database (visitors with their indexes, the search index), in the
    import's batches and through its write functions, with no checks and no dedupe:
    what the schema itself allows on this machine, the import's own ceiling."""
    url = f"sqlite:///{folder / 'schema.db'}"
    upgrade(url)
    db = Database(url)
    try:
        site = db.write_sync(lambda c: open_site(c, name="Ceiling", allowed_domains=["localhost"]))
        started = time.perf_counter()
        rows = 0
        with path.open(newline="", encoding="utf-8") as source:
            reader = csv.reader(source)
            next(reader)
            while batch := list(islice(reader, import_rows.BATCH)):
                drafts = []
                for n, (name, email, phone, tags, plan, city) in enumerate(batch, start=rows + 1):
                    now = utcnow()
                    digits = re.sub(r"\D", "", phone)
                    values = {"plan": plan, "city": city}
                    drafts.append(Draft(new_id("vis"), site.id, name, email, "+" + digits, digits, None,
                                        tags.split(", "), values, now, n, now, "bench"))  # fmt: skip

                def write(conn: Connection, drafts: list[Draft] = drafts) -> None:
                    insert_many(conn, visitors, [d.row() for d in drafts])
                    index_many(conn, [(d.id, d.search_row, d.name, d.email, d.phone) for d in drafts])

                db.write_sync(write)
                rows += len(batch)
        return rows / (time.perf_counter() - started)
    finally:
        db.close()


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2)


class Peak(threading.Thread):
    """The server's largest resident memory while it works."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            try:
                rss = self.process.memory_info().rss + sum(
                    c.memory_info().rss for c in self.process.children()
                )
            except psutil.Error:
                break
            self.peak = max(self.peak, rss)
            time.sleep(0.1)


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(11)
    env = parley_env(args.database_url)
    url = load_settings(env).database_url
    folder = Path(tempfile.mkdtemp(prefix="parley-bench-contacts-"))
    path = folder / "contacts.csv"
    samples = _write_csv(path, args.rows, rng)
    upgrade(url)
    db = Database(url)
    try:
        site = db.write_sync(lambda c: open_site(c, name="Bench", allowed_domains=["localhost"]))
        admin = {
            "email": "admin@bench.example",
            "name": "Admin",
            "password": "bench-password",
            "role": "admin",
        }
        db.write_sync(lambda c: create_user(c, **admin))
    finally:
        db.close()
    server = parley_server(env)
    peak = Peak(server.pid)
    peak.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=120) as http:
            signed = http.post(
                "/api/v1/auth/login", json={"email": "admin@bench.example", "password": "bench-password"}
            )
            signed.raise_for_status()
            http.headers["X-CSRF-Token"] = signed.json()["csrf_token"]

            def chunks() -> Iterator[bytes]:
                with path.open("rb") as source:
                    while piece := source.read(1 << 20):
                        yield piece

            started = time.perf_counter()
            made = http.post(
                f"/api/v1/sites/{site.key}/imports", content=chunks(), headers={"X-Filename": "bench.csv"}
            )
            made.raise_for_status()
            upload_s = time.perf_counter() - started
            import_id = made.json()["import"]["id"]
            started = time.perf_counter()
            http.post(
                f"/api/v1/imports/{import_id}/run", json={"mapping": MAPPING, "dry": False}
            ).raise_for_status()
            while True:
                state = http.get(f"/api/v1/imports/{import_id}").json()["import"]
                if state["status"] in ("done", "failed"):
                    break
                time.sleep(0.5)
            import_s = time.perf_counter() - started
            if state["status"] != "done":
                raise RuntimeError(f"the import failed: {state['error']}")
            peak.running = False
            # As a live database would have its statistics (autovacuum on PostgreSQL runs
            # ANALYZE after a while; SQLite's planner uses it too), as bench inbox does.
            stats = Database(url)
            try:
                stats.write_sync(lambda c: c.exec_driver_sql("ANALYZE"))
            finally:
                stats.close()

            def timed(params: dict[str, str]) -> float:
                t = time.perf_counter()
                http.get(f"/api/v1/sites/{site.key}/contacts", params=params).raise_for_status()
                return (time.perf_counter() - t) * 1000

            for _ in range(10):
                timed({})
            lists = [timed({"sort": ("last_seen", "name", "created")[i % 3]}) for i in range(args.requests)]
            searches = []
            for i in range(args.requests):
                name, email, phone = rng.choice(samples)[:3]
                query = (name.split()[1][:4], email[3:10], phone[5:12])[i % 3]
                searches.append(timed({"q": query}))
    finally:
        peak.running = False
        server.stop()
    bare = _bare_insert(url, path)
    schema = None if url.startswith("postgresql") else _schema_insert(path, folder)
    return {
        "backend": "postgresql" if url.startswith("postgresql") else "sqlite",
        "rows": args.rows,
        "import_rows_per_s": round(args.rows / import_s),
        "bare_insert_rows_per_s": round(bare),
        "schema_insert_rows_per_s": round(schema) if schema else None,
        "peak_rss_mb": round(peak.peak / 2**20, 1),
        "list_p95_ms": _p95(lists),
        "search_p95_ms": _p95(searches),
        "upload_s": round(upload_s, 1),
        "import_s": round(import_s, 1),
        "added": state["counts"]["added"],
        "updated": state["counts"]["updated"],
        "requests": args.requests,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench contacts")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per measured kind")
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (default: a fresh SQLite file)")
    args = parser.parse_args(argv)
    goals = {
        "import_rows_per_s": ">= 20000",
        "peak_rss_mb": "<= 300",
        "list_p95_ms": "<= 50",
        "search_p95_ms": "<= 50",
    }
    report(run(args), goals, args.json)
    return 0
