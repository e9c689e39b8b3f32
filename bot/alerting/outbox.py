"""Delivering the outbox: in order per channel, at most one message a second per channel,
retried with backoff when Slack fails, never re-posted once sent.

A 429 is handled inside slack_sdk (its rate-limit retry handler waits Retry-After and tries
again: Slack did not take the call, so that cannot post twice). Any other failure leaves the
row pending with a later `next_attempt_at`; an episode's edits and thread replies wait for its
opening message, so nothing is posted out of order or without its thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from slack_sdk.models.blocks import Block
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat import ChatError
from bot.services import Services
from handlers.blocks import Reply
from storage.alerts import AlertEpisode, get_episode
from storage.outbox import FAILED, SENT, OutboxMessage, enqueue, mark, pending_messages
from storage.utc import utc_now

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 300.0
IDLE_WAKE_SECONDS = 1.0


class OutboxSender:
    def __init__(self, services: Services, may_send: Callable[[], bool] = lambda: True) -> None:
        self.services = services
        # Only the replica that holds the poller lease delivers: two senders would double-post.
        self.may_send = may_send
        self._wake = asyncio.Event()
        self._last_sent: dict[str, float] = defaultdict(lambda: float("-inf"))
        self._lock = asyncio.Lock()

    def wake(self) -> None:
        """Something was enqueued: deliver now rather than at the next idle check."""
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            try:
                if self.may_send():
                    await self.deliver_due()
            except Exception:  # a bug must not stop delivery for good
                logger.exception("outbox delivery failed")
            try:
                async with asyncio.timeout(IDLE_WAKE_SECONDS):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()

    async def deliver_due(self) -> int:
        """Send what is due, channel by channel (channels in parallel); returns how many."""
        async with self._lock:  # one delivery pass at a time in this process
            async with self.services.sessions() as session:
                pending = await pending_messages(session)
            by_channel: dict[str, list[OutboxMessage]] = defaultdict(list)
            for row in pending:
                by_channel[row.channel].append(row)
            sent = await asyncio.gather(
                *(self._deliver_channel(rows) for rows in by_channel.values())
            )
            return sum(sent)

    async def _deliver_channel(self, rows: list[OutboxMessage]) -> int:
        sent = 0
        for row in rows:
            if row.next_attempt_at > utc_now():
                break  # keep the channel's order: later rows wait for this one
            thread_ts = None
            if row.kind != "post" or row.episode_id is None:
                thread_ts = await self._thread_of(row)
                if thread_ts is False:
                    break  # the episode's opening message is not out yet
            await self._pace(row.channel)
            if not await self._send(row, thread_ts or None):
                break
            sent += 1
        return sent

    async def _thread_of(self, row: OutboxMessage) -> str | bool | None:
        """The episode message's ts for edits, thread replies and uploads; False to wait."""
        if row.episode_id is None:
            return None
        async with self.services.sessions() as session:
            episode = await get_episode(session, row.episode_id)
        if episode is None or episode.message_ts is None:
            return False
        return episode.message_ts

    async def _pace(self, channel: str) -> None:
        pause = self.services.settings.chatops_channel_pacing_seconds
        wait = self._last_sent[channel] + pause - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_sent[channel] = time.monotonic()

    async def _send(self, row: OutboxMessage, thread_ts: str | None) -> bool:
        chat = self.services.chat
        message = row.message
        reply = _as_reply(message)
        # Counted before the call: a process that dies mid-call leaves attempts > 0 behind,
        # and whoever delivers the row next knows the post may already be in the channel.
        async with self.services.sessions() as session:
            await mark(session, row.id or 0, attempts=row.attempts + 1)
        key = f"outbox-{row.id}"
        try:
            if row.kind in ("post", "thread"):
                earlier = None
                if row.attempts > 0:
                    earlier = await chat.find_posted(row.channel, key, row.created_at, thread_ts)
                posted = earlier or await chat.post(
                    row.channel, reply, thread_ts=thread_ts, key=key
                )
                if row.kind == "post":
                    await self._posted(row, posted.channel, posted.ts)
                    return True
            elif row.kind == "update":
                assert thread_ts is not None
                await chat.update(row.channel, thread_ts, reply)
            elif row.kind == "upload":
                await chat.upload(
                    row.channel,
                    row.file_content or b"",
                    row.filename or "chart.png",
                    message.get("text", ""),
                    thread_ts,
                )
        except ChatError as exc:
            await self._failed(row, str(exc))
            return False
        async with self.services.sessions() as session:
            await mark(session, row.id or 0, state=SENT, sent_at=utc_now())
        self.services.metrics.alerts_sent.labels(row.kind).inc()
        return True

    async def _posted(self, row: OutboxMessage, channel: str, ts: str) -> None:
        async with self.services.sessions() as session:
            if row.episode_id is not None:
                episode = await get_episode(session, row.episode_id)
                if episode is not None:
                    episode.message_ts = ts
                    session.add(episode)
            await mark(session, row.id or 0, state=SENT, sent_at=utc_now())
        self.services.metrics.alerts_sent.labels(row.kind).inc()

    async def _failed(self, row: OutboxMessage, error: str) -> None:
        attempts = row.attempts + 1  # as counted before the call
        backoff = min(2.0**attempts, MAX_BACKOFF_SECONDS)
        state = FAILED if attempts >= MAX_ATTEMPTS else row.state
        logger.warning("outbox message %s (%s) failed: %s", row.id, row.kind, error)
        async with self.services.sessions() as session:
            await mark(
                session,
                row.id or 0,
                attempts=attempts,
                error=error,
                state=state,
                next_attempt_at=utc_now() + timedelta(seconds=backoff),
            )


async def enqueue_for_episode(
    session: AsyncSession, episode: AlertEpisode, kind: str, reply: Reply
) -> None:
    """Stage a message about an episode: its opening post, an edit, or a thread reply."""
    await enqueue(
        session, channel=episode.channel, kind=kind, episode_id=episode.id, message=stored(reply)
    )


def stored(reply: Reply) -> dict:
    """A Reply as the outbox keeps it: its plain text (escaped when sent) and its blocks."""
    return {"text": reply.text, "blocks": [block.to_dict() for block in reply.blocks]}


def _as_reply(message: dict) -> Reply:
    """The stored message back as a Reply."""
    blocks = [b for b in (Block.parse(raw) for raw in message.get("blocks", [])) if b is not None]
    return Reply(text=message.get("text", ""), blocks=blocks, ephemeral=False)
