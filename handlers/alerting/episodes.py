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
from handlers.render.alert_messages import (
    CREDIT_ON_SUCCESS,
    REMEDIATED,
    details_of,
    render_episode,
)
from handlers.render.alert_notes import reminder_note, thread_note
from handlers.render.alert_remediation import (
    finishing_note,
    outlived_note,
    remediation_text,
    withdrawal_due,
)
from handlers.render.blocks import Reply
from handlers.render.mrkdwn import escape
from storage.alerts import (
    AlertEpisode,
    EpisodeKind,
    assay_subject,
    mark_closed,
    open_episode,
    open_episodes,
    pipeline_subject,
)
from storage.approvals import IN_FLIGHT_STATES, ApprovalRequest, ApprovalState
from storage.outbox import OutboxKind
from storage.watches import list_subscriptions, list_watches

# An assay episode's detail: when (Wallaroo's clock, ISO) its linked rollback succeeded,
# {"request": id, "at": ...} (remediation.show_remediation). Assay windows are on that clock.
TOOK_EFFECT = "remedy_took_effect"
Window = tuple[datetime, datetime | None]


async def close_and_announce(
    session: AsyncSession,
    episode: AlertEpisode,
    note: Reply,
    now: datetime,
    *,
    recovered: bool = False,
    window: Window | None = None,
) -> None:
    """Stage the close of `episode`, `note` in its thread and the edit of its message (the
    caller commits). Only an episode that `recovered` (its subject healthy again, or ended by
    its own undeploy) and that its linked request put right closes "remediated": closed for
    another reason (unsubscribed, disabled, unwatched) it never recovered, whatever was done.
    `window`: the healthy assay result's (start, end), on Wallaroo's clock."""
    if recovered:
        note = await _if_remediated(session, episode, note, now, window)
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


def recovered_before(detail: dict, request: ApprovalRequest, window: Window | None) -> bool:
    """Whether the healthy `window` was mostly served before the rollback took effect (so
    the rollback did not make it healthy): half of it or less lies after the recorded
    success. Unknown (no window, or a success recorded before this was kept): credited."""
    took = detail.get(TOOK_EFFECT)
    if window is None or not isinstance(took, dict) or took.get("request") != request.id:
        return False
    at = datetime.fromisoformat(took["at"])
    start, end = window
    if end is None or end <= start:
        return start < at
    after = (end - max(start, at)).total_seconds()
    return after <= (end - start).total_seconds() / 2


async def _if_remediated(
    session: AsyncSession,
    episode: AlertEpisode,
    note: Reply,
    now: datetime,
    window: Window | None = None,
) -> Reply:
    """If the episode's linked request put things right, it says "remediated" (a sticky detail,
    instead of any other reason to close) and so does its closing note. A request still
    pending stands, withdrawn only if the alert stays healthy (the note says so; the
    withdrawal, handlers/approvals/outlived.py, says when it happens; a settled flapping
    episode stayed healthy already). A deployment's rollback approved and not finished
    (being sent, or followed) is what made it Running: credited once the follower marks it
    succeeded (remediation.credit_late)."""
    request = await remediation_of(session, episode)
    if request is None:
        return note
    detail = details_of(episode)
    if remediates(request) and recovered_before(detail, request, window):
        return thread_note(
            f"{note.text}\n:information_source: It recovered before the rollback of request "
            f"#{request.id} took effect: recovered, not remediated."
        )
    if remediates(request):
        detail.pop("closed_reason", None)
        detail[REMEDIATED] = remediation_text(request, detail.get("remedy"))
        episode.detail = json.dumps(detail)
        session.add(episode)
        return thread_note(f"{note.text}\n:white_check_mark: *Remediated*: {detail[REMEDIATED]}")
    state = request.current_state
    if state is ApprovalState.PENDING and not request.is_expired(now):
        due = withdrawal_due(request, episode.subject, now, settled=bool(detail.get("settled")))
        if due <= now:
            return note  # withdrawn by this poll's round of reminders, which says so
        return thread_note(f"{note.text}\n{outlived_note(request, detail.get('remedy'), due)}")
    in_flight = state in IN_FLIGHT_STATES and request.action == "rollback"
    if in_flight and episode.kind == EpisodeKind.DEPLOYMENT:
        detail[CREDIT_ON_SUCCESS] = request.id
        episode.detail = json.dumps(detail)
        session.add(episode)
        return thread_note(f"{note.text}\n{finishing_note(request, detail.get('remedy'))}")
    return note


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
