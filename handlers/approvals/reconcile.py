"""Whether a deploy, rollback or undeploy whose answer was lost took effect, told from
Wallaroo's state alone (never by sending the call again), on either generation of the API.

A deploy took effect when a live deployment runs the requested version. Which version a
deployment runs is said in different places: the tutorial-era listing names its integer pk,
today's list_pipeline_versions shows the deployment on the version it runs, and 2025 engines
report the version UUID in their status. The first place that says decides.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bot.wallaroo import ListedDeployment, PipelineListing, WallarooError, WallarooNotFound
from handlers.context import Services
from storage.approvals import DEPLOYING_ACTIONS, ApprovalRequest
from storage.utc import utc_now


@dataclass(frozen=True)
class Effect:
    arrived: bool
    deployment_id: int | None = None  # the deployment to follow, when it arrived
    problem: WallarooError | None = None  # why Wallaroo's state could not be read


async def look_for_effect(
    services: Services, request: ApprovalRequest, grace_seconds: float
) -> Effect:
    """Look until the call is `grace_seconds` old: a slow Wallaroo may still be on it."""
    sent = (request.call_sent_at or utc_now()).timestamp()
    while True:
        try:
            effect = await _effect_now(services, request)
        except WallarooError as exc:
            effect = Effect(False, problem=exc)
        if effect.arrived or time.time() >= sent + grace_seconds:
            return effect
        await asyncio.sleep(services.settings.chatops_deploy_poll_seconds)


async def _effect_now(services: Services, request: ApprovalRequest) -> Effect:
    client = services.wallaroo
    listing = await client.find_listed_pipeline(request.workspace_id, request.pipeline_id)
    live = None if listing is None else await client.live_deployment(request.workspace_id, listing)
    if request.action not in DEPLOYING_ACTIONS:
        gone = live is None or live.id != request.deployment_id
        return Effect(gone, request.deployment_id)
    if listing is None or live is None:
        return Effect(False)
    return Effect(await _runs_requested_version(services, request, listing, live), live.id)


async def _runs_requested_version(
    services: Services, request: ApprovalRequest, listing: PipelineListing, live: ListedDeployment
) -> bool:
    if request.pipeline_version_id is not None and live.pipeline_version_id is not None:
        return live.pipeline_version_id == request.pipeline_version_id
    wanted = request.pipeline_version
    if wanted is None:
        return False
    if live.pipeline_version is not None:
        return live.pipeline_version == wanted
    client = services.wallaroo
    for version in await client.list_pipeline_versions(request.workspace_id, listing):
        if version.deployment is not None and version.deployment.id == live.id:
            return version.version == wanted
    try:
        status = await client.get_deployment_status(live.deploy_id, live.id)
    except WallarooNotFound:
        return False
    # Empty while the engines start: the caller keeps looking until the grace time is up.
    return wanted in status.running_versions
