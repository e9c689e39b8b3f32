"""Following an approved change once Wallaroo took its call: polling the deployment until it
is Running (or gone), then finishing: the request's final state, the watch, the audit row and
the outcome in the request's thread. Also what both halves of a rollout share: loading the
request, editing its message and auditing each step as the bot."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace

from bot.wallaroo import DeploymentState, WallarooError, WallarooNotFound
from handlers.alerting.episodes import close_episode
from handlers.alerting.remediation import show_remediation
from handlers.chat import ChatError
from handlers.context import BOT_ACTOR, Services
from handlers.render.approval_messages import render_outcome, render_request
from storage.alerts import pipeline_subject
from storage.approvals import ApprovalRequest, ApprovalState, get_request, move, record_progress
from storage.audit import Outcome
from storage.utc import utc_now
from storage.watches import DeploymentWatch, add_watch, remove_watch

logger = logging.getLogger(__name__)

STOPPED_WATCHING = "Stopped watching it: no more deployment alerts for it."


@dataclass(frozen=True)
class Ending:
    """How a rollout ended: `outcome` is what the request keeps and its thread is told."""

    succeeded: bool
    outcome: str
    wallaroo_error: str | None = None


async def follow(services: Services, request: ApprovalRequest) -> Ending:
    """Poll the deployment until it is Running (deploy) or gone (undeploy), or time runs out."""
    settings = services.settings
    sent = request.call_sent_at or utc_now()
    deadline = sent.timestamp() + settings.chatops_deploy_timeout_seconds
    error_since: float | None = None
    last_seen = request.last_status
    while True:
        status = await _status(services, request)
        if status != last_seen:
            last_seen = status
            async with services.sessions() as session:
                await record_progress(session, request.id or 0, last_status=status)
                await session.commit()
            await refresh_message(services, request.id or 0)
        if request.action == "undeploy":
            if status == DeploymentState.GONE:
                return Ending(True, "Wallaroo no longer serves it.")
        elif status == DeploymentState.RUNNING:
            return Ending(True, "The deployment is Running.")
        elif status == DeploymentState.GONE:
            return Ending(False, "The deployment disappeared from Wallaroo while starting.")
        elif status == DeploymentState.ERROR:
            error_since = error_since or time.monotonic()
            if time.monotonic() - error_since >= settings.chatops_startup_error_grace_seconds:
                return Ending(False, "The deployment is in Error (it did not recover).")
        else:
            error_since = None
        if time.time() >= deadline:
            waited = int(settings.chatops_deploy_timeout_seconds)
            return Ending(False, f"Gave up waiting after {waited} s; it was {status}.")
        await asyncio.sleep(settings.chatops_deploy_poll_seconds)


async def _status(services: Services, request: ApprovalRequest) -> str:
    """Running, Starting, Error, Gone (404), or unknown while Wallaroo does not answer."""
    request = await load(services, request.id or 0)
    if request.deployment_id is None:
        return DeploymentState.UNKNOWN
    try:
        found = await services.wallaroo.get_deployment_status(
            request.deploy_id, request.deployment_id
        )
    except WallarooNotFound:
        return DeploymentState.GONE
    except WallarooError as exc:
        logger.warning("status of request %s: %s", request.id, exc)
        return DeploymentState.UNKNOWN
    return found.status


async def finish(services: Services, request_id: int, ending: Ending) -> None:
    to_state = ApprovalState.SUCCEEDED if ending.succeeded else ApprovalState.FAILED
    # The watch changes before the request stops counting as an undeploy in flight (which
    # keeps the poller from calling the deployment gone), and is safe to repeat if we die here.
    if ending.succeeded and await _update_watch(services, await load(services, request_id)):
        ending = replace(ending, outcome=f"{ending.outcome} {STOPPED_WATCHING}")
    async with services.sessions() as session:
        won = await move(
            session,
            request_id,
            from_states=[ApprovalState.CALLING, ApprovalState.FOLLOWING],
            to_state=to_state,
            outcome=ending.outcome,
        )
    if not won:
        return  # another worker finished it and said so
    request = await load(services, request_id)
    outcome = Outcome.OK if ending.succeeded else Outcome.ERROR
    await audit_step(
        services, request, to_state.value, outcome, ending.outcome, ending.wallaroo_error
    )
    await refresh_message(services, request_id)
    await _tell_outcome(services, request)


async def _tell_outcome(services: Services, request: ApprovalRequest) -> None:
    """The outcome in the request's thread; when there is no thread (its message could not be
    posted) or the post fails, to the requester directly, so that it is never lost unseen."""
    reply = render_outcome(request)
    if request.message_ts is not None:
        try:
            await services.chat.post(request.channel, reply, thread_ts=request.message_ts)
            return
        except ChatError as exc:
            logger.warning("could not post the outcome of request %s: %s", request.id, exc)
    try:
        await services.chat.post_ephemeral(request.channel, request.requester_id, reply)
        return
    except ChatError as exc:
        logger.warning("could not tell request %s's outcome in its channel: %s", request.id, exc)
    try:
        await services.chat.post(request.requester_id, reply)  # a direct message
        return
    except ChatError as exc:
        logger.error(
            "could not tell <%s> request %s's outcome: %s", request.requester_id, request.id, exc
        )
    detail = f"the outcome could not be told to {request.requester_id}"
    await audit_step(services, request, "outcome-undelivered", Outcome.ERROR, detail)


async def _update_watch(services: Services, request: ApprovalRequest) -> bool:
    """Deployments made through an approval are watched; undeployed ones no longer are.
    True when a watch was removed, which the outcome then says."""
    async with services.sessions() as session:
        if request.action == "undeploy":
            await close_episode(
                session,
                pipeline_subject(request.pipeline_id),
                "Undeployed through the bot",
                services.clock(),
                ended_by=request,
            )
            removed = await remove_watch(session, request.pipeline_id)
            await session.commit()
            return removed
        channel = services.settings.chatops_alert_channel or request.channel
        watch = DeploymentWatch(
            workspace_id=request.workspace_id,
            workspace_name=request.workspace_name,
            pipeline_id=request.pipeline_id,
            pipeline_name=request.pipeline_name,
            channel=channel,
            created_by=request.decided_by or "bot",
        )
        await add_watch(session, watch)  # None if it was already watched: fine
        return False


async def refresh_message(services: Services, request_id: int) -> None:
    """Edit the request's message to show its state now (no-op if it was never posted), and
    the message of the alert episode it remediates, if an alert's button asked for it."""
    request = await load(services, request_id)
    await show_remediation(services, request)
    if request.message_ts is None:
        return
    try:
        shown = render_request(request, now=services.clock())
        await services.chat.update(request.channel, request.message_ts, shown)
    except ChatError as exc:
        logger.warning("could not update the message of request %s: %s", request_id, exc)


async def load(services: Services, request_id: int) -> ApprovalRequest:
    """The request as the database has it now (another worker may have moved it)."""
    async with services.sessions() as session:
        request = await get_request(session, request_id)
    if request is None:
        raise LookupError(f"approval request {request_id} vanished")
    return request


async def audit_step(
    services: Services,
    request: ApprovalRequest,
    step: str,
    outcome: Outcome,
    detail: str,
    wallaroo_error: str | None = None,
) -> None:
    await services.audit.record(
        **replace(BOT_ACTOR, channel_id=request.channel).audit_fields(),
        command_text=f"request {request.id} {request.action} {step}: {detail}",
        area="approvals",
        action=f"{request.action}-{step}",
        target=f"pipeline {request.pipeline_name}",
        outcome=outcome,
        duration_ms=0,
        wallaroo_error=wallaroo_error,
    )
