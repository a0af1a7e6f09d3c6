"""trigram search on SQLite, and duplicates found by the visitor's own columns

The name sort gets an index of what it orders by, coalesce(name, '').

On SQLite the search moves from ``visitor_terms`` (some forty rows per visitor) to
``visitor_search``, an FTS5 table with the trigram tokenizer (one row per visitor,
its rowid the visitor's ``search_row``); PostgreSQL keeps its terms. Both find a
contact's duplicates by ``lower(email)`` and ``phone`` indexes on ``visitors``.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visitors") as batch:
        batch.add_column(sa.Column("search_row", sa.Integer(), nullable=True))
    op.create_index("ix_visitors_site_email", "visitors", ["site_id", sa.text("lower(email)")])
    op.create_index("ix_visitors_site_phone", "visitors", ["site_id", "phone"])
    op.create_index("ux_visitors_search_row", "visitors", ["search_row"], unique=True)
    # The name sort orders by coalesce(name, ''): an index of that, not of the name.
    op.drop_index("ix_visitors_site_name", table_name="visitors")
    op.create_index(
        "ix_visitors_site_name_sort", "visitors", ["site_id", sa.text("coalesce(name, '')"), "id"]
    )
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    op.execute("CREATE VIRTUAL TABLE visitor_search USING fts5(name, email, phone, tokenize='trigram')")
    rows = bind.exec_driver_sql("SELECT id, name, email, phone FROM visitors ORDER BY rowid").all()
    for n, (visitor_id, name, email, phone) in enumerate(rows, start=1):
        bind.exec_driver_sql("UPDATE visitors SET search_row = ? WHERE id = ?", (n, visitor_id))
        bind.exec_driver_sql(
            "INSERT INTO visitor_search (rowid, name, email, phone) VALUES (?, ?, ?, ?)",
            (n, _words(name), (email or "").casefold(), re.sub(r"\D", "", phone or "")),
        )
    op.execute("DELETE FROM visitor_terms")


def _words(name: str | None) -> str:
    # As server/contacts/search.py fts_values: each casefolded word after a space.
    return "".join(" " + w for w in re.findall(r"\w+", (name or "").casefold()))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE visitor_search")
    op.drop_index("ix_visitors_site_name_sort", table_name="visitors")
    op.create_index("ix_visitors_site_name", "visitors", ["site_id", "name"])
    op.drop_index("ux_visitors_search_row", table_name="visitors")
    op.drop_index("ix_visitors_site_phone", table_name="visitors")
    op.drop_index("ix_visitors_site_email", table_name="visitors")
    with op.batch_alter_table("visitors") as batch:
        batch.drop_column("search_row")
