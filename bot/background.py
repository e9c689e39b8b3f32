"""What a bot process runs beside its commands: approved changes an earlier process left
unfinished, resumed first, and the poller (deployments, assays, reminders, the outbox)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.scheduler import Poller
from handlers.approvals.rollout import resume_in_flight
from handlers.context import Services


@asynccontextmanager
async def background_work(services: Services, *, poll: bool = True) -> AsyncIterator[Poller | None]:
    """Resume in-flight rollouts, then run the poller (unless `poll` is False) until exit."""
    await resume_in_flight(services)
    poller = Poller(services) if poll else None
    if poller is not None:
        await poller.start()
    try:
        yield poller
    finally:
        if poller is not None:
            await poller.stop()
