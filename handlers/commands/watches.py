"""watch WS PIPELINE [#channel] [runbook=URL] [owner=@user] | unwatch WS PIPELINE |
subscribe assay ID [#channel] [runbook=URL] [owner=@user] | unsubscribe assay ID: where the
scheduler's alerts will go, with the runbook they link and the owner they mention;
watches [#channel]: what goes where."""

from __future__ import annotations

from bot.wallaroo import WallarooClient
from handlers.alerting.episodes import close_episode
from handlers.commands.access import resolve_user
from handlers.commands.arguments_alerts import Subscribe, Unsubscribe, Unwatch, Watch, WatchList
from handlers.commands.assay_lookup import FoundAssay, find_assay
from handlers.commands.assay_pages import paged_reply
from handlers.commands.lookup import find_pipeline, find_workspace
from handlers.context import Answer, CommandProblem, Context
from handlers.render.alert_owners import owner_shown, runbook_link
from handlers.render.blocks import context, ok_reply
from handlers.render.mrkdwn import (
    ChannelRef,
    UserRef,
    channel_mention,
    code,
    escape,
    shorten,
    user_mention,
)
from handlers.render.times import when
from storage.alerts import NO_RESULT_YET, assay_subject, pipeline_subject
from storage.roles import Role
from storage.watches import (
    AssaySubscription,
    DeploymentWatch,
    add_subscription,
    add_watch,
    followed_in,
    owner_value,
    remove_subscription,
    remove_watch,
)


def channel_of(ctx: Context, ref: ChannelRef | None) -> str:
    """The channel named in the command, else the one it was typed in."""
    if ref is not None:
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


async def owner_of(ctx: Context, user: UserRef | None) -> str | None:
    """The owner as stored (storage.watches.owner_value): a named user's id (looked up for
    `@name`), with the name when the command gave one."""
    if user is None:
        return None
    user_id = await resolve_user(ctx, user)
    name = shorten(user.name) if user.name else None
    return owner_value(user_id, name)


def extras(runbook: str | None, owner: str | None) -> str:
    """` · runbook <link> · owner @jane` as a reply or listing shows them (the owner as
    text: a listing must not notify everyone it names)."""
    shown = f" · runbook {runbook_link(runbook)}" if runbook else ""
    return shown + (f" · owner {owner_shown(owner, mention=False)}" if owner else "")


async def subscribe(ctx: Context, args: Subscribe) -> Answer:
    client = ctx.services.wallaroo
    assay = await find_assay(client, args.id)
    cursor = await _latest_window(client, assay)
    owner = await owner_of(ctx, args.owner)
    async with ctx.services.sessions() as session:
        channel = channel_of(ctx, args.channel)
        row = AssaySubscription(
            assay_id=assay.id,
            assay_name=assay.name,
            pipeline_name=assay.pipeline_name,
            workspace_id=assay.workspace_id,
            channel=channel,
            created_by=ctx.actor.user_id,
            runbook=args.runbook,
            owner=owner,
        )
        if await add_subscription(session, row, cursor) is None:
            raise CommandProblem(
                f"Assay {assay.shown_id} already has a subscription.",
                f"`/wallaroo unsubscribe assay {assay.shown_id}` first.",
            )
    return Answer(
        ok_reply(
            f"Alerts for assay *{escape(assay.name)}* will go to {shown(channel)}"
            f"{extras(args.runbook, owner)}."
        ),
        assay.target,
    )


async def unsubscribe(ctx: Context, args: Unsubscribe) -> Answer:
    assay = await find_assay(ctx.services.wallaroo, args.id)
    async with ctx.services.sessions() as session:
        # Removed and committed first: a poll committing meanwhile then finds nothing to
        # follow, and the close below catches whatever it committed before.
        if not await remove_subscription(session, assay.id):
            raise CommandProblem(f"Assay {assay.shown_id} has no subscription.")
        await session.commit()
        subject = assay_subject(assay.id)
        await close_episode(session, subject, "No longer subscribed", ctx.services.clock())
        await session.commit()
    return Answer(ok_reply(f"No more alerts for *{escape(assay.name)}*."), assay.target)


async def watch(ctx: Context, args: Watch) -> Answer:
    client = ctx.services.wallaroo
    workspace = await find_workspace(client, args.workspace)
    pipeline = (await find_pipeline(client, workspace, args.pipeline)).pipeline
    owner = await owner_of(ctx, args.owner)
    async with ctx.services.sessions() as session:
        channel = channel_of(ctx, args.channel)
        row = DeploymentWatch(
            workspace_id=workspace.id,
            workspace_name=workspace.name,
            pipeline_id=pipeline.id,
            pipeline_name=pipeline.name,
            channel=channel,
            created_by=ctx.actor.user_id,
            runbook=args.runbook,
            owner=owner,
        )
        if await add_watch(session, row) is None:
            raise CommandProblem(
                f"*{escape(pipeline.name)}* is already watched.",
                f"{code(f'/wallaroo unwatch {workspace.name} {pipeline.name}')} first.",
            )
    return Answer(
        ok_reply(
            f"Watching *{escape(pipeline.name)}*: its status changes will go to {shown(channel)}"
            f"{extras(args.runbook, owner)}."
        ),
        f"pipeline {pipeline.name}",
    )


async def unwatch(ctx: Context, args: Unwatch) -> Answer:
    client = ctx.services.wallaroo
    workspace = await find_workspace(client, args.workspace)
    pipeline = (await find_pipeline(client, workspace, args.pipeline)).pipeline
    async with ctx.services.sessions() as session:
        if not await remove_watch(session, pipeline.id):
            raise CommandProblem(f"*{escape(pipeline.name)}* is not watched.")
        await session.commit()  # first, as in `unsubscribe`
        subject = pipeline_subject(pipeline.id)
        await close_episode(session, subject, "No longer watched", ctx.services.clock())
        await session.commit()
    return Answer(
        ok_reply(f"Stopped watching *{escape(pipeline.name)}*."), f"pipeline {pipeline.name}"
    )


async def listing(ctx: Context, args: WatchList) -> Answer:
    """A channel's watches and subscriptions: the one named, else (for an admin) every
    channel's, else the one it was typed in. The reply says which it chose. Only an admin
    may name another channel: what a private channel follows is for its members (and the bot
    cannot tell who they are from here)."""
    ref, channels = args.channel, None
    if ref is not None:
        channels = [c for c in (ref.id, f"#{ref.name}" if ref.name else "") if c]
        if ctx.role is not Role.ADMIN and ctx.actor.channel_id not in channels:
            raise CommandProblem(
                f"Only an admin may list another channel's watches: type "
                f"`/wallaroo watches` in {shown(channels[0])} itself.",
                "`/wallaroo watches` here lists this channel's.",
            )
        where = f"Posting to {shown(channel_of(ctx, ref))}"
        command = f"/wallaroo watches #{ref.name}" if ref.name else f"/wallaroo watches {ref.id}"
    elif ctx.role is Role.ADMIN or not ctx.actor.channel_id:
        where, command = (
            "Every channel (you are an admin: name a channel for one)",
            "/wallaroo watches",
        )
        if ctx.role is not Role.ADMIN:
            where = "Every channel (no channel here: name one for its own)"
    else:
        channels = [ctx.actor.channel_id]
        where, command = f"Posting to {shown(ctx.actor.channel_id)}", "/wallaroo watches"
    async with ctx.services.sessions() as session:
        watches, subscriptions = await followed_in(session, channels)
    now = ctx.services.clock()
    dated = [
        (
            w.created_at,
            f"Pipeline *{escape(w.pipeline_name)}* (workspace {escape(w.workspace_name)}): "
            f"status changes to {shown(w.channel)}{extras(w.runbook, w.owner)} · set up by "
            f"{user_mention(w.created_by)} {when(w.created_at, now=now, relative=True)}",
        )
        for w in watches
    ]
    dated += [
        (
            s.created_at,
            f"Assay *{escape(s.assay_name or s.assay_id)}* ({code(s.assay_id)}"
            + (f", pipeline {escape(s.pipeline_name)}" if s.pipeline_name else "")
            + f"): drift alerts to {shown(s.channel)}{extras(s.runbook, s.owner)} · set up by "
            f"{user_mention(s.created_by)} {when(s.created_at, now=now, relative=True)}",
        )
        for s in subscriptions
    ]
    rows = [row for _, row in sorted(dated, key=lambda pair: pair[0], reverse=True)]
    empty = (
        f"Nothing is followed {'here' if channels else 'in any channel'}: "
        "`/wallaroo watch WS PIPELINE` or `/wallaroo subscribe assay ID` starts."
    )
    title = "Watches and subscriptions"
    reply = paged_reply(title, rows, page=args.page, command=command, noun="entries", empty=empty)
    reply.blocks.insert(1, context(where))
    return Answer(reply, f"channel {channels[0]}" if channels else "all channels")
