"""proactive messages: channels, bot answers, messages, deliveries; visit details; conversation tags

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Every existing site gets a web channel and a mobile SDK channel, enabled.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from server.ids import new_id

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
When = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "channels",
        sa.Column("id", Text(length=40), primary_key=True),
        sa.Column("site_id", Text(length=40), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("kind", Text(length=10), nullable=False),
        sa.Column("name", Text(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("sender_name", Text(length=100), nullable=False),
        sa.Column("sender_avatar_url", Text(length=2048), nullable=True),
        sa.Column("created_at", When(), nullable=False),
    )
    op.create_index("ix_channels_site_id", "channels", ["site_id"])
    op.create_table(
        "bot_answers",
        sa.Column("id", Text(length=40), primary_key=True),
        sa.Column("site_id", Text(length=40), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("name", Text(length=100), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created_at", When(), nullable=False),
    )
    op.create_index("ix_bot_answers_site_id", "bot_answers", ["site_id"])
    op.create_table(
        "proactive_messages",
        sa.Column("id", Text(length=40), primary_key=True),
        sa.Column("site_id", Text(length=40), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("name", Text(length=100), nullable=False),
        sa.Column("status", Text(length=10), nullable=False),
        sa.Column("error_reason", Text(length=300), nullable=True),
        sa.Column("channel_id", Text(length=40), nullable=True),
        sa.Column("response", Text(length=10), nullable=False),
        sa.Column("text", Text(length=280), nullable=False),
        sa.Column("collect", sa.JSON(), nullable=False),
        sa.Column("followup", Text(length=280), nullable=False),
        sa.Column("bot_answer_id", Text(length=40), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("trigger", sa.JSON(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("schedule", Text(length=30), nullable=False),
        sa.Column("frequency", Text(length=20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("created_at", When(), nullable=False),
        sa.Column("updated_at", When(), nullable=False),
    )
    op.create_index("ix_proactive_messages_site_id", "proactive_messages", ["site_id"])
    op.create_table(
        "proactive_deliveries",
        sa.Column("id", Text(length=40), primary_key=True),
        sa.Column("message_id", Text(length=40), sa.ForeignKey("proactive_messages.id"), nullable=False),
        sa.Column("site_id", Text(length=40), nullable=False),
        sa.Column("visitor_id", Text(length=40), sa.ForeignKey("visitors.id"), nullable=False),
        sa.Column("visit_id", Text(length=40), nullable=False),
        sa.Column("dedupe_key", Text(length=200), nullable=False),
        sa.Column("shown_at", When(), nullable=False),
        sa.Column("opened_at", When(), nullable=True),
        sa.Column("dismissed_at", When(), nullable=True),
        sa.Column("replied_at", When(), nullable=True),
        sa.Column("conversation_id", Text(length=40), nullable=True),
    )
    op.create_index("ix_proactive_deliveries_message_id", "proactive_deliveries", ["message_id"])
    op.create_index("ix_proactive_deliveries_visitor_id", "proactive_deliveries", ["visitor_id"])
    op.create_index("ux_proactive_deliveries_dedupe", "proactive_deliveries", ["dedupe_key"], unique=True)
    op.create_index("ix_proactive_deliveries_visit", "proactive_deliveries", ["visit_id"])

    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device", Text(length=20), nullable=True))
        batch_op.add_column(sa.Column("browser", Text(length=50), nullable=True))
        batch_op.add_column(sa.Column("os", Text(length=50), nullable=True))
        batch_op.add_column(sa.Column("utm", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))

    bind = op.get_bind()
    now = datetime.now(UTC)
    channels = sa.table(
        "channels",
        *(sa.column(c) for c in ("id", "site_id", "kind", "name", "enabled", "sender_name", "created_at")),
    )
    for site_id, name in bind.execute(sa.text("SELECT id, name FROM sites")).all():
        for kind, label in (("web", "Web widget"), ("sdk", "Mobile SDK")):
            bind.execute(
                channels.insert().values(
                    id=new_id("chn"),
                    site_id=site_id,
                    kind=kind,
                    name=label,
                    enabled=True,
                    sender_name=name,
                    created_at=now,
                )
            )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("tags")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        for column in ("utm", "os", "browser", "device"):
            batch_op.drop_column(column)
    op.drop_table("proactive_deliveries")
    op.drop_table("proactive_messages")
    op.drop_table("bot_answers")
    op.drop_table("channels")
