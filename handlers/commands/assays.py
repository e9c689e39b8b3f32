"""assays WS PIPELINE | assay create WS PIPELINE key=value ... | assay enable|disable|run|
baseline|results ID. ID is a v1 assay's number or a v2 assay's UUID (or a unique prefix of it);
listings show both generations, replies a v2 id's first 8 characters."""

from __future__ import annotations

import asyncio

from bot.wallaroo import (
    Assay,
    AssayV2,
    DriftResult,
    NextRun,
    WallarooClient,
    WallarooForbidden,
    WallarooUnauthorized,
)
from handlers.alerting.episodes import close_episode
from handlers.commands.arguments_alerts import (
    AssayBaseline,
    AssayDisable,
    AssayEnable,
    AssayList,
    AssayResults,
    AssayRun,
)
from handlers.commands.assay_lookup import FoundAssay, find_assay, short_id
from handlers.commands.assay_pages import paged_reply
from handlers.commands.assay_runs import baseline_rows, run_now
from handlers.commands.lookup import find_pipeline, find_workspace
from handlers.context import Answer, CommandProblem, Context
from handlers.render.blocks import list_reply, ok_reply, status_emoji
from handlers.render.mrkdwn import code, escape
from handlers.render.times import when
from storage.alerts import assay_subject

RESULTS_PER_PAGE = 10  # stored results: one line each, newest first
RUN_PER_PAGE = 20  # windows of `assay run`

__all__ = ["result_row"]


def result_row(result: DriftResult) -> str:
    bins = " / ".join(f"{v:.2f}" for v in result.window_values)
    return (
        f"{status_emoji(result.status)} {at(result.window_start)}  ·  "
        f"{escape(result.status)}  ·  score {result.score:.4f}  ·  bins {bins}"
    )


def at(moment: str | None) -> str:
    """A time from Wallaroo as replies show times, escaped (an unreadable one is shown as is)."""
    return escape(when(moment))


async def listing(ctx: Context, args: AssayList) -> Answer:
    client = ctx.services.wallaroo
    workspace = await find_workspace(client, args.workspace)
    pipeline = (await find_pipeline(client, workspace, args.pipeline)).pipeline
    rows = await _listing_rows(client, pipeline.id, pipeline.name, workspace.id)
    return Answer(
        list_reply(
            f"Assays on {pipeline.name}", rows, empty="No assays on this pipeline.", page=args.page
        ),
        target=f"pipeline {pipeline.name}",
    )


async def enable(ctx: Context, args: AssayEnable) -> Answer:
    return await _set_active(ctx, await find_assay(ctx.services.wallaroo, args.id), True)


async def disable(ctx: Context, args: AssayDisable) -> Answer:
    return await _set_active(ctx, await find_assay(ctx.services.wallaroo, args.id), False)


async def baseline(ctx: Context, args: AssayBaseline) -> Answer:
    client = ctx.services.wallaroo
    found = await find_assay(client, args.id)
    rows = await baseline_rows(client, found)
    return Answer(
        list_reply(f"Baseline of {found.name}", rows, empty="", page=args.page),
        target=found.target,
    )


async def results(ctx: Context, args: AssayResults) -> Answer:
    client = ctx.services.wallaroo
    found = await find_assay(client, args.id)
    stored = await client.drift_results(found.id, assay=found.v2)
    reply = paged_reply(
        f"Latest results of assay {found.shown_id}",
        [result_row(r) for r in reversed(stored)],
        page=args.page,
        command=f"/wallaroo assay results {found.shown_id}",
        noun="results",
        empty="No results yet.",
        per_page=RESULTS_PER_PAGE,
    )
    return Answer(reply, target=found.target)


async def run(ctx: Context, args: AssayRun) -> Answer:
    """`assay run ID`: every window scored now (nothing stored)."""
    client = ctx.services.wallaroo
    found = await find_assay(client, args.id)
    windows = await run_now(client, found)
    reply = paged_reply(
        f"{found.name}: {len(windows)} window(s)",
        [result_row(r) for r in reversed(windows)],
        page=args.page,
        command=f"/wallaroo assay run {found.shown_id}",
        noun="windows",
        empty="No complete window has data yet.",
        per_page=RUN_PER_PAGE,
    )
    return Answer(reply, target=found.target)


async def _set_active(ctx: Context, found: FoundAssay, active: bool) -> Answer:
    client = ctx.services.wallaroo
    state = "active" if active else "inactive"
    if found.active != active:
        if found.v2 is not None:
            await client.set_assay_v2_active(found.id, active)
        else:
            await client.set_assay_active(int(found.id), active)
    if not active:  # no results will come: an open alert would never recover
        async with ctx.services.sessions() as session:
            subject = assay_subject(found.id)
            if await close_episode(session, subject, "Assay disabled", ctx.services.clock()):
                await session.commit()
    if found.active == active:
        raise CommandProblem(f"Assay {found.shown_id} is already {state}.")
    return Answer(
        ok_reply(f"Assay {found.shown_id} is now {state}."),
        target=found.target,
    )


async def _listing_rows(
    client: WallarooClient, pipeline_id: int, pipeline_name: str, workspace_id: int
) -> list[str]:
    """v1 and (where the instance has them) v2 assays on the pipeline. v2 refused to the
    service account (a client-credentials one may be) still leaves the v1 ones, and a note."""
    v1 = await client.list_assays(pipeline_id)
    v2: list[AssayV2] = []
    try:
        if await client.uses_assays_v2():
            v2 = await client.list_assays_v2(pipeline_name=pipeline_name, workspace_id=workspace_id)
    except (WallarooForbidden, WallarooUnauthorized) as exc:
        return [_v1_row(a) for a in v1] + [f"_Assays v2 not shown: {escape(exc)}_"]
    # The v2 listing says nothing of runs; one get_next_run each, all at once.
    runs = await asyncio.gather(
        *(client.get_assay_v2_next_run(a.id) for a in v2), return_exceptions=True
    )
    return [_v1_row(a) for a in v1] + [
        _v2_row(a, r if isinstance(r, NextRun) else None) for a, r in zip(v2, runs, strict=True)
    ]


def _v1_row(assay: Assay) -> str:
    return (
        f"*{escape(assay.name)}*  ·  id {assay.id}  ·  {'active' if assay.active else 'inactive'}"
        f"  ·  alert ≥ {assay.alert_threshold}  ·  last run {_last_run(assay.last_run)}"
    )


def _v2_row(assay: AssayV2, runs: NextRun | None) -> str:
    last = _last_run(runs.last_run if runs else None)
    upcoming = at(runs.next_run) if runs and runs.next_run else ("?" if runs is None else "none")
    alert = assay.path.thresholds.alert
    shown_alert = "—" if alert is None else alert
    return (
        f"*{escape(assay.name)}*  ·  id {code(short_id(assay.id))} (v2)  ·  "
        f"{'active' if assay.active else 'inactive'}  ·  alert ≥ {shown_alert}"
        f"  ·  last run {last}  ·  next run {upcoming}"
    )


def _last_run(moment: str | None) -> str:
    return at(moment) if moment else "never"
