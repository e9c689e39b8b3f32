"""status WS PIPELINE | url WS PIPELINE; deploy and undeploy become approval requests."""

from __future__ import annotations

from bot.wallaroo import DeploymentStatus, WallarooNotFound
from handlers.approvals.requests import request_change
from handlers.commands.grammar import Command
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


async def run(ctx: Context, cmd: Command) -> Answer:
    client = ctx.services.wallaroo
    workspace = await find_workspace(client, cmd.args["workspace"])
    listing = await find_pipeline(client, workspace, cmd.args["pipeline"])
    if cmd.action in ("deploy", "undeploy"):
        reason = str(cmd.args.get("reason") or "")
        return await request_change(ctx, cmd.action, workspace, listing, reason)
    name = listing.pipeline.name
    target = f"pipeline {name}"
    not_deployed = Answer(info_reply(f"*{escape(name)}* is not deployed."), target=target)
    if cmd.action == "url":
        try:
            url = await client.get_pipeline_external_url(workspace.id, name)
        except WallarooNotFound:
            return not_deployed
        return Answer(ok_reply(f"Inference URL of *{escape(name)}*: {escape(url)}"), target)
    # From the listing where it says, else from the inference URL: whichever Wallaroo gives.
    live = await client.live_deployment(workspace.id, listing)
    if live is None:
        return not_deployed
    try:
        status = await client.get_deployment_status(live.deploy_id, live.id)
    except WallarooNotFound:
        return not_deployed  # undeployed between the two calls
    return Answer(render_status(name, status), target=target)
