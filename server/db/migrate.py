"""Schema migrations with alembic, configured in code so no alembic.ini is needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # '%' would be read as interpolation by ConfigParser.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def current_revision(database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from server.db.database import make_engine

    engine = make_engine(database_url, immediate=False)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def modelled(name: str | None, type_: str, parent_names: object) -> bool:
    """Whether autogenerate compares this object: not SQLite's FTS5 search table and
    the shadow tables it keeps (server/contacts/search.py), which no model describes."""
    return not (type_ == "table" and (name or "").startswith("visitor_search"))
