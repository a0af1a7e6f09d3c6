"""search sort: a search's candidates sorted from an index, not from their rows

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_visitors_search_sort",
        "visitors",
        ["search_row", "site_id", "listed_at", "last_seen_at", "id"],
        sqlite_where=sa.text("search_row IS NOT NULL"),
        postgresql_where=sa.text("search_row IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_visitors_search_sort", table_name="visitors")
