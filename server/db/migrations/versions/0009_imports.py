"""imports: CSV imports of contacts as durable jobs, their file and their rejected rows

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
When = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_index("ix_visitors_site_user", "visitors", ["site_id", "user_id"])
    op.create_index("ix_visitors_site_seen", "visitors", ["site_id", "last_seen_at"])
    op.create_index("ix_visitors_site_name", "visitors", ["site_id", "name"])
    op.create_table(
        "contact_imports",
        sa.Column("id", Text(length=40), primary_key=True),
        sa.Column("site_id", Text(length=40), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("created_by", Text(length=40), nullable=False),
        sa.Column("filename", Text(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("encoding", Text(length=40), nullable=False),
        sa.Column("delimiter", Text(length=4), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("mode", Text(length=10), nullable=False),
        sa.Column("keep_existing", sa.Boolean(), nullable=False),
        sa.Column("dry", sa.Boolean(), nullable=False),
        sa.Column("status", Text(length=10), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("lease_until", When(), nullable=True),
        sa.Column("error", Text(length=500), nullable=True),
        sa.Column("created_at", When(), nullable=False),
        sa.Column("finished_at", When(), nullable=True),
    )
    op.create_index("ix_contact_imports_status", "contact_imports", ["status", "lease_until"])
    op.create_table(
        "import_chunks",
        sa.Column("import_id", Text(length=40), sa.ForeignKey("contact_imports.id"), primary_key=True),
        sa.Column("n", sa.Integer(), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "import_rejects",
        sa.Column("import_id", Text(length=40), sa.ForeignKey("contact_imports.id"), primary_key=True),
        sa.Column("row", sa.Integer(), primary_key=True),
        sa.Column("reason", Text(length=300), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("import_rejects")
    op.drop_table("import_chunks")
    op.drop_index("ix_contact_imports_status", table_name="contact_imports")
    op.drop_table("contact_imports")
    op.drop_index("ix_visitors_site_name", table_name="visitors")
    op.drop_index("ix_visitors_site_seen", table_name="visitors")
    op.drop_index("ix_visitors_site_user", table_name="visitors")
