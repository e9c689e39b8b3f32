"""Who runs the poller when several replicas share one database: a lease row with a heartbeat.

The holder renews its lease every few seconds; a lease not renewed by `expires_at` is free, and
the next replica to ask takes it. Taking and renewing are one conditional UPDATE each, so two
replicas can never both hold it. (Times are the replicas' clocks: keep them in sync, as NTP does.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.utc import UTCDateTime, utc_now


class SchedulerLease(SQLModel, table=True):
    __tablename__ = "scheduler_leases"

    name: str = Field(primary_key=True)
    holder: str
    expires_at: datetime = Field(sa_type=UTCDateTime)
    renewed_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


async def hold_lease(session: AsyncSession, name: str, holder: str, seconds: float) -> bool:
    """Take or renew the lease for `seconds`; True if `holder` has it now.

    Commits, unlike the other functions here: a lease is only held once the database says
    so to every replica, and a first take that loses the race is rolled back."""
    now = utc_now()
    until = now + timedelta(seconds=seconds)
    taken = await session.exec(
        update(SchedulerLease)
        .where(
            col(SchedulerLease.name) == name,
            or_(col(SchedulerLease.holder) == holder, col(SchedulerLease.expires_at) < now),
        )
        .values(holder=holder, expires_at=until, renewed_at=now)
    )
    if taken.rowcount == 1:
        await session.commit()
        return True
    if await session.get(SchedulerLease, name) is not None:
        await session.rollback()
        return False  # someone else holds it
    session.add(SchedulerLease(name=name, holder=holder, expires_at=until, renewed_at=now))
    try:
        await session.commit()
    except IntegrityError:  # another replica created it first
        await session.rollback()
        return False
    return True


async def give_up_lease(session: AsyncSession, name: str, holder: str) -> None:
    """Stage letting the lease go at once (a clean shutdown; the caller commits), so another
    replica need not wait it out."""
    await session.exec(
        update(SchedulerLease)
        .where(col(SchedulerLease.name) == name, col(SchedulerLease.holder) == holder)
        .values(expires_at=utc_now())
    )


async def lease_holder(session: AsyncSession, name: str) -> str | None:
    """Who holds the lease now (None if nobody, or it has expired)."""
    lease = await session.get(SchedulerLease, name)
    if lease is None:
        return None
    await session.refresh(lease)
    return lease.holder if lease.expires_at > utc_now() else None
