"""Delivering the outbox: in order per channel, at most one message a second per channel,
retried with backoff when Slack fails, never re-posted once sent.

Channels are independent: each is delivered by its own task, so one channel's trouble never
holds up another's; what a failure leaves (a channel waiting, given up, a row retried later) is
outbox_send.py's, which sends each row. An episode's edits and thread replies wait for its
opening message, so nothing is posted out of order or without its thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable

from handlers.alerting.outbox_send import RowSender, Sent
from handlers.context import Services
from storage.alerts import get_episode
from storage.outbox import OutboxKind, OutboxMessage, pending_channels, pending_messages

logger = logging.getLogger(__name__)

IDLE_WAKE_SECONDS = 1.0


class OutboxSender:
    def __init__(self, services: Services, may_send: Callable[[], bool] = lambda: True) -> None:
        self.services = services
        self._rows = RowSender(services, self.wake)
        # Only the replica that holds the poller lease delivers: two senders would double-post.
        self.may_send = may_send
        self._wake = asyncio.Event()
        self._last_sent: dict[str, float] = defaultdict(lambda: float("-inf"))
        # One delivery at a time per channel in this process (order and pacing); the claim's
        # compare-and-set keeps other processes out.
        self._channel_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._tasks: set[asyncio.Task[int]] = set()

    def wake(self) -> None:
        """Something was enqueued: deliver now rather than at the next idle check."""
        self._wake.set()

    async def run_forever(self) -> None:
        try:
            while True:
                try:
                    if self.may_send():
                        await self._start_idle_channels()
                except Exception:  # a bug must not stop delivery for good
                    logger.exception("outbox delivery failed")
                try:
                    async with asyncio.timeout(IDLE_WAKE_SECONDS):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                self._wake.clear()
        finally:  # stopped: the channels' deliveries stop too (their rows stay pending)
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.wait(list(self._tasks))

    async def _start_idle_channels(self) -> None:
        """A delivery task for each channel with pending rows that has none running; a busy
        channel (pacing, a slow call) is left to its own task and picked up when it is done."""
        for channel in await self._channels_pending():
            if self._channel_locks[channel].locked():
                continue
            task = asyncio.create_task(self._deliver_channel(channel), name=f"outbox-{channel}")
            self._tasks.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[int]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("outbox delivery failed", exc_info=task.exception())
        elif not task.cancelled() and task.result():
            self.wake()  # it sent something: what was queued behind it may be due now

    async def deliver_due(self) -> int:
        """Send what is due, channel by channel (channels in parallel), and wait for it;
        returns how many were sent (for tests, `poll_once` and benchmarks)."""
        results = await asyncio.gather(
            *(self._deliver_channel(ch) for ch in await self._channels_pending()),
            return_exceptions=True,  # one channel's trouble must not orphan the others
        )
        for result in results:
            if isinstance(result, BaseException):
                logger.error("outbox delivery failed", exc_info=result)
        return sum(r for r in results if isinstance(r, int))

    async def _channels_pending(self) -> list[str]:
        async with self.services.sessions() as session:
            return await pending_channels(session)

    async def _deliver_channel(self, channel: str) -> int:
        """The channel's rows in order. An episode's rows keep their order (a row waits for
        the ones before it); other episodes and notices in the channel go on meanwhile."""
        async with self._channel_locks[channel]:
            async with self.services.sessions() as session:
                rows = await pending_messages(session, channel)
            sent = 0
            # Order is kept per episode, and among the notices (no episode) of the channel: a
            # row waits while an earlier one of its kind is not out.
            waiting: set[int | None] = set()
            for row in rows:
                if row.episode_id in waiting:
                    continue
                if not self.may_send():
                    break  # this replica lost the lease mid-pass
                target = await self._target(row)
                if row.next_attempt_at > self.services.clock() or target is None:
                    waiting.add(row.episode_id)
                    continue
                await self._pace(row.channel)
                outcome = await self._rows.send(row, *target)
                if outcome == Sent.OK:
                    sent += 1
                elif outcome == Sent.CHANNEL_WAITS:
                    break
                else:
                    waiting.add(row.episode_id)
            return sent

    async def _target(self, row: OutboxMessage) -> tuple[str, str | None] | None:
        """(channel id, episode message ts) to send the row to; None while its episode's
        opening message is not out yet."""
        if row.episode_id is None or row.kind == OutboxKind.POST:
            return row.channel, None
        async with self.services.sessions() as session:
            episode = await get_episode(session, row.episode_id)
        if episode is None or episode.message_ts is None:
            return None
        return episode.channel, episode.message_ts

    async def _pace(self, channel: str) -> None:
        pause = self.services.settings.chatops_channel_pacing_seconds
        wait = self._last_sent[channel] + pause - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_sent[channel] = time.monotonic()
