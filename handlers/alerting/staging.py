"""What goes into the outbox and comes back out of it: an episode's messages staged in the
same transaction as the change they announce (nothing for a channel given up for good), a
Reply stored as plain data and read back, and closing an episode whose opening post never went
out. `outbox.py` delivers what is staged here.

A member of a group (a storm, handlers/alerting/groups.py) has no message of its own: its
opening and edits are staged as an edit of its group's message, its thread replies go to the
group's thread, named. The group's message is rendered at send time (`render_current`)."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.render.alert_groups import render_group
from handlers.render.alert_messages import REQUESTS_BEFORE_REOPEN, details_of, render_episode
from handlers.render.alert_notes import thread_note
from handlers.render.blocks import Reply
from handlers.render.mrkdwn import escape
from storage.alerts import AlertEpisode, EpisodeKind, get_episode, group_members, mark_closed
from storage.approvals import ApprovalRequest
from storage.outbox import OutboxKind, enqueue, is_undeliverable
from storage.utc import utc_now


async def close_unposted(session: AsyncSession, episode_id: int) -> None:
    """Close an episode whose opening message Slack never took (the caller commits); the next
    breach then opens a new one, with a new message, instead of editing nothing."""
    episode = await get_episode(session, episode_id)
    if episode is not None and episode.is_open:
        mark_closed(session, episode, utc_now())
        if episode.kind == EpisodeKind.GROUP:  # its members were never seen either
            for member in await group_members(session, episode_id):
                if member.is_open:
                    mark_closed(session, member, utc_now())


async def enqueue_for_episode(
    session: AsyncSession, episode: AlertEpisode, kind: OutboxKind, reply: Reply
) -> None:
    """Stage a message about an episode: its opening post, an edit, or a thread reply;
    nothing for an episode whose opening post Slack refused for good."""
    if episode.id is not None and await is_undeliverable(session, episode.id):
        return
    group = await group_of(session, episode)
    if group is not None:
        if kind == OutboxKind.THREAD:
            named = thread_note(f"*{escape(episode.title)}*: {reply.text}")
            await enqueue_for_episode(session, group, kind, named)
        # (A member's chart is staged as its group's, assay_results.py: no file comes here.)
        elif kind != OutboxKind.UPLOAD:  # its opening or an edit: the group's line changes
            now = utc_now()  # only the stored fallback: the edit is rendered when sent
            await enqueue_for_episode(
                session, group, OutboxKind.UPDATE, await render_current(session, group, now)
            )
        return
    await enqueue(
        session, channel=episode.channel, kind=kind, episode_id=episode.id, message=stored(reply)
    )


async def group_of(session: AsyncSession, episode: AlertEpisode) -> AlertEpisode | None:
    """The group whose message shows `episode`, if it is a member of one."""
    group_id = details_of(episode).get("group")
    return await get_episode(session, int(group_id)) if group_id else None


async def render_current(session: AsyncSession, episode: AlertEpisode, now: datetime) -> Reply:
    """The episode's message as it reads now, with the remediation its buttons asked for (its
    linked approval request as it is now); a group's lists its members."""
    if episode.kind == EpisodeKind.GROUP and episode.id is not None:
        members = await group_members(session, episode.id)
        remediations = {m.id: await remediation_of(session, m) for m in members}
        return render_group(episode, members, now, remediations)
    return render_episode(episode, now, await remediation_of(session, episode))


async def remediation_of(session: AsyncSession, episode: AlertEpisode) -> ApprovalRequest | None:
    """The latest approval request an alert's Roll back / Undeploy made for the episode
    since it last reopened: the requests over by then (`REQUESTS_BEFORE_REOPEN`, flapping.py)
    were the earlier trouble's, neither shown nor credited again."""
    if episode.id is None:
        return None
    query = select(ApprovalRequest).where(col(ApprovalRequest.episode_id) == episode.id)
    before = details_of(episode).get(REQUESTS_BEFORE_REOPEN)
    if before is not None:
        query = query.where(col(ApprovalRequest.id) > int(before))
    found = await session.exec(query.order_by(col(ApprovalRequest.id).desc()))
    return found.first()


def stored(reply: Reply) -> dict:
    """A Reply as the outbox keeps it: its plain text (escaped when sent) and its blocks."""
    return {"text": reply.text, "blocks": [block.to_dict() for block in reply.blocks]}


def as_reply(message: dict) -> Reply:
    """The stored message back as a Reply."""
    blocks = [b for b in (Block.parse(raw) for raw in message.get("blocks", [])) if b is not None]
    return Reply(text=message.get("text", ""), blocks=blocks, ephemeral=False)
