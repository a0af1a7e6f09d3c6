"""The database: one engine; transactions run on worker threads, writes grouped.

SQLAlchemy's sync engine runs on worker threads so the event loop never waits
on disk. Writes go through one writer thread that commits whatever has queued
meanwhile in one transaction (group commit): on SQLite one BEGIN/COMMIT and
one thread hop for the lot, on PostgreSQL one WAL flush. SQLite runs in WAL
mode so readers never block the writer, and with BEGIN IMMEDIATE so a write
transaction takes its lock up front instead of failing on upgrade.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)
T = TypeVar("T")


def make_engine(url: str, *, immediate: bool = True) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event decide how transactions start.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # 64 MiB of page cache, and a checkpoint every 16 MiB of WAL rather than every
            # 4: an import's batch touches pages all over the search index, and a small
            # cache rereads them from disk for every batch.
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.execute("PRAGMA wal_autocheckpoint=4000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    # A dead server fails a connection attempt in seconds, not the OS's minutes.
    return create_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        pool_timeout=5,
        connect_args={"connect_timeout": 3},
    )


def unavailable(exc: BaseException) -> bool:
    """Whether an error means the database is unreachable (503), not that the request was wrong."""
    if isinstance(exc, OperationalError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def unstorable(exc: BaseException) -> bool:
    """Whether the database refused a value (out of range, bad text): the input's fault, not a 500."""
    return isinstance(exc, DataError)


# Writes waiting when the writer comes round are committed together,
# up to this many: one BEGIN/COMMIT and one thread hop for the lot.
GROUP_COMMIT_MAX = 64

_Pending = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]", asyncio.AbstractEventLoop]


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine = make_engine(url)
        # Readers on SQLite start deferred transactions so they never queue
        # behind the writer.
        self.read_engine = make_engine(url, immediate=False) if self.is_sqlite else self.engine
        # One writer thread: SQLite has one writer anyway, and on PostgreSQL a
        # shared commit saves a WAL flush per write, which is what limits it.
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="db-write")
        self._reader = ThreadPoolExecutor(4, thread_name_prefix="db-read")
        self._pending: list[_Pending] = []
        self._pending_lock = threading.Lock()
        self._draining = False

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run fn(connection, *args) in a transaction; returns once it is committed.

        Writes that queue up meanwhile share one transaction (group commit).
        If any of them raises, that transaction is rolled back and each write
        runs again in a transaction of its own, so one caller's failure never
        touches another's writes; write functions must therefore touch
        nothing but the database.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._pending_lock:
            self._pending.append((fn, args, future, loop))
            start = not self._draining
            self._draining = True
        if start:
            self._writer.submit(self._drain)
        return await future

    def _drain(self) -> None:
        while True:
            with self._pending_lock:
                batch = self._pending[:GROUP_COMMIT_MAX]
                del self._pending[:GROUP_COMMIT_MAX]
                if not batch:
                    self._draining = False
                    return
            self._commit_batch(batch)

    def _commit_batch(self, batch: list[_Pending]) -> None:
        results: list[Any] = []
        try:
            with self.engine.begin() as conn:
                for fn, args, _future, _loop in batch:
                    results.append(fn(conn, *args))
        except BaseException as exc:
            if len(batch) == 1:
                _settle(batch[0], error=exc)
                return
            for item in batch:
                try:
                    result = self._in_transaction(item[0], item[1])
                except BaseException as single:
                    _settle(item, error=single)
                else:
                    _settle(item, result=result)
            return
        for item, result in zip(batch, results, strict=True):
            _settle(item, result=result)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader, self._in_read, fn, args)

    def _in_transaction(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self.engine.begin() as conn:
            return fn(conn, *args)

    def _in_read(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self.read_engine.connect() as conn:
            return fn(conn, *args)

    async def ping(self, timeout: float = 2.0) -> str | None:
        """None if the database answers within the timeout, else what went wrong."""
        try:
            await asyncio.wait_for(self.read(lambda c: c.execute(text("SELECT 1")).scalar()), timeout)
        except TimeoutError:
            return f"no answer in {timeout:g} s"
        except Exception as exc:
            return exc.__class__.__name__
        return None

    def read_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """A read from a worker thread of the caller's own (an import streaming its file)."""
        return self._in_read(fn, args)

    def write_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return self._in_transaction(fn, args)

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._reader.shutdown(wait=True)
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def _settle(item: _Pending, *, result: Any = None, error: BaseException | None = None) -> None:
    _fn, _args, future, loop = item

    def settle() -> None:
        if future.cancelled():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    loop.call_soon_threadsafe(settle)
