"""Wallaroo outages as the poller sees them: one notice when polls start failing, backoff
while it is down, one notice when it answers again. Results are not lost meanwhile: cursors
only move after a result is handled, so the first good poll catches up."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import TypeGuard

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.wallaroo import WallarooError, WallarooServerError, WallarooUnreachable
from handlers.alerting.staging import stored
from handlers.context import Services
from handlers.render.alert_notes import outage_notice
from handlers.render.blocks import Reply
from storage.outbox import OutboxKind, enqueue
from storage.watches import list_subscriptions, list_watches

logger = logging.getLogger(__name__)

MAX_BACKOFF_POLLS = 8


def is_outage(error: BaseException) -> TypeGuard[WallarooUnreachable | WallarooServerError]:
    """Failures that mean Wallaroo is down or broken, rather than one call being wrong."""
    return isinstance(error, WallarooUnreachable | WallarooServerError)


class OutageTracker:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.down_since: datetime | None = None
        self.failures = 0
        self._next_try = 0.0
        # Per job: whether its last poll reached Wallaroo. Down while any job fails, so that
        # one job failing and another succeeding does not flap between notices.
        self._failing: set[str] = set()

    @property
    def is_down(self) -> bool:
        return self.down_since is not None

    def may_poll(self) -> bool:
        """While Wallaroo is down, polls are spaced out: 2, 4, 8 ... poll intervals."""
        return not self.is_down or time.monotonic() >= self._next_try

    async def succeeded(self, job: str) -> None:
        self._failing.discard(job)
        if self.down_since is None or self._failing:
            return
        since, self.down_since, self.failures = self.down_since, None, 0
        logger.info("Wallaroo is reachable again (down since %s)", since)
        await self._notify(outage_notice(False, since))

    async def failed(self, job: str, error: WallarooError) -> None:
        self._failing.add(job)
        self.failures += 1
        backoff = (
            min(2**self.failures, MAX_BACKOFF_POLLS) * self.services.settings.chatops_poll_seconds
        )
        self._next_try = time.monotonic() + backoff
        if self.down_since is not None:
            return
        self.down_since = self.services.clock()
        logger.warning("Wallaroo unreachable: %s", error)
        await self._notify(outage_notice(True, self.down_since, error.msg))

    async def _notify(self, notice: Reply) -> None:
        async with self.services.sessions() as session:
            channels = await notice_channels(self.services, session)
            for channel in channels:
                await enqueue(
                    session, channel=channel, kind=OutboxKind.POST, message=stored(notice)
                )
            await session.commit()


async def notice_channels(services: Services, session: AsyncSession) -> list[str]:
    """The alert channel, or else every channel that receives alerts."""
    if services.settings.chatops_alert_channel:
        return [services.settings.chatops_alert_channel]
    watched = [w.channel for w in await list_watches(session)]
    subscribed = [s.channel for s in await list_subscriptions(session)]
    return list(dict.fromkeys(watched + subscribed))
