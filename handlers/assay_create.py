"""`assay create WS PIPELINE key=value ...`: a v2 assay where the instance runs v2 (scheduled
with `assays/schedule`), a v1 one otherwise (`assays/create`); the same options for both."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.wallaroo import AssayConfig, Workspace
from bot.wallaroo.assay_v2_models import DataOrigin, Thresholds, schedule_body
from handlers.assay_lookup import short_id
from handlers.blocks import ok_reply
from handlers.context import CommandProblem, Context, Outcome
from handlers.grammar import Command
from handlers.mrkdwn import code, escape

V1_IOPATH, V2_IOPATH = "output 0 0", "out.variable.0"
_WIDTH = re.compile(r"^\s*(\d+)\s*(minute|hour|day|week)s?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400, "week": 604_800}


async def create_assay(
    ctx: Context, cmd: Command, workspace: Workspace, pipeline_id: int, pipeline_name: str
) -> Outcome:
    options = dict(cmd.args.get("options") or {})
    missing = [k for k in ("baseline_start", "baseline_end") if k not in options]
    if missing:
        raise CommandProblem(
            f"`assay create` needs {' and '.join(missing)}.",
            "e.g. `/wallaroo assay create WS PIPELINE baseline_start=2026-11-01 "
            'baseline_end=2026-11-02 iopath="output 0 0" alert=0.1`',
        )
    if await ctx.services.wallaroo.uses_assays_v2():
        return await _create_v2(ctx, options, workspace, pipeline_id, pipeline_name)
    return await _create_v1(ctx, options, workspace.id, pipeline_id, pipeline_name)


async def _create_v1(
    ctx: Context, options: dict[str, str], workspace_id: int, pipeline_id: int, pipeline_name: str
) -> Outcome:
    client = ctx.services.wallaroo
    models = await client.list_models(workspace_id)
    if len(models) != 1:
        raise CommandProblem("This workspace has several models; assays here need the API.")
    try:
        config = AssayConfig.for_pipeline(
            name=options.get("name", f"{pipeline_name} assay"),
            workspace_id=workspace_id,
            pipeline_id=pipeline_id,
            pipeline_name=pipeline_name,
            model_name=models[0].name,
            iopath=options.get("iopath", V1_IOPATH),
            baseline_start=options["baseline_start"],
            baseline_end=options["baseline_end"],
            width=options.get("width", "24 hours"),
            alert_threshold=float(options.get("alert", 0.1)),
            warning_threshold=float(options["warning"]) if "warning" in options else None,
            num_bins=int(options.get("bins", 5)),
            metric=options.get("metric", "PSI"),
        )
    except ValueError as exc:
        raise CommandProblem(f"Bad assay option: {escape(exc)}") from exc
    assay_id = await client.create_assay(config)
    return Outcome(
        ok_reply(f"Created assay *{escape(config.name)}* (id {assay_id})."),
        target=f"assay {assay_id}",
    )


async def _create_v2(
    ctx: Context,
    options: dict[str, str],
    workspace: Workspace,
    pipeline_id: int,
    pipeline_name: str,
) -> Outcome:
    name = options.get("name", f"{pipeline_name} assay")
    try:
        width = width_seconds(options.get("width", "24 hours"))
        baseline_end = _moment(options["baseline_end"])
        origin = DataOrigin(
            pipeline_id=pipeline_id,
            pipeline_name=pipeline_name,
            workspace_id=workspace.id,
            workspace_name=workspace.name,
        )
        body = schedule_body(
            name=name,
            origin=origin,
            iopath=options.get("iopath", V2_IOPATH),
            thresholds=Thresholds(
                alert=float(options.get("alert", 0.1)),
                warning=float(options["warning"]) if "warning" in options else None,
            ),
            baseline_start=_moment(options["baseline_start"]).isoformat(),
            baseline_end=baseline_end.isoformat(),
            width_seconds=width,
            # Windows follow the baseline, as a v1 assay's do: the first ends one width after.
            first_run=(baseline_end + timedelta(seconds=width)).isoformat(),
            bins=int(options.get("bins", 5)),
            metric=options.get("metric", "PSI"),
        )
    except ValueError as exc:
        raise CommandProblem(f"Bad assay option: {escape(exc)}") from exc
    assay_id = await ctx.services.wallaroo.schedule_assay_v2(body)
    return Outcome(
        ok_reply(f"Created assay *{escape(name)}* (id {code(short_id(assay_id))}, v2)."),
        target=f"assay {assay_id}",
    )


def width_seconds(width: str) -> int:
    """`24 hours`, `1 day`, `30 minutes`, `1 week` in seconds."""
    match = _WIDTH.match(width)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"width {width!r}: write it like `24 hours` or `7 days`")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]


def _moment(text: str) -> datetime:
    """An ISO date or time; one without a zone is UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
