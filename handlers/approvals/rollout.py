"""Carrying out an approved deploy or undeploy: one Wallaroo call, then following the
deployment to Running (or gone), with the request's message kept up to date.

Exactly once: a worker must win the compare-and-set approved -> calling before it sends the
call, and the row records that it did (`call_sent_at`). A process that dies after that point
never sends again: the next start finds the request `calling` and asks Wallaroo what happened
(`reconcile`), or `following` and simply follows on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace

from bot.wallaroo import WallarooError, WallarooNotFound, WallarooUnreachable
from handlers.alerting.episodes import close_episode
from handlers.approvals.reconcile import look_for_effect
from handlers.chat import ChatError
from handlers.context import BOT_ACTOR, Services
from handlers.render.approval_messages import render_outcome, render_request
from storage.alerts import pipeline_subject
from storage.approvals import (
    ApprovalRequest,
    ApprovalState,
    get_request,
    in_flight_requests,
    move,
    record_progress,
)
from storage.utc import utc_now
from storage.watches import DeploymentWatch, add_watch, remove_watch

logger = logging.getLogger(__name__)

# Longer than one Wallaroo call can take (the client's timeout is 10 s, a write is not retried).
CALL_GRACE_SECONDS = 30.0
STOPPED_WATCHING = "Stopped watching it: no more deployment alerts for it."


@dataclass(frozen=True)
class Ending:
    succeeded: bool
    outcome: str
    wallaroo_error: str | None = None


def start_rollout(services: Services, request_id: int) -> None:
    """Carry out an approved request in the background (the click's reply does not wait)."""
    services.tasks.spawn(carry_out(services, request_id), name=f"rollout-{request_id}")


async def resume_in_flight(services: Services) -> None:
    """At start: carry on with every request an earlier process approved but did not finish."""
    async with services.sessions() as session:
        unfinished = await in_flight_requests(session)
    for request in unfinished:
        logger.info("resuming request %s (%s)", request.id, request.state)
        start_rollout(services, request.id or 0)


async def carry_out(services: Services, request_id: int) -> None:
    request = await _load(services, request_id)
    state = request.current_state
    if state is ApprovalState.APPROVED:
        async with services.sessions() as session:
            claimed = await move(
                session,
                request_id,
                from_states=[ApprovalState.APPROVED],
                to_state=ApprovalState.CALLING,
                call_sent_at=utc_now(),
            )
        if not claimed:
            return  # another worker (or replica) has it
        await _audit(services, request, "call", "ok", f"pipelines/{request.action} sent")
        ending = await _send(services, await _load(services, request_id))
    elif state is ApprovalState.CALLING:
        # Another process (a replica) may be sending this call right now: give it the time
        # a call can take before deciding that nobody is, and looking at Wallaroo instead.
        sent = request.call_sent_at or utc_now()
        wait = sent.timestamp() + CALL_GRACE_SECONDS - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
            request = await _load(services, request_id)
            if request.current_state is not ApprovalState.CALLING:
                return await carry_out(services, request_id)
        ending = await _reconcile(services, request)
    elif state is ApprovalState.FOLLOWING:
        ending = None
    else:
        return
    if ending is None:
        ending = await _follow(services, await _load(services, request_id))
    await _finish(services, request_id, ending)


async def _send(services: Services, request: ApprovalRequest) -> Ending | None:
    """Send the one call. None: Wallaroo took it, go and follow. An Ending: it is over."""
    client = services.wallaroo
    unversioned = request.pipeline_version_id is None and request.pipeline_version is None
    if request.action == "deploy" and unversioned:
        return Ending(False, "The request names no pipeline version, so nothing was sent.")
    try:
        if request.action == "deploy":
            # The integer pk is stored only where the instance lists versions the tutorial's
            # way (or by a request made before UUIDs were stored); otherwise, the UUID.
            by_pk = request.pipeline_version_id is not None
            deployment_id = await client.deploy_pipeline(
                request.pipeline_id,
                request.pipeline_version_id,
                request.deploy_id,
                pipeline_version=None if by_pk else request.pipeline_version,
            )
        else:
            await client.undeploy_pipeline(request.pipeline_id, request.deployment_id or 0)
            deployment_id = request.deployment_id
    except WallarooUnreachable:
        # The call may or may not have arrived; only Wallaroo's state can tell.
        return await _reconcile(services, request)
    except WallarooNotFound as exc:
        if request.action == "undeploy":
            return Ending(True, "It was already undeployed.")
        return Ending(False, f"Wallaroo refused the deploy: {exc}", exc.msg)
    except WallarooError as exc:
        return Ending(False, f"Wallaroo refused the {request.action}: {exc}", exc.msg)
    await _following(services, request, deployment_id)
    return None


async def _reconcile(services: Services, request: ApprovalRequest) -> Ending | None:
    """The call's fate is unknown (the process died, or the answer was lost): look at
    Wallaroo's state (bot.reconcile), never resend."""
    effect = await look_for_effect(services, request, CALL_GRACE_SECONDS)
    if effect.arrived:
        await _following(services, request, effect.deployment_id)
        return None
    problem = effect.problem
    if problem is not None:
        return Ending(
            False,
            "I could not tell whether Wallaroo took the call, so I did not send it again. "
            f"Check `status` before asking again. ({problem})",
            problem.msg,
        )
    if request.action == "deploy":
        return Ending(
            False,
            "The call's answer was lost and Wallaroo shows no deployment of that version, so "
            "it was not sent again. Ask for a new deploy.",
        )
    return Ending(
        False,
        "The call's answer was lost and the deployment is still there, so it was not sent "
        "again. Ask for a new undeploy.",
    )


async def _following(
    services: Services, request: ApprovalRequest, deployment_id: int | None
) -> None:
    async with services.sessions() as session:
        await move(
            session,
            request.id or 0,
            from_states=[ApprovalState.CALLING],
            to_state=ApprovalState.FOLLOWING,
            deployment_id=deployment_id,
        )
    await _audit(services, request, "accepted", "ok", f"deployment {deployment_id}")
    await refresh_message(services, request.id or 0)


async def _follow(services: Services, request: ApprovalRequest) -> Ending:
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
            await refresh_message(services, request.id or 0)
        if request.action == "undeploy":
            if status == "gone":
                return Ending(True, "Wallaroo no longer serves it.")
        elif status == "Running":
            return Ending(True, "The deployment is Running.")
        elif status == "gone":
            return Ending(False, "The deployment disappeared from Wallaroo while starting.")
        elif status == "Error":
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
    """Running, Starting, Error, `gone` (404), or `unknown` while Wallaroo does not answer."""
    request = await _load(services, request.id or 0)
    if request.deployment_id is None:
        return "unknown"
    try:
        found = await services.wallaroo.get_deployment_status(
            request.deploy_id, request.deployment_id
        )
    except WallarooNotFound:
        return "gone"
    except WallarooError as exc:
        logger.warning("status of request %s: %s", request.id, exc)
        return "unknown"
    return found.status


async def _finish(services: Services, request_id: int, ending: Ending) -> None:
    to_state = ApprovalState.SUCCEEDED if ending.succeeded else ApprovalState.FAILED
    # The watch changes before the request stops counting as an undeploy in flight (which
    # keeps the poller from calling the deployment gone), and is safe to repeat if we die here.
    if ending.succeeded and await _update_watch(services, await _load(services, request_id)):
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
    request = await _load(services, request_id)
    outcome = "ok" if ending.succeeded else "error"
    await _audit(services, request, to_state.value, outcome, ending.outcome, ending.wallaroo_error)
    await refresh_message(services, request_id)
    try:
        await services.chat.post(
            request.channel, render_outcome(request), thread_ts=request.message_ts
        )
    except ChatError as exc:
        logger.warning("could not post the outcome of request %s: %s", request_id, exc)


async def _update_watch(services: Services, request: ApprovalRequest) -> bool:
    """Deployments made through an approval are watched; undeployed ones no longer are.
    True when a watch was removed, which the outcome then says."""
    async with services.sessions() as session:
        if request.action == "undeploy":
            await close_episode(
                session, pipeline_subject(request.pipeline_id), "Undeployed through the bot"
            )
            return await remove_watch(session, request.pipeline_id)  # commits both
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
    """Edit the request's message to show its state now (no-op if it was never posted)."""
    request = await _load(services, request_id)
    if request.message_ts is None:
        return
    try:
        await services.chat.update(request.channel, request.message_ts, render_request(request))
    except ChatError as exc:
        logger.warning("could not update the message of request %s: %s", request_id, exc)


async def _load(services: Services, request_id: int) -> ApprovalRequest:
    async with services.sessions() as session:
        request = await get_request(session, request_id)
    if request is None:
        raise LookupError(f"approval request {request_id} vanished")
    return request


async def _audit(
    services: Services,
    request: ApprovalRequest,
    step: str,
    outcome: str,
    detail: str,
    wallaroo_error: str | None = None,
) -> None:
    await services.audit.record(
        **(BOT_ACTOR.audit_fields() | {"channel_id": request.channel}),
        command_text=f"request {request.id} {request.action} {step}: {detail}",
        area="approvals",
        action=f"{request.action}-{step}",
        target=f"pipeline {request.pipeline_name}",
        outcome=outcome,  # type: ignore[arg-type]
        duration_ms=0,
        wallaroo_error=wallaroo_error,
    )
