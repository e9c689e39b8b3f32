"""models WS | model WS MODEL | model upload WS NAME FILE [framework=onnx]."""

from __future__ import annotations

from bot.wallaroo import (
    ListedModel,
    ListedModelVersion,
    Model,
    ModelVersion,
    WallarooClient,
    Workspace,
)
from handlers.commands.arguments_wallaroo import ModelList, ModelShow, ModelUpload
from handlers.commands.lookup import find_workspace, pick_by_name
from handlers.commands.model_upload import UploadJob, run_upload
from handlers.context import Answer, Context
from handlers.render.blocks import list_reply
from handlers.render.mrkdwn import code, escape, named
from handlers.render.times import when


async def find_model(client: WallarooClient, workspace: Workspace, ref: str | int) -> ListedModel:
    models = await client.list_models(workspace.id)
    for model in models:
        if model.id == ref:
            return model
    return pick_by_name(
        models,
        str(ref),
        lambda m: (m.name, m.id),
        noun="model",
        where=f" in {named(workspace.name)}",
        hint=f"Try `/wallaroo models {workspace.id}`.",
    )


ERROR_SHOWN = 200  # characters of a version's error_summary a reply shows


def version_state(status: str | None, error_summary: str | None = None) -> str:
    """A version's status as a reply says it: `ready`, an error with Wallaroo's reason, or
    still being converted or loaded (uploading, pending_/attempting_load_native|container)."""
    if not status:
        return ""
    if status == "error":
        reason = error_summary or "no reason given"
        if len(reason) > ERROR_SHOWN:
            reason = reason[: ERROR_SHOWN - 1] + "…"
        return f":red_circle: error: {escape(reason)}"
    if status == "uploading" or status.startswith(("pending_", "attempting_")):
        return f":hourglass_flowing_sand: not ready yet ({escape(status)})"
    return escape(status)


def model_row(model: Model) -> str:
    # Today's Wallaroo may leave out both times; say what is known.
    moment = model.updated_at or model.created_at
    updated = f"  ·  updated {escape(when(moment))}" if moment else ""
    row = f"*{escape(model.name)}*  ·  id {model.id}{updated}"
    # Today's listing tells the newest version's status: worth saying when it is not ready.
    latest = model.latest_version if isinstance(model, ListedModel) else None
    if latest is not None and latest.status and latest.status != "ready":
        row += f"  ·  latest version {version_state(latest.status, latest.error_summary)}"
    return row


def version_row(version: ModelVersion, listed: ListedModelVersion | None) -> str:
    """One models/get version, with the status today's models/list gives it (models/get
    has none; list_versions' shape has one)."""
    status = version.status or (listed.status if listed else None)
    state = version_state(status, listed.error_summary if listed else None)
    parts = (
        code(version.model_version),
        escape(version.file_name) if version.file_name else "",
        f"sha {code(version.sha[:12])}",
        state,
    )
    return "  ·  ".join(part for part in parts if part)


async def listing(ctx: Context, args: ModelList) -> Answer:
    client = ctx.services.wallaroo
    workspace = await find_workspace(client, args.workspace)
    models = await client.list_models(workspace.id)
    rows = [model_row(m) for m in models]
    return Answer(
        list_reply(
            f"Models in {workspace.name}",
            rows,
            empty="No models in this workspace yet.",
            page=args.page,
        ),
        target=f"workspace {workspace.name}",
    )


async def show(ctx: Context, args: ModelShow) -> Answer:
    client = ctx.services.wallaroo
    workspace = await find_workspace(client, args.workspace)
    model = await find_model(client, workspace, args.model)
    details = await client.get_model(model.id)
    listed = {v.version: v for v in model.versions}
    rows = [version_row(v, listed.get(v.model_version)) for v in reversed(details.models)]
    return Answer(
        list_reply(
            f"{model.name}: {len(rows)} version(s)",
            rows,
            empty="This model has no versions.",
            page=args.page,
        ),
        target=f"model {model.name}",
    )


async def upload(ctx: Context, args: ModelUpload) -> Answer:
    """A file shared in Slack (or, in the console, a local path) streamed into Wallaroo; the
    progress goes to the channel the command came from."""
    job = UploadJob(
        workspace=args.workspace,
        name=args.name,
        file_ref=args.file,
        framework=args.framework or "onnx",
        channel=ctx.actor.channel_id,
        owner=ctx.actor.user_id,
    )
    return await run_upload(ctx.services, job)
