"""Many rows into one table at once, as cheaply as each database allows.

Through SQLAlchemy's ``insert(table)`` each parameter of each row costs a few
microseconds of Python: for an import's visitors (twenty columns) more than the
database's own work. On SQLite the rows go to the DBAPI cursor's ``executemany``
underneath the SQLAlchemy connection (same connection, same transaction), each value
converted exactly as SQLAlchemy's column types store it; on PostgreSQL through
SQLAlchemy, whose psycopg ``executemany`` is already pipelined.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, DateTime, Table, TypeDecorator, bindparam, insert, update

# How SQLAlchemy's DateTime stores a value in SQLite (UTC, no offset).
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def sqlite_time(value: datetime) -> str:
    """A time as SQLAlchemy's DateTime stores it in SQLite (``SQLITE_TIME``)."""
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _converter(column: Any, times: dict[datetime, str]) -> Callable[[Any], Any] | None:
    kind = column.type
    if isinstance(kind, TypeDecorator) and not isinstance(kind, JSON):
        kind = kind.impl_instance
    if isinstance(kind, JSON):
        keep_none = not getattr(kind, "none_as_null", False)
        return lambda v: json.dumps(v) if v is not None or keep_none else None
    if isinstance(kind, DateTime):
        # A new contact's three times are one value: converted once (``times``, per call).
        return lambda v: None if v is None else times.get(v) or times.setdefault(v, sqlite_time(v))
    if isinstance(kind, Boolean):
        return lambda v: None if v is None else int(v)
    return None


def insert_many(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """``rows`` (dicts with the same keys, column names) inserted in one statement."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), list(rows))
        return
    names = list(rows[0])
    times: dict[datetime, str] = {}
    converters = [_converter(table.c[n], times) for n in names]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    values = [
        tuple(row[n] if f is None else f(row[n]) for n, f in zip(names, converters, strict=True))
        for row in rows
    ]
    conn.exec_driver_sql(sql, values)


def update_many(conn: Connection, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """Each row's columns set on the row whose ``key`` column it names: one statement
    per set of columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(k for k in row if k != key)), []).append(row)
    for names, group in groups.items():
        if not names:
            continue
        if conn.dialect.name != "sqlite":
            statement = (
                update(table)
                .where(table.c[key] == bindparam("_key"))
                .values({n: bindparam(n) for n in names})
            )
            conn.execute(statement, [{**{n: r[n] for n in names}, "_key": r[key]} for r in group])
            continue
        converters = [_converter(table.c[n], {}) for n in names]
        sql = f"UPDATE {table.name} SET {', '.join(f'{n} = ?' for n in names)} WHERE {key} = ?"
        values = [
            (*(r[n] if f is None else f(r[n]) for n, f in zip(names, converters, strict=True)), r[key])
            for r in group
        ]
        conn.exec_driver_sql(sql, values)
