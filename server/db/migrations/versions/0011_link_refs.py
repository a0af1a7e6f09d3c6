"""link references: where a contact came from (first and latest), and what started a conversation

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visitors") as batch:
        batch.add_column(sa.Column("first_ref", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("latest_ref", sa.JSON(), nullable=True))
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("ref", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("ref")
    with op.batch_alter_table("visitors") as batch:
        batch.drop_column("latest_ref")
        batch.drop_column("first_ref")
