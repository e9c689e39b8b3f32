"""What the poller remembers between polls: alert episodes (one Slack message each), the assay
results already seen, and the last status of each watched deployment.

An episode is one stretch of trouble for one subject (`assay:3`, `pipeline:7`): it opens with a
message, later events edit that message, and it closes with a recovery. At most one episode per
subject is open (a partial unique index), so two pollers cannot open it twice.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.utc import UTCDateTime, utc_now


class EpisodeState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class EpisodeKind(StrEnum):
    ASSAY = "assay"
    DEPLOYMENT = "deployment"
    # The subject is silent: an assay without results for two windows, or a deployment whose
    # status Wallaroo cannot tell for several polls. Same subject as its drift or trouble.
    NO_DATA = "no_data"
    # One message for the episodes of one pipeline in one channel (a storm); its members'
    # edits and thread replies go to this message. Subject: group_subject(...).
    GROUP = "group"


def assay_subject(assay_id: str | int) -> str:
    return f"assay:{assay_id}"


def pipeline_subject(pipeline_id: int) -> str:
    return f"pipeline:{pipeline_id}"


def group_subject(channel: str, pipeline_name: str) -> str:
    return f"group:{channel}:{pipeline_name}"


class AlertEpisode(SQLModel, table=True):
    __tablename__ = "alert_episodes"
    __table_args__ = (
        Index(
            "one_open_episode_per_subject",
            "subject",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # `kind` and `state` hold EpisodeKind and EpisodeState values, as plain text columns.
    kind: str
    subject: str  # assay:<id> | pipeline:<id> | group:<channel>:<pipeline name>
    title: str  # the assay's or pipeline's name, for people
    channel: str
    message_ts: str | None = None  # set once the opening message is delivered
    state: str = Field(default=EpisodeState.OPEN, index=True)
    severity: str  # Warning / Alert for assays; a DeploymentState in trouble for deployments
    opened_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    count: int = 1  # breaching results (or polls) so far
    latest_score: float | None = None
    worst_score: float | None = None
    latest_window: str | None = None
    escalation_announced: bool = False
    acknowledged_by: str | None = None
    snoozed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    detail: str = Field(default="", sa_type=Text)  # the latest message's details, for App Home

    @property
    def is_open(self) -> bool:
        return self.state == EpisodeState.OPEN

    def is_snoozed(self, now: datetime) -> bool:
        return self.snoozed_until is not None and now < self.snoozed_until


# The cursor of an assay subscribed before it had any result: every result counts.
NO_RESULT_YET = ""


class AssayCursor(SQLModel, table=True):
    """The window start of the newest result of an assay already handled: set when the assay
    is subscribed (its latest result then, or NO_RESULT_YET), so every later result counts."""

    __tablename__ = "assay_cursors"

    assay_id: str = Field(primary_key=True)  # as in assay_subscriptions: "3" or a UUID
    last_window_start: str
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class DeploymentHealth(SQLModel, table=True):
    """The status a watched deployment had at the last poll, and since when."""

    __tablename__ = "deployment_health"

    pipeline_id: int = Field(primary_key=True)
    status: str  # a DeploymentState: Running, Starting, Error, Gone (or what Wallaroo said)
    since: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    # Whether it was Running before its current trouble: an Error after Running is news at
    # once, an Error during a start-up only once it has lasted (it is often transient).
    was_running: bool = False


async def open_episode(session: AsyncSession, subject: str) -> AlertEpisode | None:
    found = await session.exec(
        select(AlertEpisode).where(
            AlertEpisode.subject == subject, AlertEpisode.state == EpisodeState.OPEN
        )
    )
    return found.first()


async def open_episodes(session: AsyncSession) -> list[AlertEpisode]:
    found = await session.exec(
        select(AlertEpisode)
        .where(AlertEpisode.state == EpisodeState.OPEN)
        .order_by(col(AlertEpisode.id))
    )
    return list(found)


async def group_members(session: AsyncSession, group_id: int) -> list[AlertEpisode]:
    """The episodes shown in group `group_id`'s message, open or closed, oldest first. A
    member's `detail` names its group as `"group": "<id>"` (quoted, so 1 never matches 12)."""
    found = await session.exec(
        select(AlertEpisode)
        .where(col(AlertEpisode.detail).contains(f'"group": "{group_id}"'))
        .order_by(col(AlertEpisode.id))
    )
    return list(found)


async def last_closed_episode(session: AsyncSession, subject: str) -> AlertEpisode | None:
    """The subject's most recently closed episode (what a flapping subject reopens)."""
    found = await session.exec(
        select(AlertEpisode)
        .where(AlertEpisode.subject == subject, AlertEpisode.state == EpisodeState.CLOSED)
        .order_by(col(AlertEpisode.id).desc())
        .limit(1)
    )
    return found.first()


def mark_closed(session: AsyncSession, episode: AlertEpisode, at: datetime) -> None:
    """Stage the close of `episode` at `at` (the caller commits). A closed episode leaves the
    one-open-per-subject index, so the subject's next trouble opens a new one."""
    episode.state, episode.closed_at = EpisodeState.CLOSED, at
    session.add(episode)


async def get_episode(session: AsyncSession, episode_id: int) -> AlertEpisode | None:
    found = await session.exec(select(AlertEpisode).where(AlertEpisode.id == episode_id))
    episode = found.first()
    if episode is not None:
        await session.refresh(episode)
    return episode


async def get_cursor(session: AsyncSession, assay_id: str) -> str | None:
    cursor = await session.get(AssayCursor, str(assay_id))
    return cursor.last_window_start if cursor else None


async def all_cursors(session: AsyncSession) -> list[AssayCursor]:
    return list(await session.exec(select(AssayCursor)))


async def all_health(session: AsyncSession) -> list[DeploymentHealth]:
    return list(await session.exec(select(DeploymentHealth)))


async def advance_cursor(
    session: AsyncSession, assay_id: str, seen: str | None, window_start: str
) -> bool:
    """Move the cursor from `seen` (what the caller read before handling the results) to
    `window_start`, in the caller's transaction. False, with the transaction rolled back, if
    someone moved it meanwhile: their handling of the same results stands, ours must not."""
    assay_id = str(assay_id)
    if seen is None:
        session.add(AssayCursor(assay_id=assay_id, last_window_start=window_start))
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()
            return False
        return True
    moved = await session.exec(
        update(AssayCursor)
        .where(col(AssayCursor.assay_id) == assay_id, col(AssayCursor.last_window_start) == seen)
        .values(last_window_start=window_start, updated_at=utc_now())
    )
    if moved.rowcount != 1:
        await session.rollback()
        return False
    return True


async def get_health(session: AsyncSession, pipeline_id: int) -> DeploymentHealth | None:
    return await session.get(DeploymentHealth, pipeline_id)
