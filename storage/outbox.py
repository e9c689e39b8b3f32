"""The outbox: every alert message is a row here before it is sent, written in the same
transaction as the state change it announces. A crash after the commit loses nothing (the row
is still pending); a row marked sent is never sent again.

Kinds (`OutboxKind`): `post` (a new message; for an episode, its opening message), `update`
(edit the episode's message; only the newest pending one is worth sending), `thread` (a reply in
the episode's thread), `upload` (a file, a chart, into the episode's thread).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import LargeBinary, Text, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.utc import UTCDateTime, utc_now


class OutboxKind(StrEnum):
    POST = "post"
    UPDATE = "update"
    THREAD = "thread"
    UPLOAD = "upload"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # given up after MAX_ATTEMPTS, or its episode's opening post was
    SUPERSEDED = "superseded"  # a newer edit of the same episode replaced it


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_messages"

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(index=True)
    # `kind` and `state` hold OutboxKind and OutboxState values as plain text: a new kind
    # needs no schema change.
    kind: str
    episode_id: int | None = Field(default=None, index=True)
    body: str = Field(sa_type=Text)  # {"text": ..., "blocks": [...]} as Slack takes it
    file_content: bytes | None = Field(default=None, sa_type=LargeBinary)
    filename: str | None = None
    state: str = Field(default=OutboxState.PENDING, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, sa_type=Text)

    @property
    def message(self) -> dict[str, Any]:
        return json.loads(self.body)


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    kind: OutboxKind,
    message: dict[str, Any],
    episode_id: int | None = None,
    file_content: bytes | None = None,
    filename: str | None = None,
) -> OutboxMessage:
    """Stage a message (the caller commits). A newer edit of an episode replaces any older
    one still pending: only the latest state is worth an API call."""
    if kind == OutboxKind.UPDATE and episode_id is not None:
        await session.exec(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.episode_id) == episode_id,
                col(OutboxMessage.kind) == OutboxKind.UPDATE,
                col(OutboxMessage.state) == OutboxState.PENDING,
            )
            .values(state=OutboxState.SUPERSEDED)
        )
    row = OutboxMessage(
        channel=channel,
        kind=kind,
        episode_id=episode_id,
        body=json.dumps({"text": message.get("text", ""), "blocks": message.get("blocks", [])}),
        file_content=file_content,
        filename=filename,
    )
    session.add(row)
    return row


async def pending_messages(
    session: AsyncSession, channel: str | None = None
) -> list[OutboxMessage]:
    """Everything not yet delivered (to `channel`, if given), oldest first (due or not: order
    matters per channel)."""
    query = select(OutboxMessage).where(OutboxMessage.state == OutboxState.PENDING)
    if channel is not None:
        query = query.where(OutboxMessage.channel == channel)
    found = await session.exec(query.order_by(col(OutboxMessage.id)))
    return list(found)


async def pending_channels(session: AsyncSession) -> list[str]:
    """The channels with something not yet delivered."""
    found = await session.exec(
        select(OutboxMessage.channel).where(OutboxMessage.state == OutboxState.PENDING).distinct()
    )
    return list(found)


async def mark_sent(session: AsyncSession, message_id: int, at: datetime) -> None:
    """Stage that the row went out at `at` (the caller commits): it is never sent again."""
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(state=OutboxState.SENT, sent_at=at)
    )


async def claim(
    session: AsyncSession,
    message_id: int,
    seen_attempts: int,
    hold_seconds: float,
    now: datetime | None = None,
) -> bool:
    """Count an attempt and hold the row for `hold_seconds`, if it is still pending, due, and
    nobody has started an attempt since it was read: the one sender (of any process) that wins
    this compare-and-set may send, and nobody else picks the row up while it does.

    Commits, unlike the other functions here: the claim must be visible to every other sender
    before this one calls Slack, and the row lock an UPDATE takes must not be held meanwhile."""
    now = now or utc_now()
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            col(OutboxMessage.state) == OutboxState.PENDING,
            col(OutboxMessage.attempts) == seen_attempts,
            col(OutboxMessage.next_attempt_at) <= now,
        )
        .values(attempts=seen_attempts + 1, next_attempt_at=now + timedelta(seconds=hold_seconds))
    )
    await session.commit()
    return result.rowcount == 1


async def retry_later(
    session: AsyncSession,
    message_id: int,
    error: str,
    at: datetime,
    give_up: bool,
    attempts: int | None = None,
) -> None:
    """Stage what a failed attempt leaves (the caller commits): try again at `at`, or stop
    (FAILED); `attempts` uncounts an attempt Slack is known not to have taken (a 429). Only a
    still-pending row changes (an edit superseded meanwhile stays so)."""
    values: dict[str, Any] = {
        "error": error,
        "next_attempt_at": at,
        "state": OutboxState.FAILED if give_up else OutboxState.PENDING,
    }
    if attempts is not None:
        values["attempts"] = attempts
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.state) == OutboxState.PENDING)
        .values(**values)
    )


async def defer_channel(session: AsyncSession, channel: str, until: datetime) -> None:
    """Stage that nothing more goes to `channel` before `until` (a 429's Retry-After; the
    caller commits): its pending rows due earlier wait, other channels' rows do not."""
    await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.channel) == channel,
            col(OutboxMessage.state) == OutboxState.PENDING,
            col(OutboxMessage.next_attempt_at) < until,
        )
        .values(next_attempt_at=until)
    )


async def fail_channel(session: AsyncSession, channel: str, error: str) -> list[int]:
    """Stage giving up every pending row of `channel` (a permanent Slack error; the caller
    commits); returns the episodes they belonged to."""
    found = await session.exec(
        select(OutboxMessage.episode_id).where(
            col(OutboxMessage.channel) == channel,
            col(OutboxMessage.state) == OutboxState.PENDING,
        )
    )
    episodes = sorted({e for e in found if e is not None})
    await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.channel) == channel,
            col(OutboxMessage.state) == OutboxState.PENDING,
        )
        .values(state=OutboxState.FAILED, error=error)
    )
    return episodes


UNDELIVERABLE = "undeliverable: "  # how a permanently refused row's error starts


async def is_undeliverable(session: AsyncSession, episode_id: int) -> bool:
    """Whether the episode's opening post was refused for good: nothing more is staged for it
    (it stays open, so the poll does not open it again, until its watch or subscription goes)."""
    found = await session.exec(
        select(OutboxMessage.id).where(
            col(OutboxMessage.episode_id) == episode_id,
            col(OutboxMessage.kind) == OutboxKind.POST,
            col(OutboxMessage.state) == OutboxState.FAILED,
            col(OutboxMessage.error).startswith(UNDELIVERABLE),
        )
    )
    return found.first() is not None


async def settle_episode_rows(session: AsyncSession, episode_id: int, **values: Any) -> None:
    """Change every pending row of an episode (its channel id once known; FAILED when its
    opening message could not be posted). The caller commits."""
    await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.episode_id) == episode_id,
            col(OutboxMessage.state) == OutboxState.PENDING,
        )
        .values(**values)
    )
