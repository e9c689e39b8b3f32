"""watch WS PIPELINE [#channel] | unwatch WS PIPELINE | subscribe assay ID [#channel] |
unsubscribe assay ID: where the scheduler's alerts will go."""

from __future__ import annotations

from bot.wallaroo import WallarooClient
from handlers.alerting.episodes import close_episode
from handlers.commands.assay_lookup import FoundAssay, find_assay
from handlers.commands.grammar import ChannelRef, Command
from handlers.commands.lookup import find_pipeline, find_workspace
from handlers.context import Answer, CommandProblem, Context
from handlers.render.blocks import ok_reply
from handlers.render.mrkdwn import channel_mention, escape
from storage.alerts import NO_RESULT_YET, assay_subject, pipeline_subject
from storage.watches import (
    AssaySubscription,
    DeploymentWatch,
    add_subscription,
    add_watch,
    remove_subscription,
    remove_watch,
)


def channel_of(ctx: Context, cmd: Command) -> str:
    """The channel named in the command, else the one it was typed in."""
    ref = cmd.args.get("channel")
    if isinstance(ref, ChannelRef):
        return ref.id or f"#{ref.name}"
    if ctx.actor.channel_id:
        return ctx.actor.channel_id
    raise CommandProblem("Which channel should the alerts go to?", "Add `#channel`.")


async def _latest_window(client: WallarooClient, assay: FoundAssay) -> str:
    """Where the subscription's alerts start: after the assay's latest result (read now, so
    that every result from here on counts however soon the first poll comes)."""
    results = await client.drift_results(assay.id, assay=assay.v2)
    scored = [r for r in results if r.status != "BaselineRun"]
    return scored[-1].window_start if scored else NO_RESULT_YET


def shown(channel: str) -> str:
    return escape(channel) if channel.startswith("#") else channel_mention(channel)


async def run(ctx: Context, cmd: Command) -> Answer:
    client, sessions = ctx.services.wallaroo, ctx.services.sessions
    if cmd.action in ("subscribe", "unsubscribe"):
        ref = cmd.args["id"]
        assert isinstance(ref, int | str)
        assay = await find_assay(client, ref)
        assay_id, shown_id, target = assay.id, assay.shown_id, assay.target
        subscribing = cmd.action == "subscribe"
        cursor = await _latest_window(client, assay) if subscribing else None
        async with sessions() as session:
            if cmd.action == "unsubscribe":
                # Removed first: a poll committing meanwhile then finds nothing to follow, and
                # the close below catches whatever it committed before.
                if not await remove_subscription(session, assay_id):
                    raise CommandProblem(f"Assay {shown_id} has no subscription.")
                await close_episode(session, assay_subject(assay_id), "No longer subscribed")
                await session.commit()
                return Answer(ok_reply(f"No more alerts for *{escape(assay.name)}*."), target)
            channel = channel_of(ctx, cmd)
            row = AssaySubscription(
                assay_id=assay_id,
                assay_name=assay.name,
                pipeline_name=assay.pipeline_name,
                channel=channel,
                created_by=ctx.actor.user_id,
            )
            if await add_subscription(session, row, cursor) is None:
                raise CommandProblem(
                    f"Assay {shown_id} already has a subscription.",
                    f"`/wallaroo unsubscribe assay {shown_id}` first.",
                )
        return Answer(
            ok_reply(f"Alerts for assay *{escape(assay.name)}* will go to {shown(channel)}."),
            target,
        )

    workspace = await find_workspace(client, cmd.args["workspace"])
    listing = await find_pipeline(client, workspace, cmd.args["pipeline"])
    name, target = listing.pipeline.name, f"pipeline {listing.pipeline.name}"
    async with sessions() as session:
        if cmd.action == "unwatch":
            if not await remove_watch(session, listing.pipeline.id):
                raise CommandProblem(f"*{escape(name)}* is not watched.")
            await close_episode(session, pipeline_subject(listing.pipeline.id), "No longer watched")
            await session.commit()
            return Answer(ok_reply(f"Stopped watching *{escape(name)}*."), target)
        channel = channel_of(ctx, cmd)
        row = DeploymentWatch(
            workspace_id=workspace.id,
            workspace_name=workspace.name,
            pipeline_id=listing.pipeline.id,
            pipeline_name=name,
            channel=channel,
            created_by=ctx.actor.user_id,
        )
        if await add_watch(session, row) is None:
            raise CommandProblem(
                f"*{escape(name)}* is already watched.",
                f"`/wallaroo unwatch {workspace.name} {name}` first.",
            )
    return Answer(
        ok_reply(f"Watching *{escape(name)}*: its status changes will go to {shown(channel)}."),
        target,
    )
