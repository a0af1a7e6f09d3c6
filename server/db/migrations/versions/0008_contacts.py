"""contacts: who is listed as a contact, tags on the contact, and a history of changes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
When = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("visitors") as table:
        table.add_column(sa.Column("listed_at", When(), nullable=True))
        table.add_column(sa.Column("added_by", Text(length=40), nullable=True))
        table.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    # Everyone who wrote or told us who they are is a contact from the start.
    op.execute(
        "UPDATE visitors SET listed_at = created_at WHERE name IS NOT NULL OR email IS NOT NULL"
        " OR phone IS NOT NULL OR user_id IS NOT NULL"
        " OR EXISTS (SELECT 1 FROM conversations WHERE conversations.visitor_id = visitors.id)"
    )
    op.create_index("ix_visitors_site_listed", "visitors", ["site_id", "listed_at"])
    op.create_table(
        "contact_changes",
        sa.Column("id", Text(length=40), primary_key=True),
        sa.Column("visitor_id", Text(length=40), sa.ForeignKey("visitors.id"), nullable=False),
        sa.Column("actor_type", Text(length=20), nullable=False),
        sa.Column("actor_id", Text(length=40), nullable=True),
        sa.Column("actor_name", Text(length=200), nullable=True),
        sa.Column("field", Text(length=80), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("at", When(), nullable=False),
    )
    op.create_index("ix_contact_changes_visitor_at", "contact_changes", ["visitor_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_contact_changes_visitor_at", table_name="contact_changes")
    op.drop_table("contact_changes")
    op.drop_index("ix_visitors_site_listed", table_name="visitors")
    with op.batch_alter_table("visitors") as table:
        table.drop_column("tags")
        table.drop_column("added_by")
        table.drop_column("listed_at")
