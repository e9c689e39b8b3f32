"""Runbooks and owners on watches and subscriptions; on approval requests, the version live
when asked (stale once another is live) and the alert episode a remediation answers. All
nullable: existing rows keep working, without them.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS: dict[str, list[tuple[str, type[sa.types.TypeEngine]]]] = {
    "deployment_watches": [("runbook", sa.String), ("owner", sa.String)],
    "assay_subscriptions": [("runbook", sa.String), ("owner", sa.String)],
    "approval_requests": [("live_version", sa.String), ("episode_id", sa.Integer)],
}


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for table, columns in COLUMNS.items():
        present = {c["name"] for c in inspector.get_columns(table)}
        missing = [(name, kind) for name, kind in columns if name not in present]
        if not missing:
            continue  # a development build's create_all made them already
        with op.batch_alter_table(table) as batch:
            for name, kind in missing:
                batch.add_column(sa.Column(name, kind(), nullable=True))
    indexes = {i["name"] for i in inspector.get_indexes("approval_requests")}
    if "ix_approval_requests_episode_id" not in indexes:
        op.create_index("ix_approval_requests_episode_id", "approval_requests", ["episode_id"])


def downgrade() -> None:
    op.drop_index("ix_approval_requests_episode_id", table_name="approval_requests")
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, _ in columns:
                batch.drop_column(name)
