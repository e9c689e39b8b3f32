"""pipelines WS | pipeline create WS NAME [MODEL ...] | pipeline copy WS SOURCE NEW_NAME."""

from __future__ import annotations

from typing import Any

from bot.wallaroo import WallarooNotFound
from handlers.commands.arguments_wallaroo import PipelineCopy, PipelineCreate, PipelineList
from handlers.commands.lookup import find_workspace, pick_pipeline
from handlers.commands.models import find_model
from handlers.context import Answer, CommandProblem, Context
from handlers.render.blocks import list_reply, ok_reply
from handlers.render.mrkdwn import escape, named
from handlers.render.times import when


async def listing(ctx: Context, args: PipelineList) -> Answer:
    client = ctx.services.wallaroo
    workspace = await find_workspace(client, args.workspace)
    pipelines = await client.list_pipelines(workspace.id)
    rows = [
        f"*{escape(p.pipeline.name)}*  ·  id {p.pipeline.id}"
        + (f"  ·  updated {escape(when(p.pipeline.updated_at))}" if p.pipeline.updated_at else "")
        for p in pipelines
    ]
    return Answer(
        list_reply(
            f"Pipelines in {workspace.name}",
            rows,
            empty="No pipelines here yet. `/wallaroo pipeline create WS NAME [MODEL ...]`",
            page=args.page,
        ),
        target=f"workspace {workspace.name}",
    )


async def create(ctx: Context, args: PipelineCreate) -> Answer:
    client, name = ctx.services.wallaroo, args.name
    workspace = await find_workspace(client, args.workspace)
    steps = []
    for ref in args.models:
        model = await find_model(client, workspace, ref)
        latest = (await client.get_model(model.id)).models[-1]
        steps.append({"name": model.name, "version": latest.model_version, "sha": latest.sha})
    definition: dict[str, Any] = {}
    if steps:
        definition = {"id": name, "steps": [{"ModelInference": {"models": steps}}]}
    existing = {p.pipeline.name for p in await client.list_pipelines(workspace.id)}
    created = await client.create_pipeline(workspace.id, name, definition)
    verb = "Added a new version of" if name in existing else "Created"
    return Answer(
        ok_reply(
            f"{verb} pipeline {named(name)} in *{escape(workspace.name)}* "
            f"(version `{created.pipeline_variant_version}`, "
            f"{len(steps) or 'no'} model step{'s' if len(steps) != 1 else ''})."
        ),
        target=f"pipeline {name}",
    )


async def copy(ctx: Context, args: PipelineCopy) -> Answer:
    client, new_name = ctx.services.wallaroo, args.new_name
    workspace = await find_workspace(client, args.workspace)
    pipelines = await client.list_pipelines(workspace.id)
    source = pick_pipeline(pipelines, workspace, args.source)
    if new_name in {p.pipeline.name for p in pipelines}:
        raise CommandProblem(f"A pipeline named {named(new_name)} already exists here.")
    try:
        copied = await client.copy_pipeline(workspace.id, source.pipeline.id, new_name)
    except WallarooNotFound as exc:
        # The source was just listed, so a 404 here means the call itself is gone: today's
        # Wallaroo has no pipelines/copy (it left the API after the 2022 tutorial).
        raise CommandProblem(
            f"This Wallaroo has no pipeline copy (pipelines/copy answered: {escape(exc.msg)}).",
            f"Create {named(new_name)} with the same models instead: "
            f"`/wallaroo pipeline create {escape(workspace.name)} {escape(new_name)} MODEL ...` "
            f"(`/wallaroo models {escape(workspace.name)}` lists them).",
        ) from None
    return Answer(
        ok_reply(
            f"Copied {named(source.pipeline.name)} to {named(new_name)} "
            f"(id {copied.pipeline_pk_id})."
        ),
        target=f"pipeline {new_name}",
    )
