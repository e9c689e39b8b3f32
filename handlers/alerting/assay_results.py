"""One assay result turned into episode changes: a breach opens the assay's episode (joining
its pipeline's group when one is open, or the pipeline's lone episode, groups.py), adds to it
or reopens it (flapping); an Ok closes it (after the flapping hold); any result ends a "no
data" episode. The caller (assays.py's poll) commits, with the assay's moved cursor."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.wallaroo import AssayResult, DriftResult
from bot.wallaroo.drift import from_v1, parse_time
from handlers.alerting.episodes import TOOK_EFFECT, Window, close_and_announce
from handlers.alerting.flapping import breached_again, hold_if_flapping, reopen_flapping
from handlers.alerting.groups import join, join_open_group
from handlers.alerting.remediation import REMEDY
from handlers.alerting.silence import end_silence
from handlers.alerting.staging import enqueue_for_episode, group_of
from handlers.render.alert_messages import details_of, render_episode, with_sticky
from handlers.render.alert_notes import escalation_note, owner_note, recovery_note
from storage.alerts import AlertEpisode, EpisodeKind, assay_subject, open_episode
from storage.outbox import OutboxKind, enqueue, is_undeliverable
from storage.watches import AssaySubscription, alert_extras, workspace_detail

BREACHES = ("Warning", "Alert")


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
        # When a rollback took effect outlives later breaches (windows served before it).
        took = details_of(episode).get(TOOK_EFFECT)
        episode.detail = with_sticky(episode, {**detail, TOOK_EFFECT: took} if took else detail)
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
            window = _window_of(result)
            await close_and_announce(session, episode, note, now, recovered=True, window=window)


def _window_of(result: DriftResult) -> Window:
    end = parse_time(result.window_end) if result.window_end else None
    return result.started, end


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
        await _upload_chart(session, joined or episode, chart, title, subscription.assay_id)


async def _upload_chart(
    session: AsyncSession, target: AlertEpisode, chart: bytes, title: str, assay_id: str
) -> None:
    """The drift chart in the thread of the message that shows the episode: its own, or its
    group's (a lone assay that joined a failing deployment's message), after that message's
    post and edits, as the group's row; nothing for a message Slack refused for good."""
    if target.id is None or await is_undeliverable(session, target.id):
        return
    await enqueue(
        session,
        channel=target.channel,
        kind=OutboxKind.UPLOAD,
        episode_id=target.id,
        message={"text": f"Drift of {title}: scores and the latest window"},
        file_content=chart,
        filename=f"assay-{assay_id}-drift.png",
    )


def _detail(subscription: AssaySubscription, result: DriftResult) -> dict:
    return {
        "pipeline_name": result.pipeline_name or subscription.pipeline_name,
        **workspace_detail(subscription),  # with the name, its pipeline (groups.py)
        "warning_threshold": result.warning_threshold,
        "alert_threshold": result.alert_threshold,
        "window": f"{result.window_start} → {result.window_end or '?'}",
        "moved_bins": [b.model_dump() for b in result.moved_bins()],
        "status": result.status,
        **alert_extras(subscription),  # its runbook and owner, shown on the alert
    }
