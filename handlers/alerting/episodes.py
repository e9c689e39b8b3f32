"""An episode's life after it opens: reminders while nobody acknowledges it, and its close, for
a recovery or another reason (its subject is no longer watched, the assay was disabled, the
deployment was undeployed through the bot). The thread says why it closed, and the message,
edited, loses its buttons; no reminder follows."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.alerting.groups import close_group_if_done
from handlers.alerting.staging import enqueue_for_episode, group_of
from handlers.render.alert_messages import (
    details_of,
    reminder_note,
    render_episode,
    thread_note,
)
from handlers.render.blocks import Reply
from handlers.render.mrkdwn import escape
from storage.alerts import (
    AlertEpisode,
    assay_subject,
    mark_closed,
    open_episode,
    open_episodes,
    pipeline_subject,
)
from storage.outbox import OutboxKind
from storage.watches import list_subscriptions, list_watches


async def close_and_announce(
    session: AsyncSession, episode: AlertEpisode, note: Reply, now: datetime
) -> None:
    """Stage the close of `episode`, `note` in its thread and the edit of its message (the
    caller commits)."""
    mark_closed(session, episode, now)
    await enqueue_for_episode(session, episode, OutboxKind.THREAD, note)
    await enqueue_for_episode(session, episode, OutboxKind.UPDATE, render_episode(episode, now))
    await close_group_if_done(session, episode, now)


async def close_episode(session: AsyncSession, subject: str, reason: str, now: datetime) -> bool:
    """Stage the close of `subject`'s open episode, if any, for `reason` as of `now` (the
    services' clock); the caller commits."""
    episode = await open_episode(session, subject)
    if episode is None:
        return False
    detail = details_of(episode)
    detail["closed_reason"] = reason
    episode.detail = json.dumps(detail)
    note = thread_note(f":white_circle: {escape(reason)}; this episode is closed.")
    await close_and_announce(session, episode, note, now)
    return True


async def stage_reminders(session: AsyncSession, now: datetime, every_seconds: float) -> None:
    """Stage a reminder in the thread of each open episode that is still followed and nobody
    acknowledged or snoozed, at most one every `every_seconds` (the caller commits)."""
    followed = {pipeline_subject(w.pipeline_id) for w in await list_watches(session)}
    followed |= {assay_subject(s.assay_id) for s in await list_subscriptions(session)}
    in_groups: dict[str, list[AlertEpisode]] = defaultdict(list)
    for episode in await open_episodes(session):
        if episode.acknowledged_by or episode.is_snoozed(now) or not episode.message_ts:
            continue
        if episode.subject not in followed:
            continue  # nobody watches it any more
        last = episode.last_reminded_at or episode.opened_at
        if (now - last).total_seconds() >= every_seconds:
            episode.last_reminded_at = now
            session.add(episode)
            group = details_of(episode).get("group")
            if group:
                in_groups[group].append(episode)  # one reminder for the group's lines
                continue
            await enqueue_for_episode(session, episode, OutboxKind.THREAD, reminder_note(episode))
    for members in in_groups.values():
        names = ", ".join(f"*{escape(m.title)}*" for m in members)
        note = thread_note(f":bell: Still open: {names}. Acknowledge a line to stop its reminders.")
        group = await group_of(session, members[0])
        if group is not None:
            await enqueue_for_episode(session, group, OutboxKind.THREAD, note)
