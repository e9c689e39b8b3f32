"""Polling subscribed assays: new results since each assay's cursor, turned into episodes.

Both generations' results arrive as one view (`DriftResult`), so v1 and v2 alerts read the same.
Per assay, one transaction stages the episode changes, the outbox messages announcing them
and the moved cursor, so a result is handled exactly once even if the process dies mid-way:
either all of it is committed (and the outbox will deliver it) or none (and the next poll
sees the same result again). Assays of one pipeline opening episodes in the same poll are one
transaction and one group message (groups.py), which an open deployment episode of the
pipeline joins, as they join its (under the pipeline's lock in the database, groups.py);
an assay with nothing new may be silent (silence.py); a breach soon after a recovery reopens
the episode (flapping.py).
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.tasks import gather_failures
from bot.wallaroo import AssayResult, DriftResult
from bot.wallaroo.drift import from_v1, parse_time
from handlers.alerting.episodes import close_and_announce
from handlers.alerting.flapping import breached_again, hold_if_flapping, reopen_flapping
from handlers.alerting.groups import join, join_open_group, open_group
from handlers.alerting.remediation import REMEDY, remedy_by_name
from handlers.alerting.silence import check_silence, end_silence, remember_width
from handlers.alerting.staging import enqueue_for_episode, group_of
from handlers.context import Services
from handlers.render.alert_messages import render_episode, with_sticky
from handlers.render.alert_notes import escalation_note, owner_note, recovery_note
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
from storage.watches import AssaySubscription, alert_extras, is_subscribed

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


@dataclass
class Fetched:
    """An assay's results newer than its cursor, as one poll read them."""

    subscription: AssaySubscription
    cursor: str | None
    episode: AlertEpisode | None
    fresh: list[DriftResult]

    @property
    def pipeline_name(self) -> str:
        return next((r.pipeline_name for r in self.fresh if r.pipeline_name), None) or (
            self.subscription.pipeline_name
        )

    @property
    def opens(self) -> bool:
        """Whether these results open a drift episode (none open, or only a "no data")."""
        quiet = self.episode is None or self.episode.kind == EpisodeKind.NO_DATA
        return quiet and any(r.status in BREACHES for r in self.fresh)


async def poll_assays(
    services: Services,
    subscriptions: list[AssaySubscription],
    known: dict[str, tuple[str | None, AlertEpisode | None]],
) -> list[BaseException]:
    """One poll of the subscribed assays, CHATOPS_POLL_CONCURRENCY at once, from the cursors
    and episodes `poll_state` read (`known`). Assays of one pipeline and channel that open
    episodes in this poll are staged together, as one group message (a storm); the others
    one by one; the silent ones are looked at for "no data". Returns the failures; the
    others' work stands."""
    limit = asyncio.Semaphore(services.settings.chatops_poll_concurrency)

    async def bounded(work: Awaitable[object]) -> object:
        async with limit:
            return await work

    fetched = await asyncio.gather(
        *(bounded(fetch(services, s, *known[s.assay_id])) for s in subscriptions),
        return_exceptions=True,
    )
    failures = [f for f in fetched if isinstance(f, BaseException)]
    found = [f for f in fetched if isinstance(f, Fetched)]
    storms: dict[tuple[str, str], list[Fetched]] = defaultdict(list)
    for item in found:
        if item.opens:
            storms[(item.subscription.channel, item.pipeline_name)].append(item)
    grouped = [items for items in storms.values() if len(items) > 1]
    together = {id(item) for items in grouped for item in items}
    work: list[Awaitable[object]] = [bounded(stage(services, items)) for items in grouped]
    for item in found:
        if not item.fresh:
            work.append(bounded(check_silence(services, item.subscription, item.cursor)))
        elif id(item) not in together:
            work.append(bounded(stage(services, [item])))
    return failures + await gather_failures(work)


async def check_assay(
    services: Services,
    subscription: AssaySubscription,
    cursor: str | None,
    episode: AlertEpisode | None,
) -> int:
    """Handle the assay's results newer than `cursor` (its stored cursor, which the caller
    read with its open `episode` for all assays at once); returns how many were new."""
    item = await fetch(services, subscription, cursor, episode)
    return await stage(services, [item]) if item.fresh else 0


async def fetch(
    services: Services,
    subscription: AssaySubscription,
    cursor: str | None,
    episode: AlertEpisode | None,
) -> Fetched:
    """The assay's results newer than `cursor`."""
    assay_id = str(subscription.assay_id)
    since = cursor or None  # NO_RESULT_YET: subscribed before any result, so all count
    results = await services.wallaroo.drift_results(assay_id, start=since, newer_than=since)
    seen = parse_time(since) if since else None
    fresh = [r for r in results if r.status != "BaselineRun" and (seen is None or r.started > seen)]
    if fresh and cursor is None:
        # No cursor (a subscription stored without one): start from the latest result, not
        # with the assay's history.
        fresh = fresh[-1:]
    for result in fresh[-1:]:
        remember_width(services, result)
    return Fetched(subscription, cursor, episode, fresh)


async def stage(services: Services, items: list[Fetched]) -> int:
    """Stage the results of `items` in one transaction, with their moved cursors; several
    items are a storm, shown in one group message (and without a chart each). Returns how
    many results were handled (0 if another poll handled them first)."""
    now, window = services.clock(), services.settings.chatops_flap_window_seconds
    storm = len(items) > 1
    chart = None if storm else await _chart(services, items[0])
    # What the alert may offer (Roll back, Undeploy), asked before the transaction: one
    # pipeline per stage, storm or not.
    remedy = None
    if any(i.opens for i in items):
        remedy = await remedy_by_name(services, items[0].pipeline_name)
    # Opening or joining, it waits for the pipeline's lock (groups.py): the deployment's
    # transaction, polled meanwhile, and ours go one after the other, the second joining.
    async with services.sessions() as session:
        items = [i for i in items if await is_subscribed(session, i.subscription.assay_id)]
        if not items:
            return 0  # unsubscribed while we asked Wallaroo
        try:
            group = None
            if storm:
                channel, pipeline = items[0].subscription.channel, items[0].pipeline_name
                busy = frozenset(assay_subject(i.subscription.assay_id) for i in items)
                group = await open_group(session, channel, pipeline, now, busy)
            for item in items:
                for result in item.fresh:
                    await apply_result(
                        session, item.subscription, result, chart, now, group, window, remedy
                    )
        except IntegrityError:
            # Another poller opened the episode first (a lease hand-over): theirs stands.
            await session.rollback()
            return 0
        for item in items:
            newest = item.fresh[-1].window_start
            if not await advance_cursor(session, item.subscription.assay_id, item.cursor, newest):
                return 0  # another poll handled these results first
        await session.commit()
    return sum(len(i.fresh) for i in items)


async def _chart(services: Services, item: Fetched) -> bytes | None:
    """The drift chart of an episode this assay's results open, up to its first breach."""
    if not item.opens:
        return None
    assay_id = str(item.subscription.assay_id)
    history = await services.wallaroo.drift_results(assay_id)
    breach = next(r for r in item.fresh if r.status in BREACHES)
    shown = [r for r in history if r.started <= breach.started] or [breach]
    title = title_of(item.subscription, breach)
    return await asyncio.to_thread(drift_chart, shown, title)


def title_of(subscription: AssaySubscription, result: DriftResult) -> str:
    """The assay's name: as the result says (v1 tutorial, v2), else as subscribed."""
    return result.assay_name or subscription.assay_name or f"assay {subscription.assay_id}"


async def apply_result(
    session: AsyncSession,
    subscription: AssaySubscription,
    result: DriftResult | AssayResult,
    chart: bytes | None,
    now: datetime,
    group: AlertEpisode | None = None,
    flap_window: float = 0.0,
    remedy: dict | None = None,
) -> None:
    """Stage what one result changes (the caller commits), as of `now` (the services' clock):
    a new episode joins `group` (a storm), else the pipeline's open group if any; a breach soon
    after a recovery reopens the episode, flapping (within `flap_window` seconds)."""
    if isinstance(result, AssayResult):
        result = from_v1(result, subscription.assay_id, "assays/get_assay_results")
    subject = assay_subject(subscription.assay_id)
    episode = await open_episode(session, subject)
    if episode is not None and episode.kind == EpisodeKind.NO_DATA:
        await end_silence(session, episode, now)  # a result: no longer silent
        episode = None
    detail = _detail(subscription, result)
    if result.status in BREACHES:
        if episode is None:
            episode = await reopen_flapping(
                session, subject, EpisodeKind.ASSAY, now, flap_window, remedy=remedy
            )
        if episode is None:
            opened = {**detail, REMEDY: remedy} if remedy else detail
            await _open(session, subscription, result, opened, chart, now, group)
            return
        breached_again(episode)
        episode.count += 1
        episode.latest_score = result.score
        episode.worst_score = max(episode.worst_score or 0.0, result.score)
        episode.latest_window = result.window_start
        episode.detail = with_sticky(episode, detail)
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
        if not await hold_if_flapping(session, episode, now):
            note = recovery_note(episode)
            await close_and_announce(session, episode, note, now, recovered=True)


async def _open(
    session: AsyncSession,
    subscription: AssaySubscription,
    result: DriftResult,
    detail: dict,
    chart: bytes | None,
    now: datetime,
    group: AlertEpisode | None,
) -> None:
    title = title_of(subscription, result)
    episode = AlertEpisode(
        kind=EpisodeKind.ASSAY,
        subject=assay_subject(subscription.assay_id),
        title=title,
        channel=subscription.channel,
        severity=result.status,
        latest_score=result.score,
        worst_score=result.score,
        latest_window=result.window_start,
        detail=json.dumps(detail),
        opened_at=now,
        # Opened at Alert, there is no escalation to announce.
        escalation_announced=result.status == "Alert",
    )
    if group is not None:
        join(episode, group)
    else:
        await join_open_group(session, episode, detail["pipeline_name"] or "")
    session.add(episode)
    await session.flush()  # the episode's id, for its outbox rows
    await enqueue_for_episode(session, episode, OutboxKind.POST, render_episode(episode, now))
    joined = await group_of(session, episode)
    if joined is not None and joined.message_ts and (call := owner_note(episode)):
        await enqueue_for_episode(session, episode, OutboxKind.THREAD, call)  # see owner_note
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


def _detail(subscription: AssaySubscription, result: DriftResult) -> dict:
    return {
        "pipeline_name": result.pipeline_name or subscription.pipeline_name,
        "warning_threshold": result.warning_threshold,
        "alert_threshold": result.alert_threshold,
        "window": f"{result.window_start} → {result.window_end or '?'}",
        "moved_bins": [b.model_dump() for b in result.moved_bins()],
        "status": result.status,
        **alert_extras(subscription),  # its runbook and owner, shown on the alert
    }
