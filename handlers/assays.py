"""assays WS PIPELINE | assay create WS PIPELINE key=value ... | assay enable|disable|run|
baseline|results ID."""

from __future__ import annotations

import asyncio

from bot.alerting.episodes import close_episode
from bot.wallaroo import Assay, AssayConfig, AssayResult, WallarooClient
from handlers.blocks import list_reply, ok_reply, status_emoji
from handlers.context import CommandProblem, Context, Outcome, page_of
from handlers.grammar import Command
from handlers.lookup import find_pipeline, find_workspace
from handlers.mrkdwn import escape
from storage.alerts import assay_subject

RESULTS_SHOWN = 10


async def find_assay(client: WallarooClient, assay_id: int) -> tuple[Assay, int]:
    """The assay and its workspace id. The API lists assays per pipeline only, so every
    pipeline is asked, all at once."""
    listings = await client.list_pipelines()
    per_pipeline = await asyncio.gather(
        *(client.list_assays(listing.pipeline.id) for listing in listings)
    )
    for listing, assays in zip(listings, per_pipeline, strict=True):
        for assay in assays:
            if assay.id == assay_id:
                return assay, listing.workspace.id
    raise CommandProblem(
        f"No assay has id {assay_id}.", "`/wallaroo assays WS PIPELINE` lists them."
    )


def config_of(assay: Assay, workspace_id: int) -> AssayConfig:
    return AssayConfig.model_validate(
        {
            "id": assay.id,
            "name": assay.name,
            "pipeline_id": assay.pipeline_id,
            "pipeline_name": assay.pipeline_name,
            "active": assay.active,
            "status": assay.status,
            "iopath": assay.iopath or "output 0 0",
            "baseline": assay.baseline,
            "window": assay.window,
            "summarizer": assay.summarizer,
            "warning_threshold": assay.warning_threshold,
            "alert_threshold": assay.alert_threshold,
            "run_until": assay.run_until,
            "workspace_id": workspace_id,
        }
    )


def result_row(result: AssayResult) -> str:
    bins = " / ".join(f"{v:.2f}" for v in result.window_summary.aggregated_values if v is not None)
    return (
        f"{status_emoji(result.status)} `{result.window_summary.start[:16]}`  ·  "
        f"{escape(result.status)}  ·  score {result.score:.4f}  ·  bins {bins}"
    )


async def run(ctx: Context, cmd: Command) -> Outcome:
    client = ctx.services.wallaroo
    if cmd.action in ("list", "create"):
        workspace = await find_workspace(client, cmd.args["workspace"])
        listing = await find_pipeline(client, workspace, cmd.args["pipeline"])
        if cmd.action == "create":
            return await _create(ctx, cmd, workspace.id, listing.pipeline.id, listing.pipeline.name)
        assays = await client.list_assays(listing.pipeline.id)
        rows = [
            f"*{escape(a.name)}*  ·  id {a.id}  ·  {'active' if a.active else 'inactive'}  ·  "
            f"alert ≥ {a.alert_threshold}  ·  last run {escape(a.last_run or 'never')}"
            for a in assays
        ]
        return Outcome(
            list_reply(
                f"Assays on {listing.pipeline.name}",
                rows,
                empty="No assays on this pipeline.",
                page=page_of(cmd.args),
            ),
            target=f"pipeline {listing.pipeline.name}",
        )

    assay_id = int(cmd.args["id"])
    target = f"assay {assay_id}"
    if cmd.action in ("enable", "disable"):
        active = cmd.action == "enable"
        await find_assay(client, assay_id)
        await client.set_assay_active(assay_id, active)
        if not active:  # no results will come: an open alert would never recover
            async with ctx.services.sessions() as session:
                if await close_episode(session, assay_subject(assay_id), "Assay disabled"):
                    await session.commit()
        return Outcome(
            ok_reply(f"Assay {assay_id} is now {'active' if active else 'inactive'}."),
            target=target,
        )
    if cmd.action == "results":
        results = (await client.get_assay_results(assay_id))[-RESULTS_SHOWN:]
        rows = [result_row(r) for r in reversed(results)]
        return Outcome(
            list_reply(
                f"Latest results of assay {assay_id}",
                rows,
                empty="No results yet.",
                page=page_of(cmd.args),
            ),
            target=target,
        )

    assay, workspace_id = await find_assay(client, assay_id)
    config = config_of(assay, workspace_id)
    if cmd.action == "baseline":
        summary = (await client.run_interactive_baseline(config)).baseline_summary
        rows = [
            f"{summary.count} records from `{summary.start}` to `{summary.end}`",
            f"min {summary.min:.4g}  ·  median {summary.median:.4g}  ·  max {summary.max:.4g}  ·  "
            f"mean {summary.mean:.4g}  ·  std {summary.std:.4g}",
            "bins " + ", ".join(escape(n) for n in summary.edge_names),
        ]
        return Outcome(
            list_reply(f"Baseline of {assay.name}", rows, empty="", page=page_of(cmd.args)),
            target=target,
        )
    results = await client.run_interactive(config)
    rows = [result_row(r) for r in results]
    return Outcome(
        list_reply(
            f"{assay.name}: {len(results)} window(s)",
            rows,
            empty="No complete window has data yet.",
            page=page_of(cmd.args),
        ),
        target=target,
    )


async def _create(
    ctx: Context, cmd: Command, workspace_id: int, pipeline_id: int, pipeline_name: str
) -> Outcome:
    client = ctx.services.wallaroo
    options = dict(cmd.args.get("options") or {})
    missing = [k for k in ("baseline_start", "baseline_end") if k not in options]
    if missing:
        raise CommandProblem(
            f"`assay create` needs {' and '.join(missing)}.",
            "e.g. `/wallaroo assay create WS PIPELINE baseline_start=2026-11-01 "
            'baseline_end=2026-11-02 iopath="output 0 0" alert=0.1`',
        )
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
            iopath=options.get("iopath", "output 0 0"),
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
