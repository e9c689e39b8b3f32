"""Carrying out an approved deploy, rollback or undeploy: one Wallaroo call, then following the
deployment to Running (or gone; `following`), with the request's message kept up to date.

Exactly once: a worker must win the compare-and-set approved -> calling before it sends the
call, and the row records that it did (`call_sent_at`). A process that dies after that point
never sends again: the next start finds the request `calling` and asks Wallaroo what happened
(`reconcile`), or `following` and simply follows on.

Only an answer that proves refusal (a 4xx) fails the request at once. Any other failure (a 5xx
such as a gateway 504 after Wallaroo took the deploy, a timeout, a lost connection) leaves the
call's fate unknown and is reconciled the same way; when Wallaroo shows no effect within
CHATOPS_CALL_GRACE_SECONDS, the request fails saying nothing happened, and is not retried.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.exc import SQLAlchemyError

from bot.wallaroo import (
    WallarooBadRequest,
    WallarooError,
    WallarooForbidden,
    WallarooNotFound,
    WallarooUnauthorized,
)
from handlers.approvals.following import (
    Ending,
    audit_step,
    finish,
    follow,
    load,
    refresh_message,
)
from handlers.approvals.reconcile import look_for_effect
from handlers.context import Services
from storage.approvals import (
    DEPLOYING_ACTIONS,
    ApprovalRequest,
    ApprovalState,
    in_flight_requests,
    move,
)
from storage.audit import AuditUnavailable, Outcome
from storage.utc import utc_now

logger = logging.getLogger(__name__)

# Answers that prove Wallaroo refused the call and changed nothing. Anything else (a 5xx, a
# gateway timeout, a lost connection, an unreadable answer) leaves the call's fate unknown.
REFUSALS = (WallarooBadRequest, WallarooForbidden, WallarooNotFound, WallarooUnauthorized)
DATABASE_RETRY_SECONDS = 1.0
MAX_DATABASE_RETRY_SECONDS = 30.0


def start_rollout(services: Services, request_id: int) -> None:
    """Carry out an approved request in the background (the click's reply does not wait)."""
    services.tasks.spawn(_carry_out_through(services, request_id), name=f"rollout-{request_id}")


async def _carry_out_through(services: Services, request_id: int) -> None:
    """`carry_out`, started again from the database after a database error (a PostgreSQL
    restart cut its connection: bench/soak.py found requests left `following` for good).
    Safe because each step is recorded before the next: a request found `calling` is
    reconciled, never sent again; `following` is followed; a finished one is left alone."""
    pause = DATABASE_RETRY_SECONDS
    while True:
        try:
            await carry_out(services, request_id)
            return
        except (SQLAlchemyError, AuditUnavailable) as exc:
            logger.warning(
                "request %s: the database failed mid-rollout (%s); carrying on in %.0f s",
                request_id,
                type(exc).__name__,
                pause,
            )
        await asyncio.sleep(pause)
        pause = min(pause * 2, MAX_DATABASE_RETRY_SECONDS)


async def resume_in_flight(services: Services) -> None:
    """At start: carry on with every request an earlier process approved but did not finish."""
    async with services.sessions() as session:
        unfinished = await in_flight_requests(session)
    for request in unfinished:
        logger.info("resuming request %s (%s)", request.id, request.state)
        start_rollout(services, request.id or 0)


async def carry_out(services: Services, request_id: int) -> None:
    request = await load(services, request_id)
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
        call = "deploy" if request.action in DEPLOYING_ACTIONS else request.action
        await audit_step(services, request, "call", Outcome.OK, f"pipelines/{call} sent")
        ending = await _send(services, await load(services, request_id))
    elif state is ApprovalState.CALLING:
        # Another process (a replica) may be sending this call right now: give it the time
        # a call can take before deciding that nobody is, and looking at Wallaroo instead.
        sent = request.call_sent_at or utc_now()
        grace = services.settings.chatops_call_grace_seconds
        wait = sent.timestamp() + grace - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
            request = await load(services, request_id)
            if request.current_state is not ApprovalState.CALLING:
                return await carry_out(services, request_id)
        ending = await _reconcile(services, request)
    elif state is ApprovalState.FOLLOWING:
        ending = None
    else:
        return
    if ending is None:
        ending = await follow(services, await load(services, request_id))
    await finish(services, request_id, ending)


async def _send(services: Services, request: ApprovalRequest) -> Ending | None:
    """Send the one call. None: Wallaroo took it, go and follow. An Ending: it is over."""
    client = services.wallaroo
    deploying = request.action in DEPLOYING_ACTIONS
    unversioned = request.pipeline_version_id is None and request.pipeline_version is None
    if deploying and unversioned:
        return Ending(False, "The request names no pipeline version, so nothing was sent.")
    deployment_id: int | None
    try:
        if deploying:
            # A rollback is a deploy of an earlier version, under the live deploy_id.
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
    except WallarooNotFound as exc:
        if request.action == "undeploy":
            return Ending(True, "It was already undeployed.")
        return Ending(False, f"Wallaroo refused the deploy: {exc}", exc.msg)
    except REFUSALS as exc:
        return Ending(False, f"Wallaroo refused the {request.action}: {exc}", exc.msg)
    except WallarooError as exc:
        # A 5xx (a gateway 504 after Wallaroo took the call), a timeout, a lost answer: the call
        # may or may not have taken effect, and only Wallaroo's state can tell. Never resend.
        logger.warning("request %s: %s of unknown fate: %s", request.id, request.action, exc)
        await audit_step(services, request, "unknown-fate", Outcome.ERROR, str(exc))
        return await _reconcile(services, request, cause=exc)
    await _following(services, request, deployment_id)
    return None


async def _reconcile(
    services: Services, request: ApprovalRequest, cause: WallarooError | None = None
) -> Ending | None:
    """The call's fate is unknown (the process died, or the answer was lost or an error that
    proves nothing): look at Wallaroo's state (handlers.approvals.reconcile), never resend.

    When it shows no effect the request fails and says nothing happened; it is not retried,
    because a slow Wallaroo could still carry out the first call after the grace time."""
    grace = services.settings.chatops_call_grace_seconds
    effect = await look_for_effect(services, request, grace)
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
    lost = "The call's answer was lost" if cause is None else f"Wallaroo answered: {cause}"
    if request.action in DEPLOYING_ACTIONS:
        return Ending(
            False,
            f"{lost}. Wallaroo shows no deployment of that version, so nothing was deployed "
            f"and the call was not sent again. Ask for a new {request.action}.",
            None if cause is None else cause.msg,
        )
    return Ending(
        False,
        f"{lost}. The deployment is still there, so nothing was undeployed and the call was "
        "not sent again. Ask for a new undeploy.",
        None if cause is None else cause.msg,
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
    await audit_step(services, request, "accepted", Outcome.OK, f"deployment {deployment_id}")
    await refresh_message(services, request.id or 0)
