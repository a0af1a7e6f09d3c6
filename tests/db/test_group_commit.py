"""Group commit: writes share a transaction, yet one caller's failure never touches another's."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from server.db import Database
from server.db.migrate import upgrade
from server.errors import InvalidInput
from server.sites.models import Site
from server.sites.store import create_site
from tests.harness import PG_ADMIN_URL, postgres_problem

pytestmark = pytest.mark.anyio
sites = Site.__table__  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'group.db'}"
        drop = None
    else:
        if postgres_problem():
            pytest.fail("PostgreSQL is needed: " + str(postgres_problem()))
        import psycopg

        drop = "parley_test_" + secrets.token_hex(4)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{drop}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + drop
    upgrade(url)
    db = Database(url)
    yield db
    db.close()
    if drop:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)')


def _make(conn: Connection, key: str) -> str:
    return create_site(conn, name=key, allowed_domains=["localhost"], key=key).key


def _make_then_fail(conn: Connection, key: str) -> str:
    create_site(conn, name=key, allowed_domains=["localhost"], key=key)
    raise InvalidInput("refused after writing", code="invalid_input")


def _count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(sites)).scalar_one())


async def test_a_failing_write_leaves_the_rest_of_its_batch_committed(database: Database) -> None:
    writes = [database.write(_make, f"ok-{i}") for i in range(30)]
    writes.insert(15, database.write(_make_then_fail, "bad"))
    writes.insert(20, database.write(_make, "ok-3"))  # a duplicate key: IntegrityError
    results = await asyncio.gather(*writes, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 2
    assert any(isinstance(f, InvalidInput) for f in failures)
    assert await database.read(_count) == 30  # the 30 good ones; nothing of the failed two
    assert (
        await database.read(lambda c: c.execute(select(sites.c.key).where(sites.c.key == "bad")).first())
        is None
    )
