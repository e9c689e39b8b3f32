"""Polling watched deployments: Running -> Error, Starting for too long, or gone without an
undeploy through the bot open an episode; Running again closes it with a recovery.

A deployment's episode message is edited when its trouble changes kind, not on every poll:
a deployment stuck in Error for a day should not make 1,440 edits.

A status Wallaroo answers with an error (while the workspace's listing answered in the same
poll: not an outage, which outage.py tells) is `unknown`; unknown for UNREADABLE_POLLS polls
opens a "no data" episode, closed as soon as a status is read again.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.tasks import gather_failures
from bot.wallaroo import (
    DeploymentState,
    ListedDeployment,
    WallarooError,
    WallarooNotFound,
    WallarooUnreachable,
)
from handlers.alerting.episodes import close_and_announce
from handlers.alerting.flapping import breached_again, hold_if_flapping, reopen_flapping
from handlers.alerting.groups import join_open_group
from handlers.alerting.remediation import REMEDY, remedy_for_pipeline
from handlers.alerting.staging import enqueue_for_episode, group_of
from handlers.context import Services
from handlers.render.alert_messages import details_of, render_episode, with_sticky
from handlers.render.alert_notes import owner_note, recovery_note, thread_note
from handlers.render.mrkdwn import escape
from storage.alerts import (
    AlertEpisode,
    DeploymentHealth,
    EpisodeKind,
    all_health,
    get_health,
    open_episode,
    open_episodes,
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


async def poll_deployments(
    services: Services, watches: list[DeploymentWatch]
) -> list[BaseException]:
    """One poll of the watched deployments: each workspace listed once, each live deployment's
    status asked (CHATOPS_POLL_CONCURRENCY calls at once), only news written, each deployment
    in its own transaction. Returns the failures; the other deployments' work stands."""
    limit = asyncio.Semaphore(services.settings.chatops_poll_concurrency)
    deployments, failures = await _live_deployments(services, watches, limit)
    async with services.sessions() as session:
        healths = {h.pipeline_id: h for h in await all_health(session)}
        episodes = {e.subject: e for e in await open_episodes(session)}
        undeploying = await pipelines_being_undeployed(session)

    async def check(watch: DeploymentWatch) -> None:
        if watch.pipeline_id not in deployments and failures:
            return  # its workspace's listing failed; do not call it gone
        if watch.pipeline_id in undeploying:
            return  # an approved undeploy is under way
        seen = await observe(services, deployments.get(watch.pipeline_id), limit)
        health = healths.get(watch.pipeline_id)
        episode = episodes.get(pipeline_subject(watch.pipeline_id))
        if not has_news(services, health, episode, seen):
            return
        now, remedy = services.clock(), None
        # A "no data" episode a status closes now is no alert of its own: what follows may be.
        quiet = episode is None or episode.kind == EpisodeKind.NO_DATA
        if quiet and _opens(services, health, watch.pipeline_id, seen, now):
            # What the alert it opens can offer (Roll back, Undeploy): 2 calls, asked only for
            # an alert, within the poll's limit, and before the transaction (not holding it).
            async with limit:
                remedy = await remedy_for_pipeline(services, watch.workspace_id, watch.pipeline_id)
        # An episode it opens waits for the pipeline's lock (groups.py): its assays', polled
        # meanwhile, go before or after it, the second joining the first.
        async with services.sessions() as session:
            await apply_observation(session, services, watch, seen, remedy, now)
            await session.commit()

    return failures + await gather_failures(check(w) for w in watches)


async def _live_deployments(
    services: Services, watches: list[DeploymentWatch], limit: asyncio.Semaphore
) -> tuple[dict[int, ListedDeployment | None], list[BaseException]]:
    """The live deployment of each watched pipeline, by pipeline id, from one listing per
    workspace; and the listings that failed."""
    by_workspace: dict[int, set[int]] = defaultdict(set)
    for watch in watches:
        by_workspace[watch.workspace_id].add(watch.pipeline_id)

    async def deployments_in(workspace_id: int) -> dict[int, ListedDeployment | None]:
        async with limit:
            return await services.wallaroo.live_deployments(
                workspace_id, by_workspace[workspace_id]
            )

    listed = await asyncio.gather(
        *(deployments_in(ws) for ws in by_workspace), return_exceptions=True
    )
    deployments: dict[int, ListedDeployment | None] = {}
    for found in listed:
        if isinstance(found, dict):
            deployments.update(found)
    return deployments, [r for r in listed if isinstance(r, BaseException)]


async def observe(
    services: Services, deployment: ListedDeployment | None, limit: asyncio.Semaphore
) -> Observation:
    if deployment is None:
        return Observation(DeploymentState.GONE, "Wallaroo lists no deployment for the pipeline.")
    async with limit:
        try:
            status = await services.wallaroo.get_deployment_status(
                deployment.deploy_id, deployment.id
            )
        except WallarooNotFound:
            return Observation(DeploymentState.GONE, "status/get_deployment answers 404.")
        except WallarooUnreachable:
            raise  # no answer at all: the outage tracker's business
        except WallarooError as exc:  # it answers, but not this pipeline's status
            return Observation(UNREADABLE, f"status/get_deployment: {exc}")
    details = "; ".join(
        dict.fromkeys(d for engine in status.engines for d in (engine.details or []))
    )
    return Observation(status.status, details)


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
    facts = {
        "workspace_name": watch.workspace_name,
        "since": health.since.isoformat(),  # shown through handlers.render.times.when
        "details": seen.details,
        **alert_extras(watch),  # its runbook and owner, shown on the alert
    }
    if episode is not None and episode.kind == EpisodeKind.NO_DATA and seen.status != UNREADABLE:
        await close_and_announce(session, episode, recovery_note(episode), now, recovered=True)
        episode = None  # a status again; whatever it says is handled as news below
    if trouble is not None:
        kind = EpisodeKind.NO_DATA if trouble == UNREADABLE else EpisodeKind.DEPLOYMENT
        reopened = None
        if episode is None:
            window = services.settings.chatops_flap_window_seconds
            episode = reopened = await reopen_flapping(
                session, subject, kind, now, window, trouble, remedy
            )
        if episode is None:
            episode = AlertEpisode(
                kind=kind,
                subject=subject,
                title=watch.pipeline_name,
                channel=watch.channel,
                severity=trouble,
                detail=json.dumps({**facts, REMEDY: remedy} if remedy else facts),
                opened_at=now,
            )
            await join_open_group(session, episode, watch.pipeline_name)
            session.add(episode)
            await session.flush()
            await enqueue_for_episode(
                session, episode, OutboxKind.POST, render_episode(episode, now)
            )
            joined = await group_of(session, episode)
            if joined is not None and joined.message_ts and (call := owner_note(episode)):
                await enqueue_for_episode(session, episode, OutboxKind.THREAD, call)
            return
        if trouble == UNREADABLE and episode.kind != EpisodeKind.NO_DATA:
            return  # in trouble already; not knowing its status now does not end that
        episode.count += 1
        held = "ok_since" in details_of(episode)
        breached_again(episode)  # a flapping episode that was Running is in trouble again
        changed = episode.severity != trouble
        if changed:
            episode.severity, episode.detail = trouble, with_sticky(episode, facts)
            note = f"Now *{escape(trouble)}*: {escape(seen.details) or 'no details'}"
            if not episode.is_snoozed(now):
                await enqueue_for_episode(session, episode, OutboxKind.THREAD, thread_note(note))
        if changed or reopened is not None or held:
            await enqueue_for_episode(
                session, episode, OutboxKind.UPDATE, render_episode(episode, now)
            )
        session.add(episode)
    elif seen.status == DeploymentState.RUNNING and episode is not None:
        await _recovered(session, episode, now)


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


def _opens(
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
