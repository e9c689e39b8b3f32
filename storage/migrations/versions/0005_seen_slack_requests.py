"""Slack requests already received (a trigger id, an event id or a body hash), so a replayed
or retried request is not run twice, whichever replica it reaches.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_slack_requests",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(
        "ix_seen_slack_requests_expires_at", "seen_slack_requests", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_seen_slack_requests_expires_at", table_name="seen_slack_requests")
    op.drop_table("seen_slack_requests")
