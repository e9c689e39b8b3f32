"""Approval requests remember the pipeline version's UUID.

Today's Wallaroo lists and deploys pipeline versions by UUID (`pipeline_version`); only the
2022 tutorial's instances deploy by the integer `pipeline_version_pk_id`, which stays in
`pipeline_version_id`. Existing rows keep their integer and get no UUID.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLE = "approval_requests"
COLUMN = "pipeline_version"


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns(TABLE)}
    if COLUMN in columns:
        return  # a development build's create_all made it already
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column(COLUMN, sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_column(COLUMN)
