"""The poller lease on SQLite and PostgreSQL: one holder at a time, taken over once it runs
out, handed over at once when given up."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.leases import give_up_lease, hold_lease, lease_holder


async def hold(sessions: async_sessionmaker[AsyncSession], holder: str, seconds: float) -> bool:
    async with sessions() as session:
        return await hold_lease(session, "poller", holder, seconds)


async def holder(sessions: async_sessionmaker[AsyncSession]) -> str | None:
    async with sessions() as session:
        return await lease_holder(session, "poller")


async def test_one_holder_at_a_time_even_when_all_ask_at_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    wins = await asyncio.gather(*(hold(sessions, f"r{i}", 30) for i in range(10)))
    assert sum(wins) == 1
    winner = f"r{wins.index(True)}"
    assert await holder(sessions) == winner
    assert await hold(sessions, winner, 30)  # renewing
    assert not await hold(sessions, "other", 30)


async def test_an_expired_lease_is_taken_over(sessions: async_sessionmaker[AsyncSession]) -> None:
    assert await hold(sessions, "a", 0.3)
    assert not await hold(sessions, "b", 0.3)
    await asyncio.sleep(0.4)  # a stopped renewing
    assert await holder(sessions) is None
    assert await hold(sessions, "b", 30)
    assert not await hold(sessions, "a", 30)  # a cannot take it back while b renews


async def test_giving_up_hands_over_at_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    assert await hold(sessions, "a", 30)
    async with sessions() as session:
        await give_up_lease(session, "poller", "a")
        await session.commit()
    assert await hold(sessions, "b", 30)
