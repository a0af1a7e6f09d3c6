"""inbox: who spoke last in each conversation, visitors' phones, and the inbox's indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_visitor_seq", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_agent_seq", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_preview", Text(length=140), nullable=False, server_default=""))
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", Text(length=40), nullable=True))
        batch_op.add_column(sa.Column("phone_digits", Text(length=20), nullable=True))
    # The inbox: by status (All), by assignee (Mine), unassigned; newest first.
    op.create_index("ix_conversations_status_activity", "conversations", ["status", "last_activity_at"])
    op.create_index(
        "ix_conversations_assignee_status_activity",
        "conversations",
        ["assignee_id", "status", "last_activity_at"],
    )
    # Search: names by word prefix, email by substring and phone by digits, through a table of terms.
    # Byte order on PostgreSQL ("C"): a prefix's terms must sit side by side in the index.
    term = sa.String(120).with_variant(sa.String(120, collation="C"), "postgresql")
    op.create_table(
        "visitor_terms",
        sa.Column("term", term, nullable=False),
        sa.Column("visitor_id", Text(length=40), sa.ForeignKey("visitors.id"), nullable=False),
        sa.PrimaryKeyConstraint("term", "visitor_id"),
    )
    op.create_index("ix_visitor_terms_visitor", "visitor_terms", ["visitor_id"])


def downgrade() -> None:
    op.drop_table("visitor_terms")
    op.drop_index("ix_conversations_assignee_status_activity", table_name="conversations")
    op.drop_index("ix_conversations_status_activity", table_name="conversations")
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.drop_column("phone_digits")
        batch_op.drop_column("phone")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("last_preview")
        batch_op.drop_column("last_agent_seq")
        batch_op.drop_column("last_visitor_seq")
