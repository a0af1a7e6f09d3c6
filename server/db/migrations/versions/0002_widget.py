"""widget: identified visitors, page views, tracked events, agent avatars

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

What the widget reports and needs: the host site's user id on a visitor
(unique per site among verified visitors), page views and custom events,
and an avatar for agents.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
When = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", Text(length=255), nullable=True))
        batch_op.add_column(sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index(
        "ux_visitors_site_verified_user",
        "visitors",
        ["site_id", "user_id"],
        unique=True,
        sqlite_where=sa.text("verified"),
        postgresql_where=sa.text("verified"),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("avatar_url", Text(length=2048), nullable=True))

    op.create_table(
        "page_views",
        sa.Column("id", Text(length=40), nullable=False),
        sa.Column("visitor_id", Text(length=40), nullable=False),
        sa.Column("site_id", Text(length=40), nullable=False),
        sa.Column("url", Text(length=2048), nullable=True),
        sa.Column("title", Text(length=512), nullable=True),
        sa.Column("referrer", Text(length=2048), nullable=True),
        sa.Column("at", When(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.ForeignKeyConstraint(["visitor_id"], ["visitors.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_page_views_visitor_at", "page_views", ["visitor_id", "at"])
    op.create_table(
        "tracked_events",
        sa.Column("id", Text(length=40), nullable=False),
        sa.Column("visitor_id", Text(length=40), nullable=False),
        sa.Column("site_id", Text(length=40), nullable=False),
        sa.Column("name", Text(length=100), nullable=False),
        sa.Column("props", sa.JSON(), nullable=False),
        sa.Column("at", When(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.ForeignKeyConstraint(["visitor_id"], ["visitors.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tracked_events_visitor_at", "tracked_events", ["visitor_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_tracked_events_visitor_at", table_name="tracked_events")
    op.drop_table("tracked_events")
    op.drop_index("ix_page_views_visitor_at", table_name="page_views")
    op.drop_table("page_views")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("avatar_url")
    op.drop_index("ux_visitors_site_verified_user", table_name="visitors")
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.drop_column("verified")
        batch_op.drop_column("user_id")
