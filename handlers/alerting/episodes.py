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
from handlers.alerting.staging import enqueue_for_episode, group_of, remediation_of
from handlers.render.alert_messages import REMEDIATED, details_of, render_episode
from handlers.render.alert_notes import reminder_note, thread_note
from handlers.render.alert_remediation import remediation_text
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
from storage.approvals import ApprovalRequest, ApprovalState
from storage.outbox import OutboxKind
from storage.watches import list_subscriptions, list_watches


async def close_and_announce(
    session: AsyncSession,
    episode: AlertEpisode,
    note: Reply,
    now: datetime,
    *,
    recovered: bool = False,
) -> None:
    """Stage the close of `episode`, `note` in its thread and the edit of its message (the
    caller commits). Only an episode that `recovered` (its subject healthy again, or ended by
    its own undeploy) and that its linked request put right closes "remediated": closed for
    another reason (unsubscribed, disabled, unwatched) it never recovered, whatever was done."""
    if recovered:
        note = await _if_remediated(session, episode, note)
    mark_closed(session, episode, now)
    await enqueue_for_episode(session, episode, OutboxKind.THREAD, note)
    await enqueue_for_episode(session, episode, OutboxKind.UPDATE, render_episode(episode, now))
    await close_group_if_done(session, episode, now)


def remediates(request: ApprovalRequest | None) -> bool:
    """Whether the request put things right: a rollback done, or an undeploy done or under way
    (a deployment's episode closes before its undeploy is marked succeeded: following.py)."""
    if request is None:
        return False
    state = request.current_state
    if request.action == "undeploy":
        return state in (ApprovalState.FOLLOWING, ApprovalState.SUCCEEDED)
    return state is ApprovalState.SUCCEEDED


async def _if_remediated(session: AsyncSession, episode: AlertEpisode, note: Reply) -> Reply:
    """If the episode's linked request put things right, it says "remediated" (a sticky detail,
    instead of any other reason to close) and so does its closing note."""
    request = await remediation_of(session, episode.id) if episode.id is not None else None
    if request is None or not remediates(request):
        return note
    detail = details_of(episode)
    detail.pop("closed_reason", None)
    detail[REMEDIATED] = remediation_text(request, detail.get("remedy"))
    episode.detail = json.dumps(detail)
    session.add(episode)
    return thread_note(f"{note.text}\n:white_check_mark: *Remediated*: {detail[REMEDIATED]}")


async def close_episode(
    session: AsyncSession,
    subject: str,
    reason: str,
    now: datetime,
    *,
    ended_by: ApprovalRequest | None = None,
) -> bool:
    """Stage the close of `subject`'s open episode, if any, for `reason` as of `now` (the
    services' clock); the caller commits. `ended_by`: the undeploy that ends it; only when
    that is the episode's own linked request does it close "remediated"."""
    episode = await open_episode(session, subject)
    if episode is None:
        return False
    recovered = ended_by is not None and ended_by.episode_id == episode.id
    detail = details_of(episode)
    detail["closed_reason"] = reason
    episode.detail = json.dumps(detail)
    note = thread_note(f":white_circle: {escape(reason)}; this episode is closed.")
    await close_and_announce(session, episode, note, now, recovered=recovered)
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
