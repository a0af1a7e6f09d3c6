"""contact exports: the list as CSV, a job with its progress and its file in chunks

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
When = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "contact_exports",
        sa.Column("id", Text(length=40), primary_key=True),
        sa.Column("site_id", Text(length=40), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("created_by", Text(length=40), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("status", Text(length=10), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("cursor", Text(length=400), nullable=True),
        sa.Column("lease_until", When(), nullable=True),
        sa.Column("error", Text(length=500), nullable=True),
        sa.Column("created_at", When(), nullable=False),
        sa.Column("finished_at", When(), nullable=True),
    )
    op.create_index("ix_contact_exports_status", "contact_exports", ["status", "lease_until"])
    op.create_table(
        "export_chunks",
        sa.Column("export_id", Text(length=40), sa.ForeignKey("contact_exports.id"), primary_key=True),
        sa.Column("n", sa.Integer(), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("export_chunks")
    op.drop_index("ix_contact_exports_status", table_name="contact_exports")
    op.drop_table("contact_exports")
