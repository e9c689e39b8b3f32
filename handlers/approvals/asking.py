"""Asking for approval: storing a request, refusing a second one for the same pipeline while
the first is pending (linking to it), and posting it with its buttons and what
its version changes against the live one. `requests` decides what to ask for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.wallaroo import PipelineListing, Workspace
from bot.wallaroo.pipeline_models import ListedPipelineVersion, VersionHistory
from handlers.chat import ChatError
from handlers.context import Answer, Context, Services
from handlers.render.approval_messages import change_text, describe_change, render_request
from handlers.render.blocks import Reply, error_reply, ok_reply
from handlers.render.mrkdwn import channel_mention, code, escape
from handlers.render.mrkdwn import link as mrkdwn_link
from handlers.render.pipeline_versions import VersionChange
from handlers.render.times import when
from storage.approvals import (
    ApprovalRequest,
    ApprovalState,
    create_request,
    move,
    pending_requests,
    record_progress,
)
from storage.audit import Outcome


@dataclass(frozen=True)
class Change:
    """What a request asks for, before it is stored."""

    action: str
    workspace: Workspace
    listing: PipelineListing
    reason: str
    deploy_id: str
    deployment_id: int | None  # undeploy: the one to remove; rollback: the one replaced
    history: VersionHistory | None = None  # given for a deploy or rollback: show the diff
    version: ListedPipelineVersion | None = None  # what it deploys (undeploy: the latest)


async def ask(ctx: Context, change: Change) -> Answer:
    settings = ctx.services.settings
    channel = settings.chatops_approval_channel or ctx.actor.channel_id or "console"
    now = ctx.services.clock()
    pipeline, version = change.listing.pipeline, change.version
    diff = None
    if change.history is not None and version is not None:
        diff = VersionChange.of(change.history, version)
    request = ApprovalRequest(
        action=change.action,
        workspace_id=change.workspace.id,
        workspace_name=change.workspace.name,
        pipeline_id=pipeline.id,
        pipeline_name=pipeline.name,
        pipeline_version=version.version if version else None,
        pipeline_version_id=version.id if version else None,  # the tutorial-era pk, if any
        deploy_id=change.deploy_id,
        deployment_id=change.deployment_id,
        requester_id=ctx.actor.user_id,
        requester_name=ctx.actor.user_name,
        reason=change.reason,
        change_summary=change_text(diff) if diff is not None else None,
        live_version=change.history.live_key if change.history is not None else None,
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
        refusal = await _twin_refusal(ctx.services, earlier)
        return Answer(refusal, target=target, outcome=Outcome.REFUSED)
    target = f"request {request.id}"
    posted_in = await _post_request(ctx.services, request, diff)
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
    if diff is not None:
        message += "\n" + change_text(diff)
    return Answer(ok_reply(message), target=target)


async def _pending_twin(
    session: AsyncSession, request: ApprovalRequest, now: datetime
) -> ApprovalRequest | None:
    """An earlier pending request for the same pipeline, if any: a replayed or repeated ask
    must not become a second request (and a second Wallaroo call), and two changes of one
    pipeline pending at once (a rollback and an undeploy pressed on one alert, a deploy and a
    rollback) would each be approved against a state the other changes."""
    for other in await pending_requests(session, now):
        same = other.pipeline_id == request.pipeline_id
        if same and (request.id is None or (other.id or 0) < request.id):
            return other
    return None


async def _twin_refusal(services: Services, earlier: ApprovalRequest) -> Reply:
    """The refusal of a second request, linking to the first where chat has links (Slack);
    the console has none, so it names the request, as `approve #N` takes it."""
    verb = "roll back" if earlier.action == "rollback" else earlier.action
    link = None
    if earlier.message_ts is not None:
        link = await services.chat.permalink(earlier.channel, earlier.message_ts)
    where = f" (posted in {channel_mention(earlier.channel)})" if earlier.message_ts else ""
    if link is not None:
        where = f" (posted in {channel_mention(earlier.channel)}: {mrkdwn_link(link, 'see it')})"
    return error_reply(
        f"Request *#{earlier.id}* to {verb} *{escape(earlier.pipeline_name)}* is "
        f"already waiting for approval{where}, so I did not make another.",
        f"{code('/wallaroo approvals')} lists it; approve or reject that one.",
    )


async def _post_request(
    services: Services, request: ApprovalRequest, change: VersionChange | None
) -> str | None:
    """Post the request with its buttons and remember the message; None if Slack refused."""
    try:
        posted = await services.chat.post(
            request.channel, render_request(request, change, services.clock())
        )
    except ChatError:
        return None
    async with services.sessions() as session:
        await record_progress(
            session, request.id or 0, channel=posted.channel, message_ts=posted.ts
        )
        await session.commit()
    return posted.channel
