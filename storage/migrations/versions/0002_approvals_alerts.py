"""Approval requests, alert episodes, assay cursors, deployment health, the outbox and
the scheduler lease.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if _missing("approval_requests"):
        op.create_table(
            "approval_requests",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("action", sa.String(), nullable=False),
            sa.Column("workspace_id", sa.Integer(), nullable=False),
            sa.Column("workspace_name", sa.String(), nullable=False),
            sa.Column("pipeline_id", sa.Integer(), nullable=False),
            sa.Column("pipeline_name", sa.String(), nullable=False),
            sa.Column("pipeline_version_id", sa.Integer(), nullable=True),
            sa.Column("deploy_id", sa.String(), nullable=False),
            sa.Column("deployment_id", sa.Integer(), nullable=True),
            sa.Column("requester_id", sa.String(), nullable=False),
            sa.Column("requester_name", sa.String(), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("channel", sa.String(), nullable=False),
            sa.Column("message_ts", sa.String(), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("state", sa.String(), nullable=False),
            sa.Column("decided_by", sa.String(), nullable=True),
            sa.Column("decided_by_name", sa.String(), nullable=True),
            sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("decision_note", sa.Text(), nullable=True),
            sa.Column("call_sent_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("last_status", sa.String(), nullable=True),
            sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("outcome", sa.Text(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("approval_requests", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_approval_requests_state"), ["state"], unique=False)

    if _missing("alert_episodes"):
        op.create_table(
            "alert_episodes",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("kind", sa.String(), nullable=False),
            sa.Column("subject", sa.String(), nullable=False),
            sa.Column("title", sa.String(), nullable=False),
            sa.Column("channel", sa.String(), nullable=False),
            sa.Column("message_ts", sa.String(), nullable=True),
            sa.Column("state", sa.String(), nullable=False),
            sa.Column("severity", sa.String(), nullable=False),
            sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("count", sa.Integer(), nullable=False),
            sa.Column("latest_score", sa.Float(), nullable=True),
            sa.Column("worst_score", sa.Float(), nullable=True),
            sa.Column("latest_window", sa.String(), nullable=True),
            sa.Column("escalation_announced", sa.Boolean(), nullable=False),
            sa.Column("acknowledged_by", sa.String(), nullable=True),
            sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
            sa.Column("last_reminded_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("detail", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("alert_episodes", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_alert_episodes_state"), ["state"], unique=False)
            batch_op.create_index(
                "one_open_episode_per_subject",
                ["subject"],
                unique=True,
                sqlite_where=sa.text("state = 'open'"),
                postgresql_where=sa.text("state = 'open'"),
            )

    if _missing("assay_cursors"):
        op.create_table(
            "assay_cursors",
            sa.Column("assay_id", sa.Integer(), nullable=False),
            sa.Column("last_window_start", sa.String(), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("assay_id"),
        )

    if _missing("deployment_health"):
        op.create_table(
            "deployment_health",
            sa.Column("pipeline_id", sa.Integer(), nullable=False),
            sa.Column("status", sa.String(), nullable=False),
            sa.Column("since", sa.DateTime(timezone=True), nullable=False),
            sa.Column("was_running", sa.Boolean(), nullable=False),
            sa.PrimaryKeyConstraint("pipeline_id"),
        )

    if _missing("outbox_messages"):
        op.create_table(
            "outbox_messages",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("channel", sa.String(), nullable=False),
            sa.Column("kind", sa.String(), nullable=False),
            sa.Column("episode_id", sa.Integer(), nullable=True),
            sa.Column("body", sa.Text(), nullable=False),
            sa.Column("file_content", sa.LargeBinary(), nullable=True),
            sa.Column("filename", sa.String(), nullable=True),
            sa.Column("state", sa.String(), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("error", sa.Text(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_outbox_messages_channel"), ["channel"], unique=False
            )
            batch_op.create_index(
                batch_op.f("ix_outbox_messages_episode_id"), ["episode_id"], unique=False
            )
            batch_op.create_index(batch_op.f("ix_outbox_messages_state"), ["state"], unique=False)

    if _missing("scheduler_leases"):
        op.create_table(
            "scheduler_leases",
            sa.Column("name", sa.String(), nullable=False),
            sa.Column("holder", sa.String(), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("name"),
        )


def downgrade() -> None:
    op.drop_table("scheduler_leases")
    op.drop_table("outbox_messages")
    op.drop_table("deployment_health")
    op.drop_table("assay_cursors")
    op.drop_table("alert_episodes")
    op.drop_table("approval_requests")


def _missing(table: str) -> bool:
    # A database made by a development build between 0001 and 0002 may have some of these
    # tables already (made by create_all); create only what is not there.
    return not sa.inspect(op.get_bind()).has_table(table)
