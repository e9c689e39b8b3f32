"""Daily digests: one row per channel (`digest #channel HH:MM`), and which local date each was
last sent for.

Sent once per day across replicas and restarts: `claim_day` moves `last_sent_for` to the day
with a compare-and-set in the transaction that stages the digest in the outbox, so of two
senders (replicas, or a restart racing its predecessor) one stages it and the other finds the
day taken. The episodes and pending requests a digest lists are read here too
(`episodes_since`, `pending_requests_for`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import and_, false, or_, update
from sqlmodel import Field, SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.alerts import AlertEpisode
from storage.approvals import ApprovalRequest, ApprovalState
from storage.utc import UTCDateTime, utc_now


class Digest(SQLModel, table=True):
    __tablename__ = "digests"

    # A Slack channel id, or a #name given in the console (as watches store it).
    channel: str = Field(primary_key=True)
    channel_name: str = ""  # as typed (`<#C1|ops>` gives "ops"), for people
    time: str  # HH:MM on a 24-hour clock, in CHATOPS_TIMEZONE
    created_by: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    # The local date (in CHATOPS_TIMEZONE) of the last digest staged; None: never sent.
    last_sent_for: date | None = None


async def set_digest(session: AsyncSession, digest: Digest) -> bool:
    """Store `digest`, replacing the channel's own (its time, who set it, when, and the day it
    counts as sent for); True if the channel had none. The caller commits."""
    existing = await session.get(Digest, digest.channel)
    if existing is not None and existing.last_sent_for is not None:
        # A day already sent stays sent: moving 09:00 (sent today) to 18:00 must not send a
        # second digest today.
        kept = existing.last_sent_for
        if digest.last_sent_for is None or digest.last_sent_for < kept:
            digest.last_sent_for = kept
    await session.merge(digest)
    return existing is None


async def get_digest(session: AsyncSession, channel: str) -> Digest | None:
    return await session.get(Digest, channel)


async def remove_digest(session: AsyncSession, channel: str) -> bool:
    """Stage the removal (the caller commits); False if the channel had no digest."""
    result = await session.exec(delete(Digest).where(col(Digest.channel) == channel))
    return result.rowcount > 0


async def list_digests(session: AsyncSession) -> list[Digest]:
    return list(await session.exec(select(Digest).order_by(col(Digest.time), col(Digest.channel))))


async def claim_day(session: AsyncSession, channel: str, day: date) -> bool:
    """Mark the channel's digest sent for `day`, in the caller's transaction, if no one has
    (it was last sent for an earlier day, or never); False, and nothing changed, otherwise:
    the caller must then stage nothing."""
    moved = await session.exec(
        update(Digest)
        .where(
            col(Digest.channel) == channel,
            or_(col(Digest.last_sent_for).is_(None), col(Digest.last_sent_for) < day),
        )
        .values(last_sent_for=day)
    )
    return moved.rowcount == 1


async def episodes_since(
    session: AsyncSession, channels: list[str], since: datetime
) -> list[AlertEpisode]:
    """The episodes of `channels` opened or closed at `since` or later, oldest first."""
    found = await session.exec(
        select(AlertEpisode)
        .where(
            col(AlertEpisode.channel).in_(channels),
            or_(col(AlertEpisode.opened_at) >= since, col(AlertEpisode.closed_at) >= since),
        )
        .order_by(col(AlertEpisode.id))
    )
    return list(found)


async def pending_requests_for(
    session: AsyncSession,
    channels: list[str],
    pipeline_ids: Collection[int],
    pipelines: Collection[tuple[int | None, str]],
    now: datetime,
) -> list[ApprovalRequest]:
    """The requests waiting for a decision at `now` that concern `channels` (one channel's id
    and #name), oldest first: for a pipeline the channel watches (`pipeline_ids`) or whose
    assays it subscribes (`pipelines`: a subscription knows its pipeline by workspace id and
    name, or by name only if made before migration 0009), posted in the channel, or asked
    from one of its alerts (Roll back / Undeploy)."""
    alerts_here = select(AlertEpisode.id).where(col(AlertEpisode.channel).in_(channels))
    ids = list(pipeline_ids)
    named = [
        col(ApprovalRequest.pipeline_name) == name
        if workspace_id is None
        else and_(
            col(ApprovalRequest.pipeline_name) == name,
            col(ApprovalRequest.workspace_id) == workspace_id,
        )
        for workspace_id, name in sorted(set(pipelines), key=str)
        if name
    ]
    found = await session.exec(
        select(ApprovalRequest)
        .where(
            ApprovalRequest.state == ApprovalState.PENDING,
            ApprovalRequest.expires_at > now,
            or_(
                col(ApprovalRequest.pipeline_id).in_(ids) if ids else false(),
                *named,
                col(ApprovalRequest.channel).in_(channels),
                col(ApprovalRequest.episode_id).in_(alerts_here),
            ),
        )
        .order_by(col(ApprovalRequest.id))
    )
    return list(found)
