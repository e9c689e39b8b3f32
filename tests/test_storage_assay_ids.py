"""Migration 0004 on SQLite and PostgreSQL: assay ids become strings with every subscription and
cursor kept, and afterwards v1 numbers and v2 UUIDs live side by side."""

from __future__ import annotations

from sqlalchemy import text

from storage.alerts import advance_cursor, get_cursor
from storage.database import make_engine, session_factory
from storage.migrate import current_revision, head_revision, upgrade_database
from storage.watches import (
    AssaySubscription,
    add_subscription,
    is_subscribed,
    list_subscriptions,
    remove_subscription,
)

UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


async def test_0004_turns_integer_assay_ids_into_strings_keeping_the_rows(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        await upgrade_database(engine, "0003")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO assay_subscriptions (assay_id, channel, created_by, created_at) "
                    "VALUES (1, 'C1', 'U1', CURRENT_TIMESTAMP), (12, 'C2', 'U2', CURRENT_TIMESTAMP)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO assay_cursors (assay_id, last_window_start, updated_at) "
                    "VALUES (12, '2026-01-02T00:00:00Z', CURRENT_TIMESTAMP)"
                )
            )

        await upgrade_database(engine)

        assert await current_revision(engine) == head_revision()
        sessions = session_factory(engine)
        async with sessions() as session:
            kept = await list_subscriptions(session)
            assert [(s.assay_id, s.channel, s.assay_name) for s in kept] == [
                ("1", "C1", ""),
                ("12", "C2", ""),
            ]
            assert await get_cursor(session, "12") == "2026-01-02T00:00:00Z"
            assert await is_subscribed(session, "12")
            # A v2 assay beside them, and the unique id still holds.
            row = AssaySubscription(assay_id=UUID, assay_name="v2", channel="C3", created_by="U")
            assert await add_subscription(session, row) is not None
            again = AssaySubscription(assay_id="12", channel="C9", created_by="U")
            assert await add_subscription(session, again) is None
            assert await advance_cursor(session, UUID, None, "2026-01-03T00:00:00+00:00")
            await session.commit()
            assert await get_cursor(session, UUID) == "2026-01-03T00:00:00+00:00"
            assert await remove_subscription(session, UUID)
            assert await get_cursor(session, UUID) is None
            assert [s.assay_id for s in await list_subscriptions(session)] == ["1", "12"]
    finally:
        await engine.dispose()
