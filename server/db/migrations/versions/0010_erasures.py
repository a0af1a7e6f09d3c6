"""erasures: that a contact was erased, by whom and how much went, nothing about them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
When = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("id", Text(length=40), primary_key=True),
        sa.Column("site_id", Text(length=40), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("erased_by", Text(length=40), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("at", When(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("erasures")
