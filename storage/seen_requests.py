"""Slack requests already received, shared by every replica through the database.

Slack signs a request with a timestamp and bolt refuses one older than five minutes, so a
replay can only come inside that window: a key (trigger id, event id or body hash) is kept a
little longer than it, then expires. Claiming is one INSERT: the primary key decides which of
two racing replicas runs the request, and the other is told it was seen.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.utc import UTCDateTime

# bolt's window is 5 minutes either side of now; a key outlives it so no replay can outlast it.
SEEN_FOR = timedelta(minutes=11)


class SeenSlackRequest(SQLModel, table=True):
    __tablename__ = "seen_slack_requests"

    key: str = Field(primary_key=True)
    seen_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


async def claim_request(session: AsyncSession, key: str, now: datetime) -> bool:
    """Record `key` as received; True if this is its first time in the window.

    Commits (as `hold_lease` does): the claim only counts once every replica can see it."""
    # Expired keys go first, this one's included, so the table stays about five minutes big.
    await session.exec(delete(SeenSlackRequest).where(col(SeenSlackRequest.expires_at) < now))
    session.add(SeenSlackRequest(key=key, seen_at=now, expires_at=now + SEEN_FOR))
    try:
        await session.commit()
    except IntegrityError:  # seen already, here or on another replica
        await session.rollback()
        return False
    return True
