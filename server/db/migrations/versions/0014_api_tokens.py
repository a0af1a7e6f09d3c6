"""api tokens: a site's scoped, revocable keys for integrations, stored hashed

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
When = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", Text(length=40), primary_key=True),
        sa.Column("site_id", Text(length=40), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("name", Text(length=100), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("digest", Text(length=64), nullable=False),
        sa.Column("hint", Text(length=16), nullable=False),
        sa.Column("created_by", Text(length=40), nullable=True),
        sa.Column("created_at", When(), nullable=False),
        sa.Column("last_used_at", When(), nullable=True),
        sa.Column("revoked_at", When(), nullable=True),
        sa.Column("window_start", When(), nullable=True),
        sa.Column("window_uses", sa.Integer(), nullable=False),
    )
    op.create_index("ix_api_tokens_site_id", "api_tokens", ["site_id"])
    op.create_index("ix_api_tokens_digest", "api_tokens", ["digest"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_api_tokens_digest", table_name="api_tokens")
    op.drop_index("ix_api_tokens_site_id", table_name="api_tokens")
    op.drop_table("api_tokens")
