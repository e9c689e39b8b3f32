"""models WS | model WS MODEL."""

from __future__ import annotations

from bot.wallaroo import Model, WallarooClient, Workspace
from handlers.blocks import list_reply
from handlers.context import CommandProblem, Context, Outcome, page_of
from handlers.grammar import Command
from handlers.lookup import closest, find_workspace
from handlers.mrkdwn import escape


async def find_model(client: WallarooClient, workspace: Workspace, ref: str | int) -> Model:
    models = await client.list_models(workspace.id)
    for model in models:
        if model.id == ref or model.name == ref:
            return model
    hint = closest(str(ref), [m.name for m in models])
    raise CommandProblem(
        f"No model *{escape(ref)}* in *{escape(workspace.name)}*.",
        f"Did you mean *{escape(hint)}*?" if hint else f"Try `/wallaroo models {workspace.id}`.",
    )


def model_row(model: Model) -> str:
    # Today's Wallaroo may leave out both times; say what is known.
    when = model.updated_at or model.created_at
    updated = f"  ·  updated {when[:16]}" if when else ""
    return f"*{escape(model.name)}*  ·  id {model.id}{updated}"


async def run(ctx: Context, cmd: Command) -> Outcome:
    client = ctx.services.wallaroo
    workspace = await find_workspace(client, cmd.args["workspace"])
    if cmd.action == "list":
        models = await client.list_models(workspace.id)
        rows = [model_row(m) for m in models]
        return Outcome(
            list_reply(
                f"Models in {workspace.name}",
                rows,
                empty="No models in this workspace yet.",
                page=page_of(cmd.args),
            ),
            target=f"workspace {workspace.name}",
        )

    model = await find_model(client, workspace, cmd.args["model"])
    details = await client.get_model(model.id)
    rows = [
        "  ·  ".join(
            part
            for part in (
                f"`{escape(v.model_version)}`",
                escape(v.file_name) if v.file_name else "",
                f"sha `{v.sha[:12]}`",
                escape(v.status) if v.status else "",
            )
            if part
        )
        for v in reversed(details.models)
    ]
    return Outcome(
        list_reply(
            f"{model.name}: {len(rows)} version(s)",
            rows,
            empty="This model has no versions.",
            page=page_of(cmd.args),
        ),
        target=f"model {model.name}",
    )
