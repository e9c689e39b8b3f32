"""Approval requests: `deploy`/`undeploy` ask, `approvals` lists, `approve`/`reject` (or the
buttons) decide. Four-eyes, expiry, staleness and exactly-once are all decided here and in
`storage.approvals`; carrying out an approved request is `handlers.approvals.rollout`'s job."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.wallaroo import PipelineListing, Workspace
from handlers.approvals.checks import DECIDERS, decision_refusal, stale_because
from handlers.approvals.following import refresh_message
from handlers.approvals.rollout import start_rollout
from handlers.chat import ChatError
from handlers.context import Actor, Answer, CommandProblem, Context, Services
from handlers.render.approval_messages import PROGRESS, describe_change, render_request
from handlers.render.blocks import Reply, error_reply, ok_reply
from handlers.render.mrkdwn import channel_mention, code, escape, user_mention
from handlers.render.times import when
from storage.approvals import (
    ApprovalRequest,
    ApprovalState,
    create_request,
    get_request,
    move,
    pending_requests,
    record_progress,
)
from storage.audit import Outcome
from storage.roles import Role, allows

logger = logging.getLogger(__name__)


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
    """`deploy WS PIPELINE [reason]` / `undeploy ...`: store a request and post it for approval."""
    client = ctx.services.wallaroo
    pipeline = listing.pipeline
    version = await client.latest_pipeline_version(workspace.id, listing)
    live = await client.live_deployment(workspace.id, listing)
    if action == "deploy":
        if version is None:
            raise CommandProblem(
                f"Wallaroo lists no version of *{escape(pipeline.name)}*, so there is nothing "
                "to deploy."
            )
        deployment_id = None
        deploy_id = live.deploy_id if live else pipeline.name
    else:
        if live is None:
            raise CommandProblem(
                f"*{escape(pipeline.name)}* is not deployed; there is nothing to undeploy.",
                f"`/wallaroo status {escape(workspace.name)} {escape(pipeline.name)}` shows it.",
            )
        deployment_id = live.id
        deploy_id = live.deploy_id
    settings = ctx.services.settings
    channel = settings.chatops_approval_channel or ctx.actor.channel_id or "console"
    now = ctx.services.clock()
    request = ApprovalRequest(
        action=action,
        workspace_id=workspace.id,
        workspace_name=workspace.name,
        pipeline_id=pipeline.id,
        pipeline_name=pipeline.name,
        pipeline_version=version.version if version else None,
        pipeline_version_id=version.id if version else None,  # the tutorial-era pk, if any
        deploy_id=deploy_id,
        deployment_id=deployment_id,
        requester_id=ctx.actor.user_id,
        requester_name=ctx.actor.user_name,
        reason=reason,
        channel=channel,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.chatops_approval_ttl_seconds),
    )
    target = f"pipeline {pipeline.name}"
    async with ctx.services.sessions() as session:
        earlier = await _pending_twin(session, request, now)
        if earlier is None:
            request = await create_request(session, request)
            await session.commit()
            # Two asks at once (two replicas) both pass the check above: the later one yields.
            earlier = await _pending_twin(session, request, now)
    if earlier is not None:
        if request.id is not None:
            async with ctx.services.sessions() as session:
                note = f"request #{earlier.id} for the same change was already pending"
                await move(
                    session,
                    request.id,
                    from_states=[ApprovalState.PENDING],
                    to_state=ApprovalState.STALE,
                    decision_note=note,
                )
        return Answer(_twin_refusal(earlier), target=target, outcome=Outcome.REFUSED)
    target = f"request {request.id}"
    posted_in = await _post_request(ctx.services, request)
    hours = settings.chatops_approval_ttl_seconds / 3600
    message = (
        f"Approval request *#{request.id}* created: {describe_change(request)}. "
        f"An approver other than you has {hours:g} h to decide "
        f"(until {when(request.expires_at)})."
    )
    if posted_in is None:
        message += (
            f" I could not post it in {channel_mention(channel)}; approvers can still "
            f"{code(f'/wallaroo approve {request.id}')}."
        )
    else:
        message += f" Posted in {channel_mention(posted_in)}."
    return Answer(ok_reply(message), target=target)


async def _pending_twin(
    session: AsyncSession, request: ApprovalRequest, now: datetime
) -> ApprovalRequest | None:
    """An earlier pending request for the same action on the same pipeline, if any: a
    replayed or repeated ask must not become a second request (and a second Wallaroo call)."""
    for other in await pending_requests(session, now):
        same = other.pipeline_id == request.pipeline_id and other.action == request.action
        if same and (request.id is None or (other.id or 0) < request.id):
            return other
    return None


def _twin_refusal(earlier: ApprovalRequest) -> Reply:
    where = f" (posted in {channel_mention(earlier.channel)})" if earlier.message_ts else ""
    return error_reply(
        f"Request *#{earlier.id}* to {earlier.action} *{escape(earlier.pipeline_name)}* is "
        f"already waiting for approval{where}, so I did not make another.",
        f"{code('/wallaroo approvals')} lists it; approve or reject that one.",
    )


async def _post_request(services: Services, request: ApprovalRequest) -> str | None:
    """Post the request with its buttons and remember the message; None if Slack refused."""
    try:
        posted = await services.chat.post(request.channel, render_request(request))
    except ChatError:
        return None
    async with services.sessions() as session:
        await record_progress(
            session, request.id or 0, channel=posted.channel, message_ts=posted.ts
        )
        await session.commit()
    return posted.channel


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
        stale = await stale_because(services.wallaroo, request)
        if stale is not None:
            async with services.sessions() as session:
                moved = await move(
                    session,
                    request_id,
                    from_states=[ApprovalState.PENDING],
                    to_state=ApprovalState.STALE,
                    decision_note=stale,
                )
            if moved:
                await refresh_message(services, request_id)
            message = f"Request #{request_id} is stale: {escape(stale)}"
            hint = "Ask for a new request, so approvers see what would really change."
            return Answer(error_reply(message, hint), target=target, outcome=Outcome.REFUSED)
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
        verb = "Deploying" if request.action == "deploy" else "Undeploying"
        message = (
            f"Approved request #{request_id}. {verb} *{escape(request.pipeline_name)}*; "
            "the outcome will follow in the request's thread."
        )
    else:
        reason = f" Reason given: _{escape(verdict.reason)}_" if verdict.reason else ""
        message = f"Rejected request #{request_id}.{reason}"
    return Answer(ok_reply(message), target=target)


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
