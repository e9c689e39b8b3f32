"""The workspace of a subscribed assay's pipeline: a subscription knew its pipeline by name
only, so same-named pipelines of two workspaces followed in one channel shared a storm group
and a digest's pending requests. Nullable: a subscription made before it is matched by name,
as it was.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("assay_subscriptions")}
    if "workspace_id" in present:
        return  # a development build's create_all made it already
    with op.batch_alter_table("assay_subscriptions") as batch:
        batch.add_column(sa.Column("workspace_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assay_subscriptions") as batch:
        batch.drop_column("workspace_id")
