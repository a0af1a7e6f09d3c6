"""bots: answer flows (drafts and published versions), runs, quick replies on messages

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
When = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("bot_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bot_name", Text(length=60), nullable=False, server_default="Bot"))
        batch_op.add_column(sa.Column("draft", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("updated_at", When(), nullable=True))
    op.create_table(
        "bot_answer_versions",
        sa.Column(
            "answer_id", Text(length=40), sa.ForeignKey("bot_answers.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("flow", sa.JSON(), nullable=False),
        sa.Column("published_at", When(), nullable=False),
        sa.PrimaryKeyConstraint("answer_id", "version"),
    )
    op.create_table(
        "bot_runs",
        sa.Column("conversation_id", Text(length=40), sa.ForeignKey("conversations.id"), primary_key=True),
        sa.Column("answer_id", Text(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("status", Text(length=20), nullable=False),
        sa.Column("wake_at", When(), nullable=True),
        sa.Column("updated_at", When(), nullable=False),
    )
    op.create_index("ix_bot_runs_wake_at", "bot_runs", ["wake_at"])
    # Answers published before flows existed become version 1 of the starter flow (a handoff).
    starter = (
        '{"start": "hello", "steps": {"hello": '
        '{"type": "handoff", "text": "Let me find someone to help you."}}}'
    )
    op.execute(
        "INSERT INTO bot_answer_versions (answer_id, version, flow, published_at) "
        f"SELECT id, 1, '{starter}', created_at FROM bot_answers WHERE published"
    )
    op.execute("UPDATE bot_answers SET version = 1 WHERE published")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("buttons", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bot_active", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("bot_active")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("buttons")
    op.drop_index("ix_bot_runs_wake_at", table_name="bot_runs")
    op.drop_table("bot_runs")
    op.drop_table("bot_answer_versions")
    with op.batch_alter_table("bot_answers", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("version")
        batch_op.drop_column("draft")
        batch_op.drop_column("bot_name")
