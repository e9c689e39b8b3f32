"""Flapping: a subject going Ok, Alert, Ok, Alert within CHATOPS_FLAP_WINDOW_SECONDS keeps one
episode, marked flapping, rather than a new post per flip.

The first recovery closes the episode as always (most troubles end once). A breach within the
window of that recovery reopens the same episode (same message, edited in place, a note in its
thread) marked flapping; from then on a recovery only notes since when it is Ok, and the
episode closes once it has been Ok for the whole window (`close_settled`, run with the
reminders). Only a subject's own trouble counts: a deployment that was in Error and is now
Gone opens a new episode; a group member or an episode closed for a reason is not reopened.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.alerting.episodes import close_and_announce, remediates
from handlers.alerting.remediation import REMEDY
from handlers.alerting.staging import enqueue_for_episode, remediation_of
from handlers.render.alert_messages import (
    CREDIT_ON_SUCCESS,
    REMEDIATED,
    REQUESTS_BEFORE_REOPEN,
    details_of,
    render_episode,
)
from handlers.render.alert_notes import thread_note
from storage.alerts import AlertEpisode, EpisodeState, last_closed_episode, open_episodes
from storage.outbox import OutboxKind


async def reopen_flapping(
    session: AsyncSession,
    subject: str,
    kind: str,
    now: datetime,
    window: float,
    severity: str | None = None,
    remedy: dict[str, Any] | None = None,
) -> AlertEpisode | None:
    """Reopen the subject's last episode, marked flapping, if it recovered less than `window`
    seconds ago (and was of `kind`, and of `severity` when given); None otherwise. The caller
    then handles the breach as one more in an open episode.

    It is new trouble: it offers `remedy` (learnt again now, as for an opening: the live
    version may have moved; none if Wallaroo could not say), and the remediation of the
    earlier trouble, if over, is neither shown nor credited again."""
    if window <= 0:
        return None
    last = await last_closed_episode(session, subject)
    if last is None or last.closed_at is None or last.message_ts is None or last.kind != kind:
        return None
    detail = details_of(last)
    if detail.get("closed_reason") or detail.get("group") or detail.get("settled"):
        return None
    if severity is not None and last.severity != severity:
        return None
    if (now - last.closed_at).total_seconds() > window:
        return None
    detail["flapping"], detail["flips"] = True, int(detail.get("flips", 0)) + 1
    await _forget_remediation(session, last, detail, remedy)
    last.state, last.closed_at, last.detail = EpisodeState.OPEN, None, json.dumps(detail)
    session.add(last)
    await session.flush()  # open again before anything else of the subject is written
    note = ":repeat: In trouble again soon after recovering: *flapping*. This episode stays open."
    await enqueue_for_episode(session, last, OutboxKind.THREAD, thread_note(note))
    return last


async def _forget_remediation(
    session: AsyncSession,
    episode: AlertEpisode,
    detail: dict[str, Any],
    remedy: dict[str, Any] | None,
) -> None:
    """Into `detail`: the new remedy, no "remediated", and the linked request that is over
    (done, or ended without changing anything) as the last of the earlier trouble's. One
    still pending or under way stays: it may yet put this trouble right."""
    detail.pop(REMEDIATED, None)
    detail.pop(CREDIT_ON_SUCCESS, None)
    if remedy:
        detail[REMEDY] = remedy
    else:
        detail.pop(REMEDY, None)
    request = await remediation_of(session, episode)
    if request is not None and (request.current_state.is_final or remediates(request)):
        detail[REQUESTS_BEFORE_REOPEN] = request.id


def breached_again(episode: AlertEpisode) -> None:
    """A breach while a flapping episode was Ok: it is no longer Ok, one more flip."""
    detail = details_of(episode)
    if detail.pop("ok_since", None) is not None:
        detail["flips"] = int(detail.get("flips", 0)) + 1
        episode.detail = json.dumps(detail)


async def hold_if_flapping(session: AsyncSession, episode: AlertEpisode, now: datetime) -> bool:
    """A recovery of a flapping episode: it stays open, noting since when it is Ok (True);
    False for an episode that is not flapping (the caller closes it)."""
    detail = details_of(episode)
    if not detail.get("flapping"):
        return False
    if not detail.get("ok_since"):
        detail["ok_since"] = now.isoformat()
        episode.detail = json.dumps(detail)
        session.add(episode)
        await enqueue_for_episode(session, episode, OutboxKind.UPDATE, render_episode(episode, now))
    return True


async def close_settled(session: AsyncSession, now: datetime, window: float) -> int:
    """Close the flapping episodes Ok for the whole window (the caller commits)."""
    closed = 0
    for episode in await open_episodes(session):
        detail = details_of(episode)
        ok_since = detail.get("ok_since")
        if not detail.get("flapping") or not ok_since:
            continue
        if (now - datetime.fromisoformat(ok_since)).total_seconds() < window:
            continue
        detail["settled"] = True
        episode.detail = json.dumps(detail)
        note = thread_note(":white_check_mark: Ok for the whole flapping window: episode closed.")
        await close_and_announce(session, episode, note, now, recovered=True)
        closed += 1
    return closed
