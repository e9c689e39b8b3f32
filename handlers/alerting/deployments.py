"""Polling watched deployments: Running -> Error, Starting for too long, or gone without an
undeploy through the bot open an episode; Running again closes it with a recovery.

A deployment's episode message is edited when its trouble changes kind, not on every poll:
a deployment stuck in Error for a day should not make 1,440 edits.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.wallaroo import ListedDeployment, WallarooNotFound
from handlers.alerting.outbox import enqueue_for_episode
from handlers.context import Services
from handlers.render.alert_messages import recovery_note, render_episode, thread_note
from handlers.render.mrkdwn import escape
from storage.alerts import (
    CLOSED,
    AlertEpisode,
    DeploymentHealth,
    get_health,
    open_episode,
    pipeline_subject,
)
from storage.approvals import pipelines_being_undeployed
from storage.utc import utc_now
from storage.watches import DeploymentWatch, is_watched

GONE = "Gone"


@dataclass(frozen=True)
class Observation:
    status: str  # Running, Starting, Error, Gone
    details: str = ""


async def observe(
    services: Services, deployment: ListedDeployment | None, limit: asyncio.Semaphore
) -> Observation:
    if deployment is None:
        return Observation(GONE, "Wallaroo lists no deployment for the pipeline.")
    async with limit:
        try:
            status = await services.wallaroo.get_deployment_status(
                deployment.deploy_id, deployment.id
            )
        except WallarooNotFound:
            return Observation(GONE, "status/get_deployment answers 404.")
    details = "; ".join(
        dict.fromkeys(d for engine in status.engines for d in (engine.details or []))
    )
    return Observation(status.status, details)


async def apply_observation(
    session: AsyncSession, services: Services, watch: DeploymentWatch, seen: Observation
) -> None:
    """Stage what one observation changes (the caller commits). Nothing, if the watch is gone
    or an approved undeploy is under way by now (the poll read those before asking Wallaroo)."""
    if not await is_watched(session, watch.pipeline_id):
        return
    if watch.pipeline_id in await pipelines_being_undeployed(session):
        return
    now = utc_now()
    health = await get_health(session, watch.pipeline_id)
    if health is None:
        health = DeploymentHealth(pipeline_id=watch.pipeline_id, status=seen.status, since=now)
    elif health.status != seen.status:
        health.status, health.since = seen.status, now
    if seen.status == "Running":
        health.was_running = True
    elif seen.status == "Starting":
        health.was_running = False
    session.add(health)

    trouble = _trouble(services, health, seen, now)
    subject = pipeline_subject(watch.pipeline_id)
    episode = await open_episode(session, subject)
    detail = json.dumps(
        {
            "workspace_name": watch.workspace_name,
            "since": health.since.isoformat(),  # shown through handlers.times.when
            "details": seen.details,
        }
    )
    if trouble is not None:
        if episode is None:
            episode = AlertEpisode(
                kind="deployment",
                subject=subject,
                title=watch.pipeline_name,
                channel=watch.channel,
                severity=trouble,
                detail=detail,
            )
            session.add(episode)
            await session.flush()
            await enqueue_for_episode(session, episode, "post", render_episode(episode, now))
            return
        episode.count += 1
        if episode.severity != trouble:
            episode.severity, episode.detail = trouble, detail
            note = f"Now *{escape(trouble)}*: {escape(seen.details) or 'no details'}"
            if not episode.is_snoozed(now):
                await enqueue_for_episode(session, episode, "thread", thread_note(note))
            await enqueue_for_episode(session, episode, "update", render_episode(episode, now))
        session.add(episode)
    elif seen.status == "Running" and episode is not None:
        episode.state, episode.closed_at = CLOSED, now
        session.add(episode)
        await enqueue_for_episode(session, episode, "thread", recovery_note(episode))
        await enqueue_for_episode(session, episode, "update", render_episode(episode, now))


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
    return _trouble(services, health, seen, utc_now()) is not None


def _trouble(
    services: Services, health: DeploymentHealth, seen: Observation, now: datetime
) -> str | None:
    settings = services.settings
    lasted = (now - health.since).total_seconds()
    if seen.status == "Error":
        # After Running, an Error is news; during a start-up it often passes by itself.
        if health.was_running or lasted >= settings.chatops_startup_error_grace_seconds:
            return "Error"
        return None
    if seen.status == "Starting" and lasted >= settings.chatops_starting_alert_seconds:
        return "Starting"
    if seen.status == GONE:
        return GONE
    return None
