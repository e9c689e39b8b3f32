"""Closing an episode for a reason other than recovery: its subject is no longer watched,
the assay was disabled, the deployment was undeployed through the bot. The message then says
so, loses its buttons, and no reminder follows."""

from __future__ import annotations

import json

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.alerting.outbox import enqueue_for_episode
from handlers.render.alert_messages import details_of, render_episode, thread_note
from handlers.render.mrkdwn import escape
from storage.alerts import CLOSED, open_episode
from storage.utc import utc_now


async def close_episode(session: AsyncSession, subject: str, reason: str) -> bool:
    """Stage the close of `subject`'s open episode, if any (the caller commits)."""
    episode = await open_episode(session, subject)
    if episode is None:
        return False
    now = utc_now()
    detail = details_of(episode)
    detail["closed_reason"] = reason
    episode.detail = json.dumps(detail)
    episode.state, episode.closed_at = CLOSED, now
    session.add(episode)
    note = thread_note(f":white_circle: {escape(reason)}; this episode is closed.")
    await enqueue_for_episode(session, episode, "thread", note)
    await enqueue_for_episode(session, episode, "update", render_episode(episode, now))
    return True
