"""infer WS PIPELINE DATA | logs WS PIPELINE [N] [since=DURATION] [page N]: a test inference
through the live deployment, and the newest records of the pipeline's inference log."""

from __future__ import annotations

import time

from bot.wallaroo import (
    PipelineListing,
    WallarooBadRequest,
    WallarooNotFound,
    WallarooServerError,
    WallarooUnreachable,
    Workspace,
)
from bot.wallaroo.inference import LOG_DEPTH, NotTensorData
from bot.wallaroo.inference_rows import rows_of
from handlers.commands.arguments_wallaroo import Infer, Logs, Ref
from handlers.commands.inference_data import DATA_FORMS, read_logs_options, read_records
from handlers.commands.lookup import find_pipeline, find_workspace
from handlers.context import Answer, CommandProblem, Context
from handlers.render.blocks import error_reply, info_reply
from handlers.render.inference_tables import InferSummary, infer_reply, logs_reply
from handlers.render.mrkdwn import code, escape
from storage.audit import Outcome


async def infer(ctx: Context, args: Infer) -> Answer:
    records = read_records(args.data)  # bad JSON is refused before Wallaroo is asked anything
    workspace, listing = await _pipeline(ctx, args.workspace, args.pipeline)
    name, target = listing.pipeline.name, f"pipeline {listing.pipeline.name}"
    started = time.perf_counter()
    try:
        answer = await ctx.services.wallaroo.infer(workspace.id, listing, records)
    except NotTensorData as exc:
        raise CommandProblem(
            f"{exc}.", 'Send one column, e.g. `{"tensor": [[1.0, 2.0]]}`.'
        ) from exc
    except WallarooNotFound:
        answer = None  # undeployed between finding the deployment and calling it
    except WallarooBadRequest as exc:
        reply = error_reply(
            f"*{escape(name)}* refused the data: {escape(exc.msg)}",
            f"Wallaroo's reason says what it expected; DATA may be {DATA_FORMS}.",
        )
        return Answer(reply, target, Outcome.INVALID)
    except WallarooServerError as exc:
        reply = error_reply(
            f"*{escape(name)}* could not answer (HTTP {exc.status}): {escape(exc.msg)}",
            f"{code(f'/wallaroo status {workspace.name} {name}')} shows whether it is Running.",
        )
        return Answer(reply, target, Outcome.ERROR)
    except WallarooUnreachable as exc:
        reply = error_reply(
            f"Wallaroo could not be reached for the inference ({escape(exc.msg)}).",
            f"It may or may not have run: {code(f'/wallaroo logs {workspace.name} {name} 1')} "
            "shows the newest record.",
        )
        return Answer(reply, target, Outcome.ERROR)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if answer is None:
        deploy = code(f"/wallaroo deploy {workspace.name} {name}")
        return Answer(
            info_reply(f"*{escape(name)}* is not deployed, so it cannot infer: {deploy} first."),
            target,
            Outcome.REFUSED,  # the pipeline's state does not allow it
        )
    summary = InferSummary(name, rows_of(answer.records), elapsed_ms)
    return Answer(infer_reply(summary), target)


async def logs(ctx: Context, args: Logs) -> Answer:
    options = read_logs_options(args.options)
    workspace, listing = await _pipeline(ctx, args.workspace, args.pipeline)
    name = listing.pipeline.name
    now = ctx.services.clock()
    since = None if options.since is None else now - options.since
    page = await ctx.services.wallaroo.pipeline_logs(
        workspace.id,
        listing,
        count=options.count,
        skip=(options.page - 1) * options.count,
        since=since,
        now=now,
    )
    rows = rows_of(page.records)
    command = f"/wallaroo logs {workspace.name} {name} {options.count}"
    if options.since_text:
        command += f" since={options.since_text}"
    window = f" in the last {escape(options.since_text)}" if options.since_text else ""
    notes = []
    if rows and (options.page > 1 or page.more):
        note = f"Page {options.page}, newest first"
        if page.more and (options.page + 1) * options.count > LOG_DEPTH:
            note += f" · older ones are past the {LOG_DEPTH:,} records `logs` reads"
        elif page.more:
            note += f" · older: {code(f'{command} page {options.page + 1}')}"
        notes.append(note)
    empty = f"No inference records for *{escape(name)}*{window}."
    if options.page > 1 and not rows:
        newest = code(f"{command} page 1")
        empty = f"No records on page {options.page}{window}: {newest} shows the newest."
    title = f"{name}: newest inference records" + (
        f" (page {options.page})" if options.page > 1 else ""
    )
    return Answer(logs_reply(title, rows, empty=empty, notes=notes), f"pipeline {name}")


async def _pipeline(
    ctx: Context, workspace: Ref, pipeline: Ref
) -> tuple[Workspace, PipelineListing]:
    found = await find_workspace(ctx.services.wallaroo, workspace)
    return found, await find_pipeline(ctx.services.wallaroo, found, pipeline)
