"""Storms collapsed: the episodes of one pipeline in one channel share one message, a group
episode (kind `group`, subject `group:<channel>:<pipeline>`) whose message lists them.

A group opens when several assays of a pipeline open episodes in the same poll (assays.py
stages them in one transaction); while it is open, any new episode of that pipeline in that
channel (another assay, the deployment, a "no data") joins it. A member keeps its own row,
subject, severity, acknowledgement and recovery; only its messages are redirected
(staging.enqueue_for_episode). The group closes with its last open member.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.alerting.staging import enqueue_for_episode, group_of, render_current
from handlers.render.alert_messages import details_of
from storage.alerts import (
    AlertEpisode,
    EpisodeKind,
    group_members,
    group_subject,
    mark_closed,
    open_episode,
)
from storage.outbox import OutboxKind


async def open_group(
    session: AsyncSession, channel: str, pipeline_name: str, now: datetime
) -> AlertEpisode:
    """The pipeline's open group in `channel`, or a new one with its opening post staged
    (before any member's edit, so the edits wait for it; the post lists the members as they
    are when it is sent)."""
    found = await open_episode(session, group_subject(channel, pipeline_name))
    if found is not None:
        return found
    group = AlertEpisode(
        kind=EpisodeKind.GROUP,
        subject=group_subject(channel, pipeline_name),
        title=pipeline_name,
        channel=channel,
        severity="Alert",
        detail="{}",
        opened_at=now,
    )
    session.add(group)
    await session.flush()
    await enqueue_for_episode(
        session, group, OutboxKind.POST, await render_current(session, group, now)
    )
    return group


def join(episode: AlertEpisode, group: AlertEpisode) -> None:
    """Make a new (not yet staged) episode a member of `group`: its messages are the
    group's."""
    detail = details_of(episode)
    detail["group"] = str(group.id)
    episode.detail = json.dumps(detail)
    episode.channel, episode.message_ts = group.channel, group.message_ts


async def join_open_group(session: AsyncSession, episode: AlertEpisode, pipeline_name: str) -> bool:
    """Join the pipeline's group in the episode's channel, if one is open."""
    if not pipeline_name:
        return False
    group = await open_episode(session, group_subject(episode.channel, pipeline_name))
    if group is None:
        return False
    join(episode, group)
    return True


async def close_group_if_done(session: AsyncSession, member: AlertEpisode, now: datetime) -> None:
    """After `member` closed: close its group if no other member is open (the caller
    commits); the group's message then reads "all recovered", without buttons."""
    group = await group_of(session, member)
    if group is None or not group.is_open or group.id is None:
        return
    members = await group_members(session, group.id)
    if any(m.is_open and m.id != member.id for m in members):
        return
    mark_closed(session, group, now)
    await enqueue_for_episode(
        session, group, OutboxKind.UPDATE, await render_current(session, group, now)
    )
