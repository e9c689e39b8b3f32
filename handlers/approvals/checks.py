"""Whether a request may be decided now: who may decide it (role, four-eyes, workspace
membership) and whether the pipeline still is what the request was made for (staleness)."""

from __future__ import annotations

from bot.wallaroo import PipelineListing, WallarooClient
from bot.wallaroo.pipeline_models import VersionHistory
from handlers.context import Actor, Services
from handlers.render.approval_messages import short_version
from handlers.render.mrkdwn import escape
from storage.approvals import ApprovalRequest
from storage.roles import Role, allows

DECIDERS = Role.APPROVER


async def decision_refusal(
    services: Services,
    actor: Actor,
    role: Role,
    request: ApprovalRequest,
    memo: dict[object, object] | None = None,
) -> tuple[str, str | None] | None:
    """Why `actor` may not decide `request` (message, hint), or None if they may. `memo`
    keeps the email and memberships looked up for a list of requests, so each is asked once."""
    memo = {} if memo is None else memo
    if not allows(role, DECIDERS):
        return (
            f"Deciding requests needs the *approver* role; you are *{role}*.",
            "An admin can run `/wallaroo access grant @you approver`.",
        )
    if actor.user_id == request.requester_id:
        return (
            f"You asked for request #{request.id}, so someone else must decide it (four-eyes).",
            None,
        )
    if services.settings.chatops_workspace_aware_permissions:
        if "email" not in memo:
            memo["email"] = await services.chat.user_email(actor.user_id)
        email = memo["email"]
        if not isinstance(email, str):
            return ("I cannot see your email, so I cannot check your Wallaroo workspace.", None)
        member = ("member", request.workspace_id)
        if member not in memo:
            memo[member] = await is_workspace_member(services.wallaroo, request.workspace_id, email)
        if not memo[member]:
            return (
                f"You ({escape(email)}) are not an owner or collaborator of Wallaroo workspace "
                f"*{escape(request.workspace_name)}*.",
                "A workspace owner can add you with `/wallaroo workspace add-user`.",
            )
    return None


async def stale_because(client: WallarooClient, request: ApprovalRequest) -> str | None:
    """Why the pipeline no longer matches the request, or None if it still does."""
    listing = await client.find_listed_pipeline(request.workspace_id, request.pipeline_id)
    if listing is None:
        return f"pipeline {request.pipeline_name} no longer exists"
    if request.action == "rollback":
        return await _rollback_stale(client, request, listing)
    if request.action == "deploy" and request.live_version is not None:
        moved = _live_moved(request, await client.version_history(request.workspace_id, listing))
        if moved is not None:
            return moved
    latest = await client.latest_pipeline_version(request.workspace_id, listing)
    if request.pipeline_version is not None:
        # Today's Wallaroo knows versions by UUID; so does every request made since.
        now_at = latest.version if latest else None
        if now_at != request.pipeline_version:
            return (
                f"{request.pipeline_name} is at version {short_version(now_at)} now, "
                f"not {short_version(request.pipeline_version)} as when it was requested"
            )
    else:
        # A request stored before UUIDs were: its integer pk is what it knows.
        now_pk = latest.id if latest else None
        if latest is not None and now_pk is None and request.pipeline_version_id is not None:
            # Today's Wallaroo shows no version's pk, so the request's cannot be checked.
            return (
                f"it names {request.pipeline_name}'s version by the number "
                f"{request.pipeline_version_id}, which this Wallaroo no longer shows"
            )
        if now_pk != request.pipeline_version_id:
            return (
                f"{request.pipeline_name} is at version {now_pk} now, "
                f"not {request.pipeline_version_id} as when it was requested"
            )
    if request.action == "undeploy":
        live = await client.live_deployment(request.workspace_id, listing)
        current = live.id if live else None
        if current != request.deployment_id:
            now_deployed = f"deployment {current}" if current else "nothing"
            return f"deployment {request.deployment_id} was replaced by {now_deployed}"
    return None


async def _rollback_stale(
    client: WallarooClient, request: ApprovalRequest, listing: PipelineListing
) -> str | None:
    """A rollback stays good while its version exists, the deployment it replaces still
    serves the pipeline, and that deployment does not already run the version."""
    history = await client.version_history(request.workspace_id, listing)
    wanted = [
        v
        for v in history.versions
        if v.version == request.pipeline_version
        or (request.pipeline_version is None and v.id == request.pipeline_version_id)
    ]
    shown = short_version(request.pipeline_version) if request.pipeline_version else None
    named = f"version {shown or request.pipeline_version_id}"
    if not wanted:
        return f"{request.pipeline_name} no longer has {named}"
    live = history.live
    if live is None:
        return f"{request.pipeline_name} is no longer deployed"
    if live.id != request.deployment_id:
        return f"deployment {request.deployment_id} was replaced by deployment {live.id}"
    if history.live_version is not None and history.live_version.version == wanted[0].version:
        return f"{request.pipeline_name} already runs {named}"
    return _live_moved(request, history)


def _live_moved(request: ApprovalRequest, history: VersionHistory) -> str | None:
    """Why the diff the approver is shown no longer holds: another version went live (or
    none is) since the request was made against `request.live_version`."""
    if request.live_version is None or history.live_key == request.live_version:
        return None
    was = short_version(request.live_version)
    if history.live_key is None:
        return f"version {was} was live when it was requested; no known version is now"
    return (
        f"version {short_version(history.live_key)} is live now, not {was} as when it was "
        "requested (what it changes would differ)"
    )


async def is_workspace_member(client: WallarooClient, workspace_id: int, email: str) -> bool:
    members = await client.list_workspace_users(workspace_id)
    users = await client.query_users([m.user_id for m in members]) if members else {}
    wanted = email.strip().lower()
    return any((user.email or "").lower() == wanted for user in users.values())
