"""Storms collapsed: the episodes of one pipeline in one channel share one message, a group
episode (kind `group`, subject `group:<channel>:<pipeline>@<workspace id>`) whose message lists
them. A pipeline is known by its workspace and name (a name is unique in a workspace only).

A group opens when several assays of a pipeline open episodes in the same poll (assays.py
stages them in one transaction), or when an episode of a pipeline opens while another of the
same pipeline is open alone in that channel (a deployment in Error, then its assays drifting;
or the other way round). The episode that was alone is adopted: its message becomes the
group's, edited in place (or, not posted yet, its pending post goes out as the group's), so
the channel still gets one message per pipeline. While a group is open, any new episode of
that pipeline in that channel (another assay, the deployment, a "no data") joins it. A member
keeps its own row, subject, severity, acknowledgement and recovery; only its messages are
redirected (staging.enqueue_for_episode). The group closes with its last open member.

The deployment and assay polls run at once, each episode in its own transaction (and a
replica that lost its lease mid-poll may still be polling): a transaction looks for the
pipeline's group or lone episode only once it holds the pipeline's lock in the database
(storage/locks.py), so the second sees the first's episode and joins it rather than posting
a message of its own. The outbox's sender takes it too when it records a post (outbox_send.py).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.alerting.staging import enqueue_for_episode, group_of, render_current
from handlers.render.alert_messages import details_of
from storage.alerts import (
    AlertEpisode,
    EpisodeKind,
    EpisodeState,
    group_members,
    group_subject,
    mark_closed,
)
from storage.locks import lock_pipeline
from storage.outbox import OutboxKind, OutboxMessage, OutboxState, is_undeliverable


async def open_group(
    session: AsyncSession,
    channel: str,
    pipeline_name: str,
    now: datetime,
    busy: frozenset[str] = frozenset(),
    workspace_id: int | None = None,
) -> AlertEpisode:
    """The pipeline's open group in `channel`; else one formed around the pipeline's lone open
    episode there (not one of the `busy` subjects, whose episodes the caller is about to
    handle: a "no data" that their results end); else a new one with its opening post staged
    (before any member's edit, so the edits wait for it; the post lists the members as they
    are when it is sent). Holds the pipeline's lock from here to the caller's commit."""
    await lock_pipeline(session, pipeline_name)
    found = await _open_group(session, channel, pipeline_name, workspace_id)
    if found is not None:
        return found
    lone = await _lone_episode(session, channel, pipeline_name, workspace_id, busy)
    if lone is not None:
        return await _adopt(session, lone, channel, pipeline_name, workspace_id, now)
    group = _new_group(channel, pipeline_name, workspace_id, now)
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
    """Join the pipeline's group in the episode's channel, if one is open, or the group formed
    around the pipeline's episode open alone there, if there is one. Holds the pipeline's
    lock from here to the caller's commit."""
    if not pipeline_name:
        return False
    await lock_pipeline(session, pipeline_name)
    channel, workspace_id = episode.channel, workspace_of(episode)
    group = await _open_group(session, channel, pipeline_name, workspace_id)
    if group is None:
        lone = await _lone_episode(session, channel, pipeline_name, workspace_id)
        if lone is None:
            return False
        opened = episode.opened_at
        group = await _adopt(session, lone, channel, pipeline_name, workspace_id, opened)
    join(episode, group)
    return True


def pipeline_of(episode: AlertEpisode) -> str:
    """The name of the pipeline an episode is about: a deployment's (or its "no data") and a
    group's is its title, an assay's is in its detail."""
    if episode.subject.startswith("pipeline:") or episode.kind == EpisodeKind.GROUP:
        return episode.title
    return str(details_of(episode).get("pipeline_name") or "")


def workspace_of(episode: AlertEpisode) -> int | None:
    """The id of the workspace of the episode's pipeline; None if it was not known (an assay
    subscribed before subscriptions kept it, migration 0009)."""
    found = details_of(episode).get("workspace_id")
    return int(found) if found is not None else None


def _same_pipeline(episode: AlertEpisode, pipeline_name: str, workspace_id: int | None) -> bool:
    """Whether the episode is about that pipeline: a name is unique within a workspace only,
    so both must agree, unless one side's workspace is not known (then the name decides)."""
    if pipeline_of(episode) != pipeline_name:
        return False
    theirs = workspace_of(episode)
    return workspace_id is None or theirs is None or theirs == workspace_id


async def _open_group(
    session: AsyncSession, channel: str, pipeline_name: str, workspace_id: int | None
) -> AlertEpisode | None:
    """The pipeline's open group in `channel` (by subject: once posted, a group's channel is
    Slack's id for it, which a watch made with a #name does not hold)."""
    subject = group_subject(channel, pipeline_name)
    found = await session.exec(
        select(AlertEpisode)
        .where(
            AlertEpisode.state == EpisodeState.OPEN,
            AlertEpisode.kind == EpisodeKind.GROUP,
            (col(AlertEpisode.subject) == subject)
            | col(AlertEpisode.subject).startswith(f"{subject}@", autoescape=True),
        )
        .order_by(col(AlertEpisode.id))
    )
    return next((g for g in found.all() if _same_pipeline(g, pipeline_name, workspace_id)), None)


async def _lone_episode(
    session: AsyncSession,
    channel: str,
    pipeline_name: str,
    workspace_id: int | None,
    busy: frozenset[str] = frozenset(),
) -> AlertEpisode | None:
    """The pipeline's oldest open episode in `channel` that is in no group and has a message
    of its own, posted or still to be posted (one Slack refused for good has none)."""
    named = json.dumps({"pipeline_name": pipeline_name})[1:-1]  # as the detail's JSON holds it
    found = await session.exec(
        select(AlertEpisode)
        .where(
            AlertEpisode.state == EpisodeState.OPEN,
            AlertEpisode.channel == channel,
            AlertEpisode.kind != EpisodeKind.GROUP,
            (col(AlertEpisode.title) == pipeline_name)
            | col(AlertEpisode.detail).contains(named, autoescape=True),
        )
        .order_by(col(AlertEpisode.id))
    )
    for episode in found.all():
        if not _same_pipeline(episode, pipeline_name, workspace_id):
            continue
        if "group" in details_of(episode) or episode.subject in busy:
            continue
        if episode.id is None or await is_undeliverable(session, episode.id):
            continue
        if episode.message_ts is not None or await _pending_post(session, episode.id):
            return episode
    return None


async def _pending_post(session: AsyncSession, episode_id: int) -> bool:
    found = await session.exec(
        select(OutboxMessage.id).where(
            col(OutboxMessage.episode_id) == episode_id,
            col(OutboxMessage.kind) == OutboxKind.POST,
            col(OutboxMessage.state) == OutboxState.PENDING,
        )
    )
    return found.first() is not None


async def _adopt(
    session: AsyncSession,
    lone: AlertEpisode,
    channel: str,
    pipeline_name: str,
    workspace_id: int | None,
    now: datetime,
) -> AlertEpisode:
    """A group formed around `lone`: its message (or its pending post) becomes the group's,
    its pending edits give way to the group's; the caller's member joins next."""
    known = workspace_of(lone) if workspace_id is None else workspace_id
    group = _new_group(channel, pipeline_name, known, lone.opened_at)
    group.channel, group.message_ts = lone.channel, lone.message_ts
    session.add(group)
    await session.flush()
    join(lone, group)
    session.add(lone)
    pending = [
        col(OutboxMessage.episode_id) == lone.id,
        col(OutboxMessage.state) == OutboxState.PENDING,
    ]
    # Its opening, not sent yet, goes out as the group's (rendered then, listing the members);
    # one already tried keeps its key (outbox-<row id>), so a post that landed is found.
    await session.exec(
        update(OutboxMessage)
        .where(*pending, col(OutboxMessage.kind) == OutboxKind.POST)
        .values(episode_id=group.id)
    )
    await session.exec(
        update(OutboxMessage)
        .where(*pending, col(OutboxMessage.kind) == OutboxKind.UPDATE)
        .values(state=OutboxState.SUPERSEDED)
    )
    if group.message_ts is not None:  # posted: edited in place into the group's message
        await enqueue_for_episode(
            session, group, OutboxKind.UPDATE, await render_current(session, group, now)
        )
    return group


def _new_group(
    channel: str, pipeline_name: str, workspace_id: int | None, opened_at: datetime
) -> AlertEpisode:
    # Its subject names the workspace when known: same-named pipelines of two workspaces in
    # one channel are two groups (one open per subject).
    key = pipeline_name if workspace_id is None else f"{pipeline_name}@{workspace_id}"
    detail = {} if workspace_id is None else {"workspace_id": workspace_id}
    return AlertEpisode(
        kind=EpisodeKind.GROUP,
        subject=group_subject(channel, key),
        title=pipeline_name,
        channel=channel,
        severity="Alert",
        detail=json.dumps(detail),
        opened_at=opened_at,
    )


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
