"""Assay ids as strings (a v1 assay's number "3" or a v2 assay's UUID) in subscriptions and
cursors, keeping their rows; subscriptions also keep the assay's and pipeline's names, which
today's results no longer carry. Episode subjects (`assay:<id>`) were strings already.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("assay_subscriptions", "assay_cursors")


def upgrade() -> None:
    # Batch mode: SQLite cannot change a column's type in place, so the table is copied (rows,
    # the unique constraint and the primary key with it); PostgreSQL alters it.
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                "assay_id",
                existing_type=sa.Integer(),
                type_=sa.String(),
                existing_nullable=False,
                postgresql_using="assay_id::text",
            )
    with op.batch_alter_table("assay_subscriptions") as batch_op:
        batch_op.add_column(sa.Column("assay_name", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("pipeline_name", sa.String(), nullable=False, server_default="")
        )


def downgrade() -> None:
    # v2 assays have no integer id: their subscriptions and cursors cannot go back.
    for table in TABLES:
        op.execute(sa.text(f"DELETE FROM {table} WHERE assay_id LIKE '%-%'"))
    with op.batch_alter_table("assay_subscriptions") as batch_op:
        batch_op.drop_column("pipeline_name")
        batch_op.drop_column("assay_name")
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                "assay_id",
                existing_type=sa.String(),
                type_=sa.Integer(),
                existing_nullable=False,
                postgresql_using="assay_id::integer",
            )
