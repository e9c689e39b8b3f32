"""status WS PIPELINE | url WS PIPELINE; deploy, undeploy and rollback become approval
requests."""

from __future__ import annotations

from bot.wallaroo import DeploymentStatus, PipelineListing, WallarooNotFound, Workspace
from handlers.approvals.requests import request_change, request_rollback
from handlers.approvals.rollback import version_and_reason
from handlers.commands.arguments_wallaroo import Deploy, Ref, Rollback, Status, Undeploy, Url
from handlers.commands.lookup import find_pipeline, find_workspace
from handlers.context import Answer, Context
from handlers.render.blocks import (
    Reply,
    context,
    fields,
    header,
    info_reply,
    ok_reply,
    status_emoji,
)
from handlers.render.mrkdwn import escape


def render_status(pipeline: str, status: DeploymentStatus) -> Reply:
    emoji = status_emoji(status.status)
    pairs = [("Status", f"{emoji} {escape(status.status)}")]
    for engine in status.engines:
        # Wallaroo repeats a detail once per container; say each once.
        detail = "; ".join(dict.fromkeys(engine.details)) or engine.reason or ""
        pairs.append((f"Engine {escape(engine.name)}", f"{escape(engine.status)} {escape(detail)}"))
    models = (status.engines[0].model_statuses or {}).get("models", []) if status.engines else []
    blocks = [header(f"{pipeline}: {status.status}"), *fields(pairs)]
    if status.running_versions:
        versions = ", ".join(f"`{escape(v[:8])}`" for v in sorted(status.running_versions))
        blocks.append(context(f"Pipeline version: {versions}"))
    if models:
        names = ", ".join(f"{escape(m.get('name'))} ({escape(m.get('status'))})" for m in models)
        blocks.append(context(f"Models: {names}"))
    return Reply(text=f"{pipeline} is {status.status}", blocks=blocks)


async def deploy(ctx: Context, args: Deploy) -> Answer:
    workspace, listing = await _pipeline(ctx, args.workspace, args.pipeline)
    return await request_change(ctx, "deploy", workspace, listing, args.reason or "")


async def undeploy(ctx: Context, args: Undeploy) -> Answer:
    workspace, listing = await _pipeline(ctx, args.workspace, args.pipeline)
    return await request_change(ctx, "undeploy", workspace, listing, args.reason or "")


async def rollback(ctx: Context, args: Rollback) -> Answer:
    workspace, listing = await _pipeline(ctx, args.workspace, args.pipeline)
    version, reason = version_and_reason(args.version, args.reason)
    return await request_rollback(ctx, workspace, listing, version, reason)


async def url(ctx: Context, args: Url) -> Answer:
    workspace, listing = await _pipeline(ctx, args.workspace, args.pipeline)
    name = listing.pipeline.name
    try:
        found = await ctx.services.wallaroo.get_pipeline_external_url(workspace.id, name)
    except WallarooNotFound:
        return _not_deployed(name)
    return Answer(
        ok_reply(f"Inference URL of *{escape(name)}*: {escape(found)}"), f"pipeline {name}"
    )


async def status(ctx: Context, args: Status) -> Answer:
    client = ctx.services.wallaroo
    workspace, listing = await _pipeline(ctx, args.workspace, args.pipeline)
    name = listing.pipeline.name
    # From the listing where it says, else from the inference URL: whichever Wallaroo gives.
    live = await client.live_deployment(workspace.id, listing)
    if live is None:
        return _not_deployed(name)
    try:
        found = await client.get_deployment_status(live.deploy_id, live.id)
    except WallarooNotFound:
        return _not_deployed(name)  # undeployed between the two calls
    return Answer(render_status(name, found), target=f"pipeline {name}")


async def _pipeline(
    ctx: Context, workspace: Ref, pipeline: Ref
) -> tuple[Workspace, PipelineListing]:
    found = await find_workspace(ctx.services.wallaroo, workspace)
    return found, await find_pipeline(ctx.services.wallaroo, found, pipeline)


def _not_deployed(name: str) -> Answer:
    return Answer(info_reply(f"*{escape(name)}* is not deployed."), target=f"pipeline {name}")
