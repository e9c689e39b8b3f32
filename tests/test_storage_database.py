"""Engines from the settings' URLs: asyncio drivers, one shared in-memory SQLite, tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from storage.audit import AuditEntry
from storage.database import (
    async_url,
    has_table,
    make_engine,
    session_factory,
)
from storage.migrate import upgrade_database
from storage.roles import RoleGrant


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///chatops.db", "sqlite+aiosqlite:///chatops.db"),
        ("sqlite:////var/lib/chatops.db", "sqlite+aiosqlite:////var/lib/chatops.db"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("sqlite+aiosqlite:///chatops.db", "sqlite+aiosqlite:///chatops.db"),
        ("postgresql+psycopg://bot@db/chatops", "postgresql+psycopg://bot@db/chatops"),
        ("postgresql://bot@db/chatops", "postgresql+psycopg://bot@db/chatops"),
    ],
)
def test_urls_get_an_asyncio_driver(given: str, expected: str) -> None:
    assert async_url(given).render_as_string(hide_password=False) == expected


def test_a_driver_without_asyncio_support_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="postgresql\\+psycopg"):
        async_url("mysql+pymysql://bot@db/chatops")


async def test_in_memory_sqlite_is_one_database_for_every_session() -> None:
    engine = make_engine("sqlite://")
    try:
        await upgrade_database(engine)
        sessions = session_factory(engine)
        async with sessions() as first:
            first.add(RoleGrant(slack_user_id="U1", role="admin", granted_by="U0"))
            await first.commit()
        async with sessions() as second:
            count = await second.exec(text("SELECT count(*) FROM role_grants"))
            assert count.scalar_one() == 1
    finally:
        await engine.dispose()


async def test_upgrading_again_is_a_no_op_and_keeps_rows(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'chatops.db'}")
    try:
        assert not await has_table(engine, AuditEntry.__tablename__)
        await upgrade_database(engine)
        async with session_factory(engine)() as session:
            session.add(RoleGrant(slack_user_id="U1", role="admin", granted_by="U0"))
            await session.commit()
        await upgrade_database(engine)
        assert await has_table(engine, AuditEntry.__tablename__)
        assert await has_table(engine, RoleGrant.__tablename__)
        async with session_factory(engine)() as session:
            count = await session.exec(text("SELECT count(*) FROM role_grants"))
            assert count.scalar_one() == 1
    finally:
        await engine.dispose()
