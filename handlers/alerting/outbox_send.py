"""Sending one outbox row: claim it, make its Slack call, and record what the call's outcome
proves (`ChatError`):
- a 429 (Slack did not take the call): that channel waits Retry-After, the attempt uncounted;
- a permanent refusal (invalid_auth, channel_not_found, not_in_channel, ...): that channel's
  rows are given up at once, one ERROR is logged and one notice goes to the admin channel
  (CHATOPS_ALERT_CHANNEL, else CHATOPS_APPROVAL_CHANNEL); its episodes stay open, so polls do
  not open them again, until their watch or subscription is removed;
- an unknown fate (a timeout: the post may still land): nothing is sent again before
  CHATOPS_POST_LOOKUP_GRACE_SECONDS, then the channel's history is searched for it by its key;
- anything else: retried with backoff, MAX_ATTEMPTS at most.
A group's message (a storm, groups.py) is rendered when sent, its post too, and once out it is
its members' message as well. Which row goes when is outbox.py's. Times are the services' clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from enum import Enum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.alerting.groups import pipeline_of
from handlers.alerting.staging import as_reply, close_unposted, render_current, stored
from handlers.chat import ChatError, Posted
from handlers.context import Services
from handlers.render.alert_notes import undeliverable_notice
from handlers.render.blocks import Reply
from storage.alerts import EpisodeKind, get_episode, group_members
from storage.locks import lock_pipeline
from storage.outbox import (
    UNDELIVERABLE,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    claim,
    defer_channel,
    enqueue,
    fail_channel,
    mark_sent,
    retry_later,
    settle_episode_rows,
)
from storage.utc import utc_now

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# After a call timed out (bot.chat.slack gives it 10 s), Slack may still carry it out: a post
# that took 25 s landed after the bot had looked for it and posted it again. Nothing is sent
# again, nor looked for, before CHATOPS_POST_LOOKUP_GRACE_SECONDS (this, by default) has passed.
UNKNOWN_FATE_GRACE_SECONDS = 60.0
# How long a claimed row is left alone by other senders: one Slack call and the grace after
# it. If its sender died mid-call, the next one waits this long, then looks for the post in the
# channel before sending it again.
SLACK_CALL_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 300.0


class Sent(Enum):
    OK = "ok"
    LATER = "later"  # this row waits (and its episode's later rows with it)
    CHANNEL_WAITS = "channel_waits"  # the whole channel waits: rate-limited or given up


class RowSender:
    """Sends the rows the outbox's sender hands it; `wake` tells that sender something new
    (a notice to the admin channel) was enqueued."""

    def __init__(self, services: Services, wake: Callable[[], None]) -> None:
        self.services = services
        self._grace = services.settings.chatops_post_lookup_grace_seconds
        self._wake = wake
        self._reported: set[tuple[str, str]] = set()  # permanent refusals already told

    async def send(self, row: OutboxMessage, channel: str, thread_ts: str | None) -> Sent:
        # The claim counts the attempt before the call: a process that dies mid-call leaves
        # attempts > 0 behind, and whoever delivers the row next looks before posting again.
        async with self.services.sessions() as session:
            now = self.services.clock()
            claim_seconds = SLACK_CALL_SECONDS + self._grace
            if not await claim(session, row.id or 0, row.attempts, claim_seconds, now):
                return Sent.LATER  # another sender (or replica) has it
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
            return await self._refused(row, exc)
        except Exception as exc:  # a bug or the database: back off like any failure, and say so
            logger.exception("sending outbox message %s failed", row.id)
            await self._failed(row, f"{type(exc).__name__}: {exc}")
            return Sent.LATER
        async with self.services.sessions() as session:
            await mark_sent(session, row.id or 0, utc_now())
            await session.commit()
        self.services.metrics.alerts_sent.labels(row.kind).inc()
        return Sent.OK

    async def _refused(self, row: OutboxMessage, exc: ChatError) -> Sent:
        if exc.retry_after is not None:
            await self._rate_limited(row, str(exc), exc.retry_after)
            return Sent.CHANNEL_WAITS
        if exc.permanent:
            await self._undeliverable(row, str(exc))
            return Sent.CHANNEL_WAITS
        grace = self._grace if exc.unknown_fate else 0.0
        await self._failed(row, str(exc), grace)
        return Sent.LATER

    async def _rate_limited(self, row: OutboxMessage, error: str, retry_after: float) -> None:
        """Slack did not take the call: the channel waits, the attempt does not count (a row
        that an earlier, uncertain attempt left to be looked for still is)."""
        logger.info("outbox: %s rate-limited for %.0f s", row.channel, retry_after)
        at = self.services.clock() + timedelta(seconds=retry_after)
        async with self.services.sessions() as session:
            await retry_later(session, row.id or 0, error, at, False, attempts=row.attempts)
            await defer_channel(session, row.channel, at)
            await session.commit()

    async def _undeliverable(self, row: OutboxMessage, error: str) -> None:
        """No retry can help: give up the channel's rows now, say so once (an ERROR and a
        notice to the admin channel). Their episodes stay open and get nothing more staged
        (`enqueue_for_episode`), so the poll does not open them again for ever."""
        async with self.services.sessions() as session:
            await fail_channel(session, row.channel, UNDELIVERABLE + error)
            settings = self.services.settings
            admin = settings.chatops_alert_channel or settings.chatops_approval_channel
            first = (row.channel, error) not in self._reported
            if first and admin is not None and admin != row.channel:
                notice = stored(undeliverable_notice(row.channel, error))
                await enqueue(session, channel=admin, kind=OutboxKind.POST, message=notice)
            await session.commit()
        if first:
            self._reported.add((row.channel, error))
            logger.error("outbox: giving up on channel %s for good: %s", row.channel, error)
            self._wake()

    async def _post(self, row: OutboxMessage, channel: str, thread_ts: str | None) -> None:
        chat, key = self.services.chat, f"outbox-{row.id}"
        posted = None
        if row.attempts > 0:  # an earlier attempt may have got through: look first
            posted = await chat.find_posted(channel, key, row.created_at, thread_ts)
        if posted is None:
            reply = await self._opening(row)
            posted = await chat.post(channel, reply, thread_ts=thread_ts, key=key)
        if row.kind == OutboxKind.POST and row.episode_id is not None:
            await self._opened(row, posted)

    async def _opened(self, row: OutboxMessage, posted: Posted) -> None:
        """The episode's message is out: remember it, and the channel's id (Slack takes a
        #name for a post, but edits, uploads and history want the id). The episode is the
        row's as it is now: while the post was in flight, a storm may have made it a group's
        opening (groups.py adopts a lone episode's pending post), whose message it now is,
        its members' too; the group's edit, waiting for it, then shows them all. Under the
        pipeline's lock, so that no group adopts the episode between here and the commit."""
        async with self.services.sessions() as session:
            loaded = await get_episode(session, row.episode_id or 0)
            if loaded is not None and loaded.kind != EpisodeKind.GROUP:  # one may adopt it
                await lock_pipeline(session, pipeline_of(loaded))
            episode_id = await _episode_of_row(session, row) or row.episode_id or 0
            episode = await get_episode(session, episode_id)
            if episode is not None:
                episode.message_ts, episode.channel = posted.ts, posted.channel
                session.add(episode)
                if episode.kind == EpisodeKind.GROUP:  # its members' message is this one
                    for member in await group_members(session, episode_id):
                        member.message_ts, member.channel = posted.ts, posted.channel
                        session.add(member)
            await settle_episode_rows(session, episode_id, channel=posted.channel)
            await session.commit()

    async def _current(self, row: OutboxMessage) -> Reply:
        """An edit shows the episode as it is when the edit is sent, not as it was when it
        was queued: a click and a poll racing cannot leave an older state on screen."""
        async with self.services.sessions() as session:
            episode = await get_episode(session, row.episode_id or 0)
            if episode is None:
                return as_reply(row.message)
            return await render_current(session, episode, self.services.clock())

    async def _opening(self, row: OutboxMessage) -> Reply:
        """A post as staged; but a group's opening lists its members as they are when it is
        sent (members join it after its post is staged, in the same poll or later)."""
        if row.kind != OutboxKind.POST or row.episode_id is None:
            return as_reply(row.message)
        async with self.services.sessions() as session:
            # The row's episode now: a group may have adopted the post since it was read.
            episode_id = await _episode_of_row(session, row) or row.episode_id
            episode = await get_episode(session, episode_id)
            if episode is None or episode.kind != EpisodeKind.GROUP:
                return as_reply(row.message)
            return await render_current(session, episode, self.services.clock())

    async def _failed(self, row: OutboxMessage, error: str, grace: float = 0.0) -> None:
        attempts = row.attempts + 1  # as claimed before the call
        backoff = max(min(2.0**attempts, MAX_BACKOFF_SECONDS), grace)
        given_up = attempts >= MAX_ATTEMPTS
        logger.warning("outbox message %s (%s) failed: %s", row.id, row.kind, error)
        async with self.services.sessions() as session:
            at = self.services.clock() + timedelta(seconds=backoff)
            await retry_later(session, row.id or 0, error, at, given_up)
            if given_up and row.kind == OutboxKind.POST and row.episode_id is not None:
                # Without its opening message an episode's edits and replies cannot go out,
                # and an open episode nobody saw would swallow the next breach: close it.
                await settle_episode_rows(
                    session, row.episode_id, state=OutboxState.FAILED, error=error
                )
                await close_unposted(session, row.episode_id)
            await session.commit()


async def _episode_of_row(session: AsyncSession, row: OutboxMessage) -> int | None:
    """The episode a row is about as stored now (the sender holds the row as it read it)."""
    found = await session.exec(
        select(OutboxMessage.episode_id).where(col(OutboxMessage.id) == row.id)
    )
    return found.first()
