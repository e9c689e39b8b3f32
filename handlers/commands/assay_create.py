"""`assay create WS PIPELINE key=value ...`: a v2 assay where the instance runs v2 (scheduled
with `assays/schedule`), a v1 one otherwise (`assays/create`); the same options for both
(handlers/commands/assay_options.py reads and checks them)."""

from __future__ import annotations

from datetime import timedelta

from bot.wallaroo import AssayConfig, WallarooBadRequest, Workspace
from bot.wallaroo.assay_v2_models import DataOrigin, Thresholds, schedule_body
from handlers.commands.arguments_alerts import AssayCreate
from handlers.commands.assay_lookup import short_id
from handlers.commands.assay_options import (
    V1_IOPATH,
    V2_IOPATH,
    AssayOptions,
    read_options,
    refused,
)
from handlers.commands.assay_options import width_seconds as width_seconds
from handlers.commands.lookup import find_pipeline, find_workspace
from handlers.context import Answer, CommandProblem, Context
from handlers.render.blocks import ok_reply
from handlers.render.mrkdwn import code, named


async def create(ctx: Context, args: AssayCreate) -> Answer:
    client = ctx.services.wallaroo
    workspace = await find_workspace(client, args.workspace)
    pipeline = (await find_pipeline(client, workspace, args.pipeline)).pipeline
    v2 = await client.uses_assays_v2()
    options = read_options(args.options, v2=v2)
    try:
        if v2:
            return await _create_v2(ctx, options, workspace, pipeline.id, pipeline.name)
        return await _create_v1(ctx, options, workspace.id, pipeline.id, pipeline.name)
    except WallarooBadRequest as exc:
        raise refused(exc) from exc


async def _create_v1(
    ctx: Context, options: AssayOptions, workspace_id: int, pipeline_id: int, pipeline_name: str
) -> Answer:
    client = ctx.services.wallaroo
    models = await client.list_models(workspace_id)
    if len(models) != 1:
        raise CommandProblem("This workspace has several models; assays here need the API.")
    config = AssayConfig.for_pipeline(
        name=options.name or f"{pipeline_name} assay",
        workspace_id=workspace_id,
        pipeline_id=pipeline_id,
        pipeline_name=pipeline_name,
        model_name=models[0].name,
        iopath=options.iopath or V1_IOPATH,
        baseline_start=options.baseline_start.isoformat(),
        baseline_end=options.baseline_end.isoformat(),
        width=options.width,
        alert_threshold=options.alert,
        warning_threshold=options.warning,
        num_bins=options.bins,
        metric=options.metric,
    )
    assay_id = await client.create_assay(config)
    return Answer(
        ok_reply(f"Created assay {named(config.name)} (id {assay_id})."),
        target=f"assay {assay_id}",
    )


async def _create_v2(
    ctx: Context,
    options: AssayOptions,
    workspace: Workspace,
    pipeline_id: int,
    pipeline_name: str,
) -> Answer:
    name = options.name or f"{pipeline_name} assay"
    origin = DataOrigin(
        pipeline_id=pipeline_id,
        pipeline_name=pipeline_name,
        workspace_id=workspace.id,
        workspace_name=workspace.name,
    )
    width = options.width_seconds
    body = schedule_body(
        name=name,
        origin=origin,
        iopath=options.iopath or V2_IOPATH,
        thresholds=Thresholds(alert=options.alert, warning=options.warning),
        baseline_start=options.baseline_start.isoformat(),
        baseline_end=options.baseline_end.isoformat(),
        width_seconds=width,
        # Windows follow the baseline, as a v1 assay's do: the first ends one width after.
        first_run=(options.baseline_end + timedelta(seconds=width)).isoformat(),
        bins=options.bins,
        metric=options.metric,
    )
    assay_id = await ctx.services.wallaroo.schedule_assay_v2(body)
    return Answer(
        ok_reply(f"Created assay {named(name)} (id {code(short_id(assay_id))}, v2)."),
        target=f"assay {assay_id}",
    )
