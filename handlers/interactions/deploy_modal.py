"""The "Request a deploy" modal: its selects' options (from Wallaroo, filtered by what the user
types) and its submission, checked input by input, then run as `deploy WS PIPELINE REASON`
(or, for an earlier version than the newest, as `rollback WS PIPELINE VERSION REASON`,
refused in the form when rollback would refuse it)."""

from __future__ import annotations

import logging
from typing import Any

from bot.wallaroo import (
    ListedPipelineVersion,
    PipelineListing,
    WallarooClient,
    WallarooError,
    Workspace,
)
from handlers.approvals.rollback import PREVIOUS, index_of, rollback_target
from handlers.commands.arguments_wallaroo import Deploy, Rollback
from handlers.commands.grammar import Command
from handlers.commands.lookup import find_pipeline, find_workspace
from handlers.context import Actor, CommandProblem, Services
from handlers.interactions.forms import (
    FORGED,
    Submission,
    as_id,
    audit_form,
    chosen,
    metadata_channel,
    plain,
    read_metadata,
    role_refusal,
    submitter,
    typed,
)
from handlers.render.modals import (
    DEPLOY_CHANNEL,
    DEPLOY_PIPELINE,
    DEPLOY_REASON,
    DEPLOY_VERSION,
    DEPLOY_WORKSPACE,
    named_options,
)
from handlers.render.mrkdwn import code, is_channel_id
from storage.audit import Outcome

logger = logging.getLogger(__name__)
Errors = dict[str, str]


async def workspace_options(services: Services, typed_text: str) -> list[dict[str, Any]]:
    try:
        workspaces = await services.wallaroo.list_workspaces()
    except WallarooError as exc:  # an empty list; the submit then says what is wrong
        logger.warning("listing workspaces for a form failed: %s", exc)
        return []
    return named_options(((w.name, w.id) for w in workspaces if not w.archived), typed_text)


async def pipeline_options(
    services: Services, view: dict[str, Any], typed_text: str
) -> list[dict[str, Any]]:
    """The chosen workspace's pipelines (none until one is chosen: the view's state says)."""
    workspace_id = as_id(chosen(view, DEPLOY_WORKSPACE, DEPLOY_WORKSPACE))
    if workspace_id is None:
        return []
    try:
        listings = await services.wallaroo.list_pipelines(workspace_id)
    except WallarooError as exc:
        logger.warning("listing pipelines for a form failed: %s", exc)
        return []
    return named_options(((x.pipeline.name, x.pipeline.id) for x in listings), typed_text)


async def check_deploy(
    services: Services, body: dict[str, Any]
) -> tuple[Errors, Submission | None]:
    """The form's errors by input (the form stays open), or the command to run."""
    view = body.get("view") or {}
    metadata = read_metadata(view.get("private_metadata"))
    origin = metadata_channel(metadata) if metadata is not None else None
    actor = submitter(body)
    if origin is None:
        await audit_form(
            services, actor, "deploy", "deployments", "deploy", Outcome.INVALID, FORGED
        )
        return {DEPLOY_WORKSPACE: FORGED}, None
    picked = chosen(view, DEPLOY_CHANNEL, DEPLOY_CHANNEL)
    # From App Home with no approval channel set, the form asked where to post the request.
    needs_channel = not origin and not services.settings.chatops_approval_channel
    if (picked and not is_channel_id(picked)) or (needs_channel and not picked):
        return {DEPLOY_CHANNEL: "Choose a channel to post the request in."}, None
    actor = submitter(body, picked or origin)
    refusal = await role_refusal(services, actor, "deployments", "deploy")
    if refusal is not None:
        await audit_form(
            services, actor, "deploy", "deployments", "deploy", Outcome.REFUSED, refusal
        )
        return {DEPLOY_WORKSPACE: refusal}, None
    try:
        return await _read(services, actor, view)
    except WallarooError as exc:
        logger.warning("checking a deploy form failed: %s", exc)
        return {DEPLOY_WORKSPACE: plain(f"Wallaroo did not answer ({exc.msg}); try again.")}, None


async def _read(
    services: Services, actor: Actor, view: dict[str, Any]
) -> tuple[Errors, Submission | None]:
    client = services.wallaroo
    workspace_id = as_id(chosen(view, DEPLOY_WORKSPACE, DEPLOY_WORKSPACE))
    pipeline_id = as_id(chosen(view, DEPLOY_PIPELINE, DEPLOY_PIPELINE))
    if workspace_id is None:
        return {DEPLOY_WORKSPACE: "Choose a workspace."}, None
    try:
        workspace = await find_workspace(client, workspace_id)
    except CommandProblem as exc:
        return {DEPLOY_WORKSPACE: plain(exc)}, None
    if pipeline_id is None:
        return {DEPLOY_PIPELINE: "Choose a pipeline of this workspace."}, None
    try:
        listing = await find_pipeline(client, workspace, pipeline_id)
    except CommandProblem as exc:
        return {DEPLOY_PIPELINE: plain(exc)}, None
    reason = typed(view, DEPLOY_REASON, DEPLOY_REASON)
    version = typed(view, DEPLOY_VERSION, DEPLOY_VERSION)
    if version and version.lower() != "latest":
        try:
            earlier = await _earlier_version(client, workspace, listing, version)
        except CommandProblem as exc:
            return {DEPLOY_VERSION: plain(exc)}, None
        if earlier is not None:
            return {}, _rollback(actor, workspace, listing, earlier.version, reason)
    args = Deploy(workspace=workspace.id, pipeline=listing.pipeline.id, reason=reason or None)
    said = f"deploy {workspace.name} {listing.pipeline.name} {reason}".strip()
    command = Command("deployments", "deploy", args, said)
    return {}, Submission(actor, f"[modal] {said}", command)


async def _earlier_version(
    client: WallarooClient, workspace: Workspace, listing: PipelineListing, typed_text: str
) -> ListedPipelineVersion | None:
    """The earlier version to roll back to, None for the newest (a plain deploy), or (as a
    CommandProblem) why there is none: named as `versions` and `rollback` name it, and refused
    by rollback's own rules (not deployed, the live one, newer than it) while the form is open,
    not in a message after it closed."""
    history = await client.version_history(workspace.id, listing)
    names = (workspace.name, listing.pipeline.name)
    if typed_text.lower() != PREVIOUS:
        versions_command = code(f"/wallaroo versions {names[0]} {names[1]}")
        if index_of(history.versions, typed_text, versions_command) == 0:
            return None
    return rollback_target(history, *names, typed_text)


def _rollback(
    actor: Actor, workspace: Workspace, listing: PipelineListing, version: str, reason: str
) -> Submission:
    """`rollback WS PIPELINE VERSION REASON`, which checks again when it runs."""
    args = Rollback(
        workspace=workspace.id,
        pipeline=listing.pipeline.id,
        version=version,
        reason=reason or None,
    )
    said = f"rollback {workspace.name} {listing.pipeline.name} {version} {reason}".strip()
    return Submission(actor, f"[modal] {said}", Command("deployments", "rollback", args, said))
