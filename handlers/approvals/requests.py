"""Approval requests: `deploy`, `undeploy` and `rollback` ask (storing and posting is
`asking`'s job), `approvals` lists, `approve`/`reject` (or the buttons) decide. Four-eyes,
expiry, staleness and exactly-once are all decided here and in `storage.approvals`; carrying
out an approved request is `handlers.approvals.rollout`'s job."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.wallaroo import PipelineListing, Workspace
from handlers.approvals.asking import Change, ask
from handlers.approvals.checks import DECIDERS, decision_refusal, stale_because
from handlers.approvals.following import refresh_message
from handlers.approvals.outlived import outlived_because, withdraw
from handlers.approvals.rollback import rollback_target
from handlers.approvals.rollout import start_rollout
from handlers.context import Actor, Answer, CommandProblem, Context, Services
from handlers.render.approval_messages import OUTLIVED, PROGRESS
from handlers.render.blocks import Reply, error_reply, ok_reply
from handlers.render.mrkdwn import escape, user_mention
from handlers.render.times import when
from storage.approvals import (
    ApprovalRequest,
    ApprovalState,
    get_request,
    move,
    pending_requests,
)
from storage.audit import AuditUnavailable, Outcome
from storage.roles import Role, allows

logger = logging.getLogger(__name__)

VERBS = {"deploy": "Deploying", "rollback": "Rolling back", "undeploy": "Undeploying"}


@dataclass(frozen=True)
class Verdict:
    approve: bool
    reason: str = ""

    @property
    def verb(self) -> str:
        return "approve" if self.approve else "reject"


# --- asking ---------------------------------------------------------------------------------


async def request_change(
    ctx: Context, action: str, workspace: Workspace, listing: PipelineListing, reason: str
) -> Answer:
    """`deploy WS PIPELINE [reason]` / `undeploy ...`: store a request and post it for approval
    (a deploy's showing what its version changes against the live one)."""
    pipeline = listing.pipeline
    history = await ctx.services.wallaroo.version_history(workspace.id, listing)
    live, version = history.live, history.latest
    if action == "undeploy":
        if live is None:
            raise CommandProblem(
                f"*{escape(pipeline.name)}* is not deployed; there is nothing to undeploy.",
                f"`/wallaroo status {escape(workspace.name)} {escape(pipeline.name)}` shows it.",
            )
        # The version stays on record too: the staleness check compares it.
        change = Change(action, workspace, listing, reason, live.deploy_id, live.id, None, version)
        return await ask(ctx, change)
    if version is None:
        raise CommandProblem(
            f"Wallaroo lists no version of *{escape(pipeline.name)}*, so there is nothing "
            "to deploy."
        )
    deploy_id = live.deploy_id if live else pipeline.name
    change = Change(action, workspace, listing, reason, deploy_id, None, history, version)
    return await ask(ctx, change)


async def request_rollback(
    ctx: Context, workspace: Workspace, listing: PipelineListing, version: str | None, reason: str
) -> Answer:
    """`rollback WS PIPELINE [VERSION] [reason]`: a request to deploy an earlier version (by
    default the one before the live one) under the live deployment's name."""
    history = await ctx.services.wallaroo.version_history(workspace.id, listing)
    target = rollback_target(history, workspace.name, listing.pipeline.name, version)
    assert history.live is not None  # rollback_target refuses a pipeline not deployed
    live = history.live
    change = Change(
        "rollback", workspace, listing, reason, live.deploy_id, live.id, history, target
    )
    return await ask(ctx, change)


# --- deciding -------------------------------------------------------------------------------


async def decide(
    services: Services, actor: Actor, role: Role, request_id: int, verdict: Verdict
) -> Answer:
    """Approve or reject one request for `actor`, who already holds a deciding role."""
    target = f"request {request_id}"
    async with services.sessions() as session:
        request = await get_request(session, request_id)
    if request is None:
        raise CommandProblem(
            f"There is no approval request #{request_id}.", "`/wallaroo approvals` lists them."
        )
    refusal = await decision_refusal(services, actor, role, request)
    if refusal is not None:
        return Answer(error_reply(*refusal), target=target, outcome=Outcome.REFUSED)
    now = services.clock()
    if request.current_state is not ApprovalState.PENDING or request.is_expired(now):
        return Answer(await _too_late(services, request_id), target=target, outcome=Outcome.REFUSED)
    if verdict.approve:
        # Its alert's recovery first (it needs no Wallaroo call). The withdrawal races the move
        # below by the same compare-and-set, and only its winner tells the alert's thread.
        async with services.sessions() as session:
            why = await outlived_because(session, request, now)
        why = why or await stale_because(services.wallaroo, request)
        if why is not None:
            return await _refuse_stale(services, request, why, target)
    to_state = ApprovalState.APPROVED if verdict.approve else ApprovalState.REJECTED
    async with services.sessions() as session:
        won = await move(
            session,
            request_id,
            from_states=[ApprovalState.PENDING],
            to_state=to_state,
            not_expired_at=now,
            decided_by=actor.user_id,
            decided_by_name=actor.user_name,
            decided_at=now,
            decision_note=verdict.reason or None,
        )
    if not won:
        return Answer(await _too_late(services, request_id), target=target, outcome=Outcome.REFUSED)
    if verdict.approve:
        start_rollout(services, request_id)  # before anything else that could fail
    await refresh_message(services, request_id)
    if verdict.approve:
        verb = VERBS.get(request.action, request.action.capitalize())
        message = (
            f"Approved request #{request_id}. {verb} *{escape(request.pipeline_name)}*; "
            "the outcome will follow in the request's thread."
        )
    else:
        reason = f" Reason given: _{escape(verdict.reason)}_" if verdict.reason else ""
        message = f"Rejected request #{request_id}.{reason}"
    return Answer(ok_reply(message), target=target)


async def _refuse_stale(
    services: Services, request: ApprovalRequest, why: str, target: str
) -> Answer:
    """An Approve of a request found stale: withdrawn (audited as the bot's, as the poller's
    withdrawal is), and the approver told why. Refused even when its intent cannot be
    audited: then nothing moved and it stays pending, for the poller to withdraw, as nothing
    may move unaudited (a failure after the move is withdraw's to log)."""
    try:
        await withdraw(services, request, why, outlived=why.startswith(OUTLIVED))
    except AuditUnavailable as exc:
        logger.warning("request %s is stale but stays pending: %s", request.id, exc)
    message = f"Request #{request.id} is stale: {escape(why)}"
    hint = "Ask for a new request, so approvers see what would really change."
    return Answer(error_reply(message, hint), target=target, outcome=Outcome.REFUSED)


async def _too_late(services: Services, request_id: int) -> Reply:
    """The refusal for a request that is no longer pending (or has just expired)."""
    now = services.clock()
    async with services.sessions() as session:
        request = await get_request(session, request_id)
        assert request is not None  # requests are never deleted
        if request.is_expired(now):
            expired = await move(
                session,
                request_id,
                from_states=[ApprovalState.PENDING],
                to_state=ApprovalState.EXPIRED,
            )
            if expired:
                await refresh_message(services, request_id)
            return error_reply(
                f"Request #{request_id} expired at {when(request.expires_at)}.",
                f"{user_mention(request.requester_id)} can ask again.",
            )
    state = request.current_state
    who = f" by {user_mention(request.decided_by)}" if request.decided_by else ""
    if state is ApprovalState.STALE and request.decision_note:  # why, as its message says
        return error_reply(
            f"Request #{request_id} is already stale: {escape(request.decision_note)}."
        )
    if state in (ApprovalState.REJECTED, ApprovalState.STALE, ApprovalState.EXPIRED):
        return error_reply(f"Request #{request_id} is already {state.value}{who}.")
    progress = PROGRESS.get(state, state.value)
    return error_reply(f"Request #{request_id} was already approved{who}; {progress}.")


async def decidable(
    services: Services, actor: Actor, role: Role, pending: list[ApprovalRequest] | None = None
) -> list[ApprovalRequest]:
    """The pending requests `actor` may decide (all checks of a click but the click)."""
    if pending is None:
        async with services.sessions() as session:
            pending = await pending_requests(session, services.clock())
    if not allows(role, DECIDERS):
        return []
    memo: dict[object, object] = {}
    return [r for r in pending if await decision_refusal(services, actor, role, r, memo) is None]
