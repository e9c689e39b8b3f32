"""versions WS PIPELINE: the pipeline's versions, newest first, each with its model steps
(name, model version, sha), the live one marked. Each has its number by age (1 = the first
made, as Helm numbers releases; a new version renumbers none): what `rollback` takes."""

from __future__ import annotations

from handlers.commands.arguments_wallaroo import Versions
from handlers.commands.lookup import find_pipeline, find_workspace
from handlers.context import Answer, Context
from handlers.render.blocks import context, list_reply
from handlers.render.mrkdwn import escape
from handlers.render.pipeline_versions import live_summary, version_row

PER_PAGE = 10  # each row is two lines: its version, then its model steps


async def listing(ctx: Context, args: Versions) -> Answer:
    client = ctx.services.wallaroo
    workspace = await find_workspace(client, args.workspace)
    found = await find_pipeline(client, workspace, args.pipeline)
    name = found.pipeline.name
    history = await client.version_history(workspace.id, found)
    rows = [
        version_row(history.number_at(index), version, live=index == history.live_index)
        for index, version in enumerate(history.versions)
    ]
    reply = list_reply(
        f"Versions of {name}",
        rows,
        empty=f"Wallaroo lists no version of *{escape(name)}*.",
        page=args.page,
        per_page=PER_PAGE,
        more_command=f"/wallaroo versions {workspace.name} {name}",
    )
    hint = f"`/wallaroo rollback {escape(workspace.name)} {escape(name)} [N]` asks to deploy one."
    reply.blocks.insert(1, context(f"{live_summary(history)} {hint}"))
    return Answer(reply, target=f"pipeline {name}")
