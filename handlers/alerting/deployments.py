"""Polling watched deployments: each workspace's deployments listed once, each live one's
status asked, and what is news handed to deployment_episodes.py, one transaction per
deployment (what opens, changes or closes an episode is judged there).

A status Wallaroo answers with an error (while the workspace's listing answered in the same
poll: not an outage, which outage.py tells) is `unknown` (UNREADABLE), not Gone.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from bot.tasks import gather_failures
from bot.wallaroo import (
    DeploymentState,
    ListedDeployment,
    WallarooError,
    WallarooNotFound,
    WallarooUnreachable,
)
from handlers.alerting.deployment_episodes import (
    UNREADABLE,
    Observation,
    apply_observation,
    has_news,
    opens_episode,
)
from handlers.alerting.remediation import remedy_for_pipeline
from handlers.context import Services
from storage.alerts import (
    EpisodeKind,
    all_health,
    open_episodes,
    pipeline_subject,
)
from storage.approvals import pipelines_being_undeployed
from storage.watches import DeploymentWatch


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
        if quiet and opens_episode(services, health, watch.pipeline_id, seen, now):
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
