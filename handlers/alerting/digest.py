"""Daily digests: when each is due, what it shows, and staging it in the outbox once a day.

Times are the services' clock (tests move it) read in CHATOPS_TIMEZONE. A digest is due once
its channel's local HH:MM has passed today and it was last sent for an earlier day; a bot that
was down at that time sends it when it is back, the same day (never the missed days). Once a
day across replicas and restarts: the outbox row is staged in the transaction that marks the
day sent (`claim_day`, a compare-and-set), so whoever loses the race stages nothing. Only the
poller lease's holder runs this (bot/scheduler.py); the compare-and-set holds without it.

What a digest shows is read here: watches, subscriptions, deployment health, episodes and the
pending requests that concern the channel (its pipelines', or posted or asked from its alerts
there) from storage, assay results from Wallaroo (read only); a Wallaroo error shows on the
assay's line rather than holding the digest back.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.wallaroo import WallarooError
from bot.wallaroo.drift import parse_time
from handlers.alerting.staging import stored
from handlers.context import Services
from handlers.render.blocks import Reply
from handlers.render.digest import (
    SPARK_WINDOWS,
    AssayLine,
    DeploymentLine,
    DigestContent,
    render_digest,
)
from storage.alerts import all_health, pipeline_subject
from storage.digests import (
    Digest,
    claim_day,
    episodes_since,
    list_digests,
    pending_requests_for,
)
from storage.outbox import OutboxKind, enqueue
from storage.watches import AssaySubscription, followed_in

logger = logging.getLogger(__name__)

DAY = timedelta(days=1)
_HH_MM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def read_time(text: str) -> time | None:
    """`09:00`, `9:00` or `23:59` as a time of day; None for anything else (`25:00`, `9h`)."""
    found = _HH_MM.fullmatch(text.strip())
    return time(int(found.group(1)), int(found.group(2))) if found else None


def scheduled_at(day: date, at: str, zone: ZoneInfo) -> datetime:
    """When a digest set for `at` (HH:MM) goes out on `day`, as an aware local time."""
    moment = read_time(at)
    assert moment is not None, f"a stored digest time must be HH:MM, not {at!r}"
    return datetime.combine(day, moment, tzinfo=zone)


def due_day(digest: Digest, now: datetime, zone: ZoneInfo) -> date | None:
    """The local date a digest is due for at `now`; None if it is not due."""
    today = now.astimezone(zone).date()
    if now < scheduled_at(today, digest.time, zone):
        return None
    if digest.last_sent_for is not None and digest.last_sent_for >= today:
        return None
    return today


def counted_as_sent(at: str, now: datetime, zone: ZoneInfo) -> date | None:
    """For a digest set (or moved) at `now`: today, when its time has already passed today,
    so the first one goes out at its time tomorrow rather than at once; else None."""
    today = now.astimezone(zone).date()
    return today if now >= scheduled_at(today, at, zone) else None


def next_send(digest: Digest, now: datetime, zone: ZoneInfo) -> datetime:
    """When the digest goes out next: `now` if it is due (at the next poll), else at its
    time today or, once that has passed (it was sent), tomorrow."""
    if due_day(digest, now, zone) is not None:
        return now
    today = now.astimezone(zone).date()
    at = scheduled_at(today, digest.time, zone)
    return at if now < at else scheduled_at(today + DAY, digest.time, zone)


def channels_of(channel: str, channel_name: str = "") -> list[str]:
    """How watches may name the digest's channel: its id or #name, and #name if known."""
    names = [channel]
    if channel_name and not channel.startswith("#"):
        names.append(f"#{channel_name}")
    return names


async def gather(services: Services, channels: list[str], now: datetime) -> DigestContent:
    """What the digest of `channels` (one channel's id and #name) shows at `now`."""
    since = now - DAY
    async with services.sessions() as session:
        watches, subscriptions = await followed_in(session, channels)
        health = {h.pipeline_id: h for h in await all_health(session)}
        episodes = await episodes_since(session, channels, since)
        approvals = await pending_requests_for(
            session,
            channels,
            {w.pipeline_id for w in watches},
            {(s.workspace_id, s.pipeline_name) for s in subscriptions},
            now,
        )
    opened = [e for e in episodes if e.opened_at >= since]
    # A status first seen by the watch's first polls is where it started, not a change.
    first_polls = timedelta(seconds=2 * services.settings.chatops_poll_seconds)
    deployments = []
    for w in watches:
        seen = health.get(w.pipeline_id)
        deployments.append(
            DeploymentLine(
                pipeline_name=w.pipeline_name,
                workspace_name=w.workspace_name,
                status=seen.status if seen else None,
                since=seen.since if seen else None,
                changed=seen is not None
                and seen.since >= since
                and seen.since > w.created_at + first_polls,
                episodes=sum(e.subject == pipeline_subject(w.pipeline_id) for e in opened),
            )
        )
    limit = asyncio.Semaphore(services.settings.chatops_poll_concurrency)
    assays = await asyncio.gather(*(_assay_line(services, s, since, limit) for s in subscriptions))
    zone = services.settings.timezone
    return DigestContent(
        channel=channels[0],
        day=now.astimezone(zone).date(),
        now=now,
        since=since,
        timezone=zone,
        deployments=deployments,
        assays=list(assays),
        episodes=episodes,
        approvals=approvals,
    )


async def _assay_line(
    services: Services, subscription: AssaySubscription, since: datetime, limit: asyncio.Semaphore
) -> AssayLine:
    line = AssayLine(subscription.assay_id, subscription.assay_name, subscription.pipeline_name)
    try:
        async with limit:
            results = await services.wallaroo.drift_results(subscription.assay_id)
    except WallarooError as exc:
        return AssayLine(line.assay_id, line.name, line.pipeline_name, error=str(exc))
    scored = [r for r in results if r.status != "BaselineRun"]
    # A window counts for the day when it ended within it (v1 items may name only a start).
    today = [r for r in scored if parse_time(r.window_end or r.window_start) >= since]
    worst = max(today, key=lambda r: r.score) if today else None
    return AssayLine(
        line.assay_id, line.name, line.pipeline_name, scored[-SPARK_WINDOWS:], worst=worst
    )


async def digest_reply(services: Services, channel: str, channel_name: str = "") -> Reply:
    """The digest of a channel as it reads now (`digest now`)."""
    return render_digest(
        await gather(services, channels_of(channel, channel_name), services.clock())
    )


async def send_due_digests(services: Services) -> int:
    """Stage every digest that is due, each once for its day; returns how many were staged.
    One digest failing (the database, a bug) is logged and retried at the next poll; the
    others go on."""
    now, zone = services.clock(), services.settings.timezone
    async with services.sessions() as session:
        digests = await list_digests(session)
    staged = 0
    for digest in digests:
        day = due_day(digest, now, zone)
        if day is None:
            continue
        try:
            staged += await _stage(services, digest, day, now)
        except Exception:
            logger.exception("the digest of %s could not be staged", digest.channel)
    return staged


async def _stage(services: Services, digest: Digest, day: date, now: datetime) -> int:
    content = await gather(services, channels_of(digest.channel, digest.channel_name), now)
    reply = render_digest(content)
    async with services.sessions() as session:
        if not await claim_day(session, digest.channel, day):
            return 0  # sent for today already, by another replica or before a restart
        await enqueue(session, channel=digest.channel, kind=OutboxKind.POST, message=stored(reply))
        await session.commit()
    logger.info("digest of %s staged for %s", digest.channel, day.isoformat())
    return 1
