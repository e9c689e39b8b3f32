"""Alembic migrations on SQLite and PostgreSQL: an empty database gets exactly the models'
schema; one made before migrations existed is recognised and upgraded with its rows kept."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from storage.audit import AuditLog
from storage.database import has_table, make_engine, session_factory
from storage.migrate import BASELINE, current_revision, head_revision, upgrade_database
from storage.roles import Role, grant_role, list_grants


async def make_pre_migration_database(engine: AsyncEngine) -> None:
    """What the previous version left: its tables, made by create_all, no alembic_version."""
    await upgrade_database(engine, BASELINE)
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE alembic_version"))


async def test_an_empty_database_gets_exactly_the_models_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await upgrade_database(engine)
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}),
                    SQLModel.metadata,
                )
            )
        assert differences == []
        assert await current_revision(engine) == head_revision()
        await upgrade_database(engine)  # again: nothing to do
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_a_database_from_before_migrations_is_upgraded_with_its_rows(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        await make_pre_migration_database(engine)
        sessions = session_factory(engine)
        async with sessions() as session:
            await grant_role(session, "U1", Role.APPROVER, "U0")
        await AuditLog(sessions).record(
            slack_user_id="U0",
            slack_user_name="zero",
            team_id="T1",
            channel_id="C1",
            command_text="access grant <@U1> approver",
            area="access",
            action="grant",
            target="U1",
            outcome="ok",
            duration_ms=3,
        )
        assert not await has_table(engine, "approval_requests")

        await upgrade_database(engine)

        assert await current_revision(engine) == head_revision()
        for table in ("approval_requests", "alert_episodes", "outbox_messages", "scheduler_leases"):
            assert await has_table(engine, table), table
        async with sessions() as session:
            assert [g.slack_user_id for g in await list_grants(session)] == ["U1"]
            count = await session.exec(text("SELECT count(*) FROM audit_entries"))
            assert count.scalar_one() == 1
    finally:
        await engine.dispose()


async def test_replicas_starting_together_upgrade_once(postgres_server_url: str) -> None:
    from tests.helpers.postgres import create_database

    url = create_database(postgres_server_url)
    engines = [make_engine(url) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade_database(engine) for engine in engines))
        assert await current_revision(engines[0]) == head_revision()
    finally:
        for engine in engines:
            await engine.dispose()


def test_db_upgrade_command(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"at revision {head_revision()}" in done.stdout


async def test_a_database_with_some_newer_tables_but_no_version_is_upgraded(
    database_url: str,
) -> None:
    """Made by a development build that created tables before migrations existed."""
    from storage.approvals import ApprovalRequest

    engine = make_engine(database_url)
    try:
        await make_pre_migration_database(engine)
        async with engine.begin() as connection:
            await connection.run_sync(
                lambda sync: ApprovalRequest.__table__.create(sync)  # type: ignore[attr-defined]
            )
        await upgrade_database(engine)
        assert await current_revision(engine) == head_revision()
        assert await has_table(engine, "outbox_messages")
    finally:
        await engine.dispose()
