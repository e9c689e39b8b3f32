"""Approval requests keep the model-step diff they were asked with (`change_summary`), so a
decided request's message still shows what changed. Old rows: NULL (no diff shown).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("approval_requests")}
    if "change_summary" in columns:
        return  # a development build's create_all made it already
    with op.batch_alter_table("approval_requests") as batch:
        batch.add_column(sa.Column("change_summary", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        batch.drop_column("change_summary")
