"""Polling subscribed assays: new results since each assay's cursor, turned into episodes.

Both generations' results arrive as one view (`DriftResult`), so v1 and v2 alerts read the same.
Per assay, one transaction stages the episode changes, the outbox messages announcing them
and the moved cursor, so a result is handled exactly once even if the process dies mid-way:
either all of it is committed (and the outbox will deliver it) or none (and the next poll
sees the same result again).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.tasks import gather_failures
from bot.wallaroo import AssayResult, DriftResult
from bot.wallaroo.drift import from_v1, parse_time
from handlers.alerting.episodes import close_and_announce
from handlers.alerting.staging import enqueue_for_episode
from handlers.context import Services
from handlers.render.alert_messages import escalation_note, recovery_note, render_episode
from handlers.render.charts import drift_chart
from storage.alerts import (
    AlertEpisode,
    EpisodeKind,
    advance_cursor,
    all_cursors,
    assay_subject,
    open_episode,
    open_episodes,
)
from storage.outbox import OutboxKind, enqueue
from storage.watches import AssaySubscription, is_subscribed

BREACHES = ("Warning", "Alert")


async def poll_state(
    session: AsyncSession, subscriptions: list[AssaySubscription]
) -> dict[str, tuple[str | None, AlertEpisode | None]]:
    """Every subscribed assay's cursor and open episode, in two queries."""
    cursors = {c.assay_id: c.last_window_start for c in await all_cursors(session)}
    episodes = {e.subject: e for e in await open_episodes(session)}
    # Keyed by the id as text, as stored, whatever type a caller's subscription object holds.
    return {
        str(s.assay_id): (cursors.get(str(s.assay_id)), episodes.get(assay_subject(s.assay_id)))
        for s in subscriptions
    }


async def poll_assays(
    services: Services,
    subscriptions: list[AssaySubscription],
    known: dict[str, tuple[str | None, AlertEpisode | None]],
) -> list[BaseException]:
    """One poll of the subscribed assays, CHATOPS_POLL_CONCURRENCY at once, from the cursors
    and episodes `poll_state` read (`known`). Returns the failures; the others' work stands."""
    limit = asyncio.Semaphore(services.settings.chatops_poll_concurrency)

    async def one(subscription: AssaySubscription) -> None:
        cursor, episode = known[subscription.assay_id]
        async with limit:
            await check_assay(services, subscription, cursor, episode)

    return await gather_failures(one(s) for s in subscriptions)


async def check_assay(
    services: Services,
    subscription: AssaySubscription,
    cursor: str | None,
    episode: AlertEpisode | None,
) -> int:
    """Handle the assay's results newer than `cursor` (its stored cursor, which the caller
    read with its open `episode` for all assays at once); returns how many were new."""
    client = services.wallaroo
    assay_id = str(subscription.assay_id)
    since = cursor or None  # NO_RESULT_YET: subscribed before any result, so all count
    results = await client.drift_results(assay_id, start=since, newer_than=since)
    seen = parse_time(since) if since else None
    fresh = [r for r in results if r.status != "BaselineRun" and (seen is None or r.started > seen)]
    if not fresh:
        return 0
    if cursor is None:
        # No cursor (a subscription stored without one): start from the latest result, not
        # with the assay's history.
        fresh = fresh[-1:]
    chart = None
    if episode is None and any(r.status in BREACHES for r in fresh):
        history = await client.drift_results(assay_id)
        breach = next(r for r in fresh if r.status in BREACHES)
        shown = [r for r in history if r.started <= breach.started] or [breach]
        title = title_of(subscription, breach)
        chart = await asyncio.to_thread(drift_chart, shown, title)
    async with services.sessions() as session:
        if not await is_subscribed(session, assay_id):
            return 0  # unsubscribed while we asked Wallaroo
        try:
            for result in fresh:
                await apply_result(session, subscription, result, chart, services.clock())
        except IntegrityError:
            # Another poller opened the episode first (a lease hand-over): theirs stands.
            await session.rollback()
            return 0
        newest = fresh[-1].window_start
        if not await advance_cursor(session, assay_id, cursor, newest):
            return 0  # another poll handled these results first
        await session.commit()
    return len(fresh)


def title_of(subscription: AssaySubscription, result: DriftResult) -> str:
    """The assay's name: as the result says (v1 tutorial, v2), else as subscribed."""
    return result.assay_name or subscription.assay_name or f"assay {subscription.assay_id}"


async def apply_result(
    session: AsyncSession,
    subscription: AssaySubscription,
    result: DriftResult | AssayResult,
    chart: bytes | None,
    now: datetime,
) -> None:
    """Stage what one result changes (the caller commits), as of `now` (the services' clock)."""
    if isinstance(result, AssayResult):
        result = from_v1(result, subscription.assay_id, "assays/get_assay_results")
    subject = assay_subject(subscription.assay_id)
    episode = await open_episode(session, subject)
    detail = json.dumps(_detail(subscription, result))
    if result.status in BREACHES:
        title = title_of(subscription, result)
        if episode is None:
            episode = AlertEpisode(
                kind=EpisodeKind.ASSAY,
                subject=subject,
                title=title,
                channel=subscription.channel,
                severity=result.status,
                latest_score=result.score,
                worst_score=result.score,
                latest_window=result.window_start,
                detail=detail,
                # Opened at Alert, there is no escalation to announce.
                escalation_announced=result.status == "Alert",
            )
            session.add(episode)
            await session.flush()  # the episode's id, for its outbox rows
            await enqueue_for_episode(
                session, episode, OutboxKind.POST, render_episode(episode, now)
            )
            if chart is not None:
                await enqueue(
                    session,
                    channel=episode.channel,
                    kind=OutboxKind.UPLOAD,
                    episode_id=episode.id,
                    message={"text": f"Drift of {title}: scores and the latest window"},
                    file_content=chart,
                    filename=f"assay-{subscription.assay_id}-drift.png",
                )
            return
        episode.count += 1
        episode.latest_score = result.score
        episode.worst_score = max(episode.worst_score or 0.0, result.score)
        episode.latest_window = result.window_start
        episode.detail = detail
        if result.status == "Alert":
            episode.severity = "Alert"
        # Announced once; while snoozed it waits, and the first Alert after the snooze says it.
        escalated = result.status == "Alert" and not episode.escalation_announced
        if escalated and not episode.is_snoozed(now):
            episode.escalation_announced = True
            await enqueue_for_episode(session, episode, OutboxKind.THREAD, escalation_note(episode))
        session.add(episode)
        await enqueue_for_episode(session, episode, OutboxKind.UPDATE, render_episode(episode, now))
    elif result.status == "Ok" and episode is not None:
        episode.latest_score = result.score
        await close_and_announce(session, episode, recovery_note(episode), now)


def _detail(subscription: AssaySubscription, result: DriftResult) -> dict:
    return {
        "pipeline_name": result.pipeline_name or subscription.pipeline_name,
        "warning_threshold": result.warning_threshold,
        "alert_threshold": result.alert_threshold,
        "window": f"{result.window_start} → {result.window_end or '?'}",
        "moved_bins": [b.model_dump() for b in result.moved_bins()],
        "status": result.status,
    }
