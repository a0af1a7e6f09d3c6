"""The models and the migrations describe one schema, on both databases."""

from __future__ import annotations

import secrets
import warnings
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from server.db.migrate import modelled, upgrade
from server.models import metadata
from tests.harness import PG_ADMIN_URL


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_autogenerate_finds_nothing_between_the_models_and_the_migrated_schema(
    backend: str, tmp_path: Path
) -> None:
    import psycopg

    name = "parley_schema_" + secrets.token_hex(4)
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'schema.db'}"
    else:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    try:
        upgrade(url)
        engine = create_engine(url)
        with engine.connect() as conn, warnings.catch_warnings():
            # SQLAlchemy cannot read SQLite's expression indexes back (lower(email)): skipped there.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            warnings.filterwarnings(
                "ignore", "autogenerate skipping metadata-specified expression-based index"
            )
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": modelled})
            differences = compare_metadata(context, metadata)
        engine.dispose()
        # A table a model lacks shows as one to drop; an index a model forgets, as one to remove.
        assert differences == []
    finally:
        if backend == "postgres":
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
