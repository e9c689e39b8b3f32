"""digest #channel HH:MM | digest off #channel | digest now [#channel] | digest | digests:
a channel's daily summary (handlers/alerting/digest.py says when it is due and what it shows)."""

from __future__ import annotations

from datetime import datetime

from handlers.alerting.digest import counted_as_sent, digest_reply, next_send, read_time
from handlers.commands.arguments_alerts import DigestList, DigestNow, DigestOff, DigestSet
from handlers.commands.lookup import closest
from handlers.context import Answer, CommandProblem, Context
from handlers.render.blocks import list_reply, ok_reply
from handlers.render.digest import shown_channel
from handlers.render.mrkdwn import ChannelRef, code, escape, shorten, user_mention
from handlers.render.times import when
from storage.digests import Digest, get_digest, list_digests, remove_digest, set_digest


def _channel(ctx: Context, ref: ChannelRef | None) -> tuple[str, str]:
    """(the channel as stored: its id, or a #name in the console; its name if known)."""
    if ref is not None:
        return ref.id or f"#{ref.name}", ref.name or ""
    if ctx.actor.channel_id:
        return ctx.actor.channel_id, ""
    raise CommandProblem("Which channel's digest?", "Name it: `/wallaroo digest now #channel`.")


def _zone_note(ctx: Context) -> str:
    return f"{ctx.services.settings.chatops_timezone} (CHATOPS_TIMEZONE)"


def _local(moment: datetime, ctx: Context) -> str:
    zone = ctx.services.settings.timezone
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {escape(zone.key)}"


async def set_or_list(ctx: Context, args: DigestSet) -> Answer:
    if args.channel is None and args.time is None:
        return await listing(ctx, DigestList())
    if args.channel is None or args.time is None:
        raise CommandProblem(
            "`digest` needs a channel and a time of day.",
            f"For example `/wallaroo digest #ml-ops 09:00` (times in {_zone_note(ctx)}).",
        )
    at = read_time(args.time)
    if at is None:
        raise CommandProblem(
            f"{code(shorten(args.time, 20))} is not a time of day: write HH:MM on a 24-hour "
            f"clock, 00:00 to 23:59.",
            f"For example `/wallaroo digest #ml-ops 09:00` (times in {_zone_note(ctx)}).",
        )
    channel, name = _channel(ctx, args.channel)
    now, zone = ctx.services.clock(), ctx.services.settings.timezone
    digest = Digest(
        channel=channel,
        channel_name=name,
        time=f"{at:%H:%M}",
        created_by=ctx.actor.user_id,
        created_at=now,
        # Set after today's time has passed: the first goes out tomorrow, not at once.
        last_sent_for=counted_as_sent(f"{at:%H:%M}", now, zone),
    )
    async with ctx.services.sessions() as session:
        new = await set_digest(session, digest)
        await session.commit()
    verb = "will get" if new else "now gets"
    first = _local(next_send(digest, now, zone), ctx)
    return Answer(
        ok_reply(
            f"{shown_channel(channel)} {verb} a daily digest at {at:%H:%M} "
            f"{escape(zone.key)}; the next one {first}. `/wallaroo digest now` shows it today."
        ),
        f"digest {channel}",
    )


async def turn_off(ctx: Context, args: DigestOff) -> Answer:
    channel, _ = _channel(ctx, args.channel)
    async with ctx.services.sessions() as session:
        removed = await remove_digest(session, channel)
        await session.commit()
        configured = [d.channel for d in await list_digests(session)]
    if not removed:
        guess = closest(channel, configured)
        raise CommandProblem(
            f"{shown_channel(channel)} has no digest.",
            f"Did you mean {shown_channel(guess)}?"
            if guess
            else ("`/wallaroo digests` lists them." if configured else "No channel has one."),
        )
    return Answer(
        ok_reply(f"No more daily digest in {shown_channel(channel)}."), f"digest {channel}"
    )


async def now(ctx: Context, args: DigestNow) -> Answer:
    channel, name = _channel(ctx, args.channel)
    if not name:
        async with ctx.services.sessions() as session:
            stored = await get_digest(session, channel)
        name = stored.channel_name if stored else ""
    reply = await digest_reply(ctx.services, channel, name)
    reply.ephemeral = True  # a reply to the asker; the scheduled one is posted to the channel
    return Answer(reply, f"digest {channel}")


async def listing(ctx: Context, args: DigestList) -> Answer:
    now_, zone = ctx.services.clock(), ctx.services.settings.timezone
    async with ctx.services.sessions() as session:
        digests = await list_digests(session)
    rows = [
        f"{shown_channel(d.channel)} at *{d.time}* {escape(zone.key)} · set by "
        f"{user_mention(d.created_by)} {when(d.created_at, now=now_, relative=True)} · next "
        f"{_local(next_send(d, now_, zone), ctx)}"
        for d in digests
    ]
    empty = "No channel has a daily digest: `/wallaroo digest #channel HH:MM` sets one."
    return Answer(list_reply("Daily digests", rows, empty=empty), "digests")
