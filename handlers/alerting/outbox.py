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

from handlers.chat import ChatError, Posted
from handlers.context import Services
from handlers.render.alert_messages import render_episode
from handlers.render.blocks import Reply
from storage.alerts import AlertEpisode, get_episode, mark_closed
from storage.outbox import (
    OutboxKind,
    OutboxMessage,
    OutboxState,
    claim,
    enqueue,
    mark_sent,
    pending_messages,
    retry_later,
    settle_episode_rows,
)
from storage.utc import utc_now

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# How long a claimed row is left alone by other senders: longer than one Slack call may take
# (bot.chat.slack gives the client a 10 s timeout). If its sender died, the next one waits this
# long, then looks for the post in the channel before sending it again.
CLAIM_SECONDS = 15.0
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
            results = await asyncio.gather(
                *(self._deliver_channel(rows) for rows in by_channel.values()),
                return_exceptions=True,  # one channel's trouble must not orphan the others
            )
        for result in results:
            if isinstance(result, BaseException):
                logger.error("outbox delivery failed", exc_info=result)
        return sum(r for r in results if isinstance(r, int))

    async def _deliver_channel(self, rows: list[OutboxMessage]) -> int:
        """The channel's rows in order. An episode's rows keep their order (a row waits for
        the ones before it); other episodes and notices in the channel go on meanwhile."""
        sent = 0
        # Order is kept per episode, and among the notices (no episode) of the channel: a row
        # waits while an earlier one of its kind is not out.
        waiting: set[int | None] = set()
        for row in rows:
            if row.episode_id in waiting:
                continue
            if not self.may_send():
                break  # this replica lost the lease mid-pass
            target = await self._target(row)
            if row.next_attempt_at > utc_now() or target is None:
                waiting.add(row.episode_id)
                continue
            await self._pace(row.channel)
            if await self._send(row, *target):
                sent += 1
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

    async def _send(self, row: OutboxMessage, channel: str, thread_ts: str | None) -> bool:
        # The claim counts the attempt before the call: a process that dies mid-call leaves
        # attempts > 0 behind, and whoever delivers the row next looks before posting again.
        async with self.services.sessions() as session:
            if not await claim(session, row.id or 0, row.attempts, CLAIM_SECONDS):
                return False  # another sender (or replica) has it
        try:
            if row.kind in (OutboxKind.POST, OutboxKind.THREAD):
                await self._post(row, channel, thread_ts)
            elif row.kind == OutboxKind.UPDATE:
                assert thread_ts is not None
                await self.services.chat.update(channel, thread_ts, await self._current(row))
            elif row.kind == OutboxKind.UPLOAD:
                title = row.message.get("text", "")
                content, name = row.file_content or b"", row.filename or "chart.png"
                await self.services.chat.upload(channel, content, name, title, thread_ts)
        except ChatError as exc:
            await self._failed(row, str(exc))
            return False
        except Exception as exc:  # a bug or the database: back off like any failure, and say so
            logger.exception("sending outbox message %s failed", row.id)
            await self._failed(row, f"{type(exc).__name__}: {exc}")
            return False
        async with self.services.sessions() as session:
            await mark_sent(session, row.id or 0, utc_now())
            await session.commit()
        self.services.metrics.alerts_sent.labels(row.kind).inc()
        return True

    async def _post(self, row: OutboxMessage, channel: str, thread_ts: str | None) -> None:
        chat, key = self.services.chat, f"outbox-{row.id}"
        posted = None
        if row.attempts > 0:  # an earlier attempt may have got through: look first
            posted = await chat.find_posted(channel, key, row.created_at, thread_ts)
        if posted is None:
            reply = _as_reply(row.message)
            posted = await chat.post(channel, reply, thread_ts=thread_ts, key=key)
        if row.kind == OutboxKind.POST and row.episode_id is not None:
            await self._opened(row.episode_id, posted)

    async def _opened(self, episode_id: int, posted: Posted) -> None:
        """The episode's message is out: remember it, and the channel's id (Slack takes a
        #name for a post, but edits, uploads and history want the id)."""
        async with self.services.sessions() as session:
            episode = await get_episode(session, episode_id)
            if episode is not None:
                episode.message_ts, episode.channel = posted.ts, posted.channel
                session.add(episode)
            await settle_episode_rows(session, episode_id, channel=posted.channel)
            await session.commit()

    async def _current(self, row: OutboxMessage) -> Reply:
        """An edit shows the episode as it is when the edit is sent, not as it was when it
        was queued: a click and a poll racing cannot leave an older state on screen."""
        async with self.services.sessions() as session:
            episode = await get_episode(session, row.episode_id or 0)
        if episode is None:
            return _as_reply(row.message)
        return render_episode(episode, self.services.clock())

    async def _failed(self, row: OutboxMessage, error: str) -> None:
        attempts = row.attempts + 1  # as claimed before the call
        backoff = min(2.0**attempts, MAX_BACKOFF_SECONDS)
        given_up = attempts >= MAX_ATTEMPTS
        logger.warning("outbox message %s (%s) failed: %s", row.id, row.kind, error)
        async with self.services.sessions() as session:
            at = utc_now() + timedelta(seconds=backoff)
            await retry_later(session, row.id or 0, error, at, given_up)
            if given_up and row.kind == OutboxKind.POST and row.episode_id is not None:
                # Without its opening message an episode's edits and replies cannot go out,
                # and an open episode nobody saw would swallow the next breach: close it.
                await settle_episode_rows(
                    session, row.episode_id, state=OutboxState.FAILED, error=error
                )
                await close_unposted(session, row.episode_id)
            await session.commit()


async def close_unposted(session: AsyncSession, episode_id: int) -> None:
    """Close an episode whose opening message Slack never took (the caller commits); the next
    breach then opens a new one, with a new message, instead of editing nothing."""
    episode = await get_episode(session, episode_id)
    if episode is not None and episode.is_open:
        mark_closed(session, episode, utc_now())


async def enqueue_for_episode(
    session: AsyncSession, episode: AlertEpisode, kind: OutboxKind, reply: Reply
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
