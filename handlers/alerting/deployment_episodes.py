"""A watched deployment's observed status turned into episode changes: Running -> Error,
Starting for too long, or gone without an undeploy through the bot open an episode (joining
its pipeline's group or lone episode, groups.py); Running again closes it with a recovery.

A deployment's episode message is edited when its trouble changes kind, not on every poll:
a deployment stuck in Error for a day should not make 1,440 edits. A status Wallaroo does not
say (`unknown`) for UNREADABLE_POLLS polls opens a "no data" episode, closed as soon as a
status is read again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.wallaroo import DeploymentState
from handlers.alerting.episodes import close_and_announce
from handlers.alerting.flapping import breached_again, hold_if_flapping, reopen_flapping
from handlers.alerting.groups import join_open_group
from handlers.alerting.remediation import REMEDY
from handlers.alerting.staging import enqueue_for_episode, group_of
from handlers.context import Services
from handlers.render.alert_messages import details_of, render_episode, with_sticky
from handlers.render.alert_notes import owner_note, recovery_note, thread_note
from handlers.render.mrkdwn import escape
from storage.alerts import (
    AlertEpisode,
    DeploymentHealth,
    EpisodeKind,
    get_health,
    open_episode,
    pipeline_subject,
)
from storage.approvals import pipelines_being_undeployed
from storage.outbox import OutboxKind
from storage.watches import DeploymentWatch, alert_extras, is_watched

UNREADABLE = DeploymentState.UNKNOWN
# Polls in a row without a status before it is a "no data" episode: one failed call is a blip.
UNREADABLE_POLLS = 3


@dataclass(frozen=True)
class Observation:
    status: str  # a DeploymentState (Running, Starting, Error, Gone) or another word of Wallaroo's
    details: str = ""


async def apply_observation(
    session: AsyncSession,
    services: Services,
    watch: DeploymentWatch,
    seen: Observation,
    remedy: dict | None = None,
    now: datetime | None = None,
) -> None:
    """Stage what one observation changes as of `now` (the caller commits). Nothing, if the
    watch is gone or an approved undeploy is under way by now (the poll read those first)."""
    if not await is_watched(session, watch.pipeline_id):
        return
    if watch.pipeline_id in await pipelines_being_undeployed(session):
        return
    now = now or services.clock()
    health = await get_health(session, watch.pipeline_id)
    before = health.status if health is not None else None
    health = _health_after(health, watch.pipeline_id, seen, now)
    session.add(health)

    subject = pipeline_subject(watch.pipeline_id)
    episode = await open_episode(session, subject)
    trouble = _trouble(services, health, seen, now, _was_deployed(before, episode))
    if episode is not None and episode.kind == EpisodeKind.NO_DATA and seen.status != UNREADABLE:
        await close_and_announce(session, episode, recovery_note(episode), now, recovered=True)
        episode = None  # a status again; whatever it says is handled as news below
    if trouble is None:
        if seen.status == DeploymentState.RUNNING and episode is not None:
            await _recovered(session, episode, now)
        return
    facts = {
        "workspace_name": watch.workspace_name,
        "workspace_id": watch.workspace_id,  # with the name, its pipeline (groups.py)
        "since": health.since.isoformat(),  # shown through handlers.render.times.when
        "details": seen.details,
        **alert_extras(watch),  # its runbook and owner, shown on the alert
    }
    if episode is not None:
        await _still_in_trouble(session, episode, trouble, facts, seen.details, now)
        return
    kind = EpisodeKind.NO_DATA if trouble == UNREADABLE else EpisodeKind.DEPLOYMENT
    window = services.settings.chatops_flap_window_seconds
    reopened = await reopen_flapping(session, subject, kind, now, window, trouble, remedy)
    if reopened is not None:
        await _still_in_trouble(session, reopened, trouble, facts, seen.details, now, True)
        return
    detail = {**facts, REMEDY: remedy} if remedy else facts
    episode = AlertEpisode(
        kind=kind,
        subject=subject,
        title=watch.pipeline_name,
        channel=watch.channel,
        severity=trouble,
        detail=json.dumps(detail),
        opened_at=now,
    )
    await _open(session, episode, watch.pipeline_name, now)


async def _open(
    session: AsyncSession, episode: AlertEpisode, pipeline_name: str, now: datetime
) -> None:
    """Its own message, or a line in its pipeline's group's (and the owner called there)."""
    await join_open_group(session, episode, pipeline_name)
    session.add(episode)
    await session.flush()
    await enqueue_for_episode(session, episode, OutboxKind.POST, render_episode(episode, now))
    joined = await group_of(session, episode)
    if joined is not None and joined.message_ts and (call := owner_note(episode)):
        await enqueue_for_episode(session, episode, OutboxKind.THREAD, call)


async def _still_in_trouble(
    session: AsyncSession,
    episode: AlertEpisode,
    trouble: str,
    facts: dict,
    details: str,
    now: datetime,
    reopened: bool = False,
) -> None:
    """An open (or just reopened) episode sees trouble again: counted; its message edited
    only when the trouble changed kind, it reopened, or it was held as flapping."""
    if trouble == UNREADABLE and episode.kind != EpisodeKind.NO_DATA:
        return  # in trouble already; not knowing its status now does not end that
    episode.count += 1
    held = "ok_since" in details_of(episode)
    breached_again(episode)  # a flapping episode that was Running is in trouble again
    changed = episode.severity != trouble
    if changed:
        episode.severity, episode.detail = trouble, with_sticky(episode, facts)
        note = f"Now *{escape(trouble)}*: {escape(details) or 'no details'}"
        if not episode.is_snoozed(now):
            await enqueue_for_episode(session, episode, OutboxKind.THREAD, thread_note(note))
    if changed or reopened or held:
        await enqueue_for_episode(session, episode, OutboxKind.UPDATE, render_episode(episode, now))
    session.add(episode)


async def _recovered(session: AsyncSession, episode: AlertEpisode, now: datetime) -> None:
    """Running again: the episode closes (a flapping one waits to be Ok for its window)."""
    if not await hold_if_flapping(session, episode, now):
        await close_and_announce(session, episode, recovery_note(episode), now, recovered=True)


def _health_after(
    health: DeploymentHealth | None, pipeline_id: int, seen: Observation, now: datetime
) -> DeploymentHealth:
    """The health row once `seen` is noted: `health` changed in place, or a new one."""
    if health is None:
        health = DeploymentHealth(pipeline_id=pipeline_id, status=seen.status, since=now)
    elif health.status != seen.status:
        health.status, health.since = seen.status, now
    if seen.status == DeploymentState.RUNNING:
        health.was_running = True
    elif seen.status == DeploymentState.STARTING:
        health.was_running = False
    return health


def opens_episode(
    services: Services,
    health: DeploymentHealth | None,
    pipeline_id: int,
    seen: Observation,
    now: datetime,
) -> bool:
    """Whether `seen` is trouble that opens a deployment episode (Error, or Starting too long)
    as apply_observation will judge it (on a copy of the poll's health row)."""
    if seen.status not in (DeploymentState.ERROR, DeploymentState.STARTING):
        return False
    copy = None if health is None else DeploymentHealth(**health.model_dump())
    after = _health_after(copy, pipeline_id, seen, now)
    return _trouble(services, after, seen, now, was_deployed=True) is not None


def has_news(
    services: Services,
    health: DeploymentHealth | None,
    episode: AlertEpisode | None,
    seen: Observation,
) -> bool:
    """Whether an observation changes anything (most polls of a healthy deployment do not,
    and then the poller writes nothing)."""
    if health is None or health.status != seen.status or episode is not None:
        return True
    deployed = _was_deployed(health.status, episode)
    return _trouble(services, health, seen, services.clock(), deployed) is not None


def _was_deployed(before: str | None, episode: AlertEpisode | None) -> bool:
    """Whether the pipeline was seen deployed since its watch began (its status at the last
    poll was not Gone), or is already in an episode: only then is Gone news. A pipeline that
    was never deployed while watched is not "no longer deployed"."""
    return episode is not None or before not in (None, DeploymentState.GONE)


def _trouble(
    services: Services,
    health: DeploymentHealth,
    seen: Observation,
    now: datetime,
    was_deployed: bool,
) -> str | None:
    settings = services.settings
    lasted = (now - health.since).total_seconds()
    if seen.status == DeploymentState.ERROR:
        # After Running, an Error is news; during a start-up it often passes by itself.
        if health.was_running or lasted >= settings.chatops_startup_error_grace_seconds:
            return DeploymentState.ERROR
        return None
    if (
        seen.status == DeploymentState.STARTING
        and lasted >= settings.chatops_starting_alert_seconds
    ):
        return DeploymentState.STARTING
    if seen.status == DeploymentState.GONE and was_deployed:
        return DeploymentState.GONE
    if (
        seen.status == UNREADABLE
        and lasted >= (UNREADABLE_POLLS - 1) * settings.chatops_poll_seconds
    ):
        return UNREADABLE
    return None
