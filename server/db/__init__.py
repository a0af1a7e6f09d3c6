"""Engines, transactions and schema migrations for SQLite and PostgreSQL."""

from server.db.database import Database, make_engine, unavailable, unstorable

__all__ = ["Database", "make_engine", "unavailable", "unstorable"]
