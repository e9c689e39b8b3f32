"""What the scheduler watches: deployments (`watch`) and assays (`subscribe assay`), and where
their alerts go. The bookkeeping lives here; the polling comes with the scheduler."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.alerts import AssayCursor, DeploymentHealth
from storage.utc import UTCDateTime, utc_now

Row = TypeVar("Row", bound=SQLModel)


class DeploymentWatch(SQLModel, table=True):
    __tablename__ = "deployment_watches"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int
    workspace_name: str
    pipeline_id: int = Field(unique=True)
    pipeline_name: str
    channel: str  # a Slack channel id, or a #name given in the console
    created_by: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    # `runbook=URL owner=@user` (migration 0008): shown on its alerts, the owner mentioned once
    # per episode.
    runbook: str | None = None  # an http(s) URL, percent-encoded (handlers/commands/grammar.py)
    # A Slack user id, then `|name` when the command named them (`<@U123|jane>`, `@jane`):
    # edits of an alert show the name as plain text, so only its opening post notifies.
    owner: str | None = None


class AssaySubscription(SQLModel, table=True):
    __tablename__ = "assay_subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    # A v1 assay's number ("3") or a v2 assay's UUID, always as a string (migration 0004).
    assay_id: str = Field(unique=True)
    # As the assay was listed when subscribed: today's results name neither.
    assay_name: str = ""
    pipeline_name: str = ""
    # Its pipeline's workspace (migration 0009): a pipeline's name is unique in a workspace
    # only. None on a subscription made before: matched by name alone.
    workspace_id: int | None = None
    channel: str
    created_by: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    runbook: str | None = None  # as on DeploymentWatch
    owner: str | None = None


def owner_value(user_id: str, name: str | None) -> str:
    """How a watch or subscription stores its owner (see DeploymentWatch.owner)."""
    return f"{user_id}|{name}" if name else user_id


def split_owner(owner: str | None) -> tuple[str, str | None] | None:
    """A stored owner as (user id, name or None); None for no owner."""
    if not owner:
        return None
    user_id, _, name = owner.partition("|")
    return user_id, name or None


def alert_extras(row: DeploymentWatch | AssaySubscription) -> dict[str, str]:
    """What an episode's detail carries of the watch or subscription behind it: its runbook
    and owner, those set."""
    return {key: value for key, value in (("runbook", row.runbook), ("owner", row.owner)) if value}


def workspace_detail(subscription: AssaySubscription) -> dict[str, int]:
    """What an assay episode's detail carries of its pipeline's workspace, when known."""
    known = subscription.workspace_id
    return {} if known is None else {"workspace_id": known}


async def add_watch(session: AsyncSession, watch: DeploymentWatch) -> DeploymentWatch | None:
    """Store the watch; None (and nothing changed) if the pipeline is already watched.
    Commits (see `_add_unique`)."""
    return await _add_unique(session, watch)


async def remove_watch(session: AsyncSession, pipeline_id: int) -> bool:
    """Stage the removal (the caller commits); False if the pipeline was not watched. What
    the poller last saw of it goes too: a later watch starts afresh (a stale Running kept here
    made a re-watch of an undeployed pipeline alert "no longer deployed" at once)."""
    result = await session.exec(
        delete(DeploymentWatch).where(col(DeploymentWatch.pipeline_id) == pipeline_id)
    )
    await session.exec(
        delete(DeploymentHealth).where(col(DeploymentHealth.pipeline_id) == pipeline_id)
    )
    return result.rowcount > 0


async def list_watches(session: AsyncSession) -> list[DeploymentWatch]:
    return list(await session.exec(select(DeploymentWatch).order_by(col(DeploymentWatch.id))))


async def add_subscription(
    session: AsyncSession, subscription: AssaySubscription, cursor: str | None = None
) -> AssaySubscription | None:
    """Store the subscription, and with `cursor` (the window start of the assay's latest result,
    or NO_RESULT_YET) where its alerts start, in one transaction; None (and nothing changed) if
    the assay already has one. Without a cursor the first poll starts from the latest result.
    Commits (see `_add_unique`)."""
    if cursor is not None:
        # A poll in flight during an earlier unsubscribe may have left a cursor: replaced.
        await session.merge(
            AssayCursor(assay_id=str(subscription.assay_id), last_window_start=cursor)
        )
    return await _add_unique(session, subscription)


async def remove_subscription(session: AsyncSession, assay_id: str) -> bool:
    """Stage the removal (the caller commits); False if the assay had no subscription. Also
    forgets the assay's cursor: a poll in flight then fails its cursor compare-and-set and
    leaves no episode behind, and a later subscription starts afresh."""
    assay_id = str(assay_id)  # the column is text: PostgreSQL refuses to compare it with a number
    result = await session.exec(
        delete(AssaySubscription).where(col(AssaySubscription.assay_id) == assay_id)
    )
    await session.exec(delete(AssayCursor).where(col(AssayCursor.assay_id) == assay_id))
    return result.rowcount > 0


async def learn_workspace(
    session: AsyncSession, subscription: AssaySubscription, workspace_id: int
) -> None:
    """Stage (the caller commits) the workspace of a subscription made before migration 0009,
    as its results name it, so same-named pipelines of two workspaces part from then on; one
    that knows its workspace keeps it. `subscription` (maybe detached) learns it too."""
    if subscription.workspace_id is not None:
        return
    await session.exec(
        update(AssaySubscription)
        .where(col(AssaySubscription.assay_id) == str(subscription.assay_id))
        .where(col(AssaySubscription.workspace_id).is_(None))
        .values(workspace_id=workspace_id)
    )
    subscription.workspace_id = workspace_id


async def is_watched(session: AsyncSession, pipeline_id: int) -> bool:
    found = await session.exec(
        select(DeploymentWatch.id).where(DeploymentWatch.pipeline_id == pipeline_id)
    )
    return found.first() is not None


async def is_subscribed(session: AsyncSession, assay_id: str) -> bool:
    found = await session.exec(
        select(AssaySubscription.id).where(AssaySubscription.assay_id == str(assay_id))
    )
    return found.first() is not None


async def list_subscriptions(session: AsyncSession) -> list[AssaySubscription]:
    return list(await session.exec(select(AssaySubscription).order_by(col(AssaySubscription.id))))


async def followed_in(
    session: AsyncSession, channels: list[str] | None
) -> tuple[list[DeploymentWatch], list[AssaySubscription]]:
    """The watches and subscriptions posting to any of `channels` (a channel's id and its
    `#name`, as the console stores it), oldest first; every channel's when None."""
    watches = select(DeploymentWatch).order_by(col(DeploymentWatch.created_at))
    subscriptions = select(AssaySubscription).order_by(col(AssaySubscription.created_at))
    if channels is not None:
        watches = watches.where(col(DeploymentWatch.channel).in_(channels))
        subscriptions = subscriptions.where(col(AssaySubscription.channel).in_(channels))
    return list(await session.exec(watches)), list(await session.exec(subscriptions))


async def _add_unique(session: AsyncSession, row: Row) -> Row | None:
    # The unique column decides: two concurrent `watch` commands leave one row. So this
    # commits itself: losing rolls the transaction back, with anything else staged in it.
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return None
    return row
