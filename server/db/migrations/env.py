from __future__ import annotations

from alembic import context

from server.db.database import make_engine
from server.db.migrate import modelled
from server.models import metadata

config = context.config


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url, immediate=False)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_name=modelled,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
