"""workspace: channels on conversations, snooze, roles' sections and channel grants,
login throttling, canned responses and agents' presence

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
When = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_id", Text(length=40), nullable=True))
        batch_op.add_column(sa.Column("snoozed_until", When(), nullable=True))
    # Conversations so far all came through the web widget.
    op.execute(
        "UPDATE conversations SET channel_id = (SELECT id FROM channels WHERE channels.site_id = "
        "conversations.site_id AND channels.kind = 'web')"
    )
    op.create_index("ix_conversations_snoozed_until", "conversations", ["snoozed_until"])
    # Search probes "does this visitor have a term in this range?" while walking the
    # newest conversations: one index seek with the term beside the visitor.
    op.drop_index("ix_visitor_terms_visitor", table_name="visitor_terms")
    op.create_index("ix_visitor_terms_visitor_term", "visitor_terms", ["visitor_id", "term"])
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sections", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("all_channels", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("last_routed_at", When(), nullable=True))
    op.create_table(
        "user_channels",
        sa.Column("user_id", Text(length=40), sa.ForeignKey("users.id"), nullable=False),
        sa.Column(
            "channel_id", Text(length=40), sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False
        ),
        sa.PrimaryKeyConstraint("user_id", "channel_id"),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("email", Text(length=254), nullable=False),
        sa.Column("ip", Text(length=64), nullable=False),
        sa.Column("at", When(), nullable=False),
    )
    op.create_index("ix_login_failures_email_at", "login_failures", ["email", "at"])
    op.create_index("ix_login_failures_ip_at", "login_failures", ["ip", "at"])
    op.create_table(
        "canned_responses",
        sa.Column("id", Text(length=40), primary_key=True),
        sa.Column("shortcut", Text(length=40), nullable=False, unique=True),
        sa.Column("text", Text(length=1000), nullable=False),
        sa.Column("created_at", When(), nullable=False),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachments", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "attachments",
        sa.Column("id", Text(length=40), primary_key=True),
        sa.Column("site_id", Text(length=40), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("uploader_type", Text(length=20), nullable=False),
        sa.Column("uploader_id", Text(length=40), nullable=False),
        sa.Column("name", Text(length=200), nullable=False),
        sa.Column("content_type", Text(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", Text(length=64), nullable=False),
        sa.Column("message_id", Text(length=40), nullable=True),
        sa.Column("created_at", When(), nullable=False),
    )
    op.create_index("ix_attachments_message_id", "attachments", ["message_id"])
    op.create_table(
        "attachment_blobs",
        sa.Column("id", Text(length=40), sa.ForeignKey("attachments.id"), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "agent_presence",
        sa.Column("user_id", Text(length=40), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("process_id", Text(length=40), nullable=False),
        sa.Column("sockets", sa.Integer(), nullable=False),
        sa.Column("seen_at", When(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "process_id"),
    )


def downgrade() -> None:
    op.drop_table("agent_presence")
    op.drop_table("attachment_blobs")
    op.drop_index("ix_attachments_message_id", table_name="attachments")
    op.drop_table("attachments")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("attachments")
    op.drop_table("canned_responses")
    op.drop_index("ix_login_failures_ip_at", table_name="login_failures")
    op.drop_index("ix_login_failures_email_at", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_table("user_channels")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("last_routed_at")
        batch_op.drop_column("all_channels")
        batch_op.drop_column("sections")
    op.drop_index("ix_conversations_snoozed_until", table_name="conversations")
    op.drop_index("ix_visitor_terms_visitor_term", table_name="visitor_terms")
    op.create_index("ix_visitor_terms_visitor", "visitor_terms", ["visitor_id"])
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("snoozed_until")
        batch_op.drop_column("channel_id")
