"""What goes into the outbox and comes back out of it: an episode's messages staged in the
same transaction as the change they announce (nothing for a channel given up for good), a
Reply stored as plain data and read back, and closing an episode whose opening post never went
out. `outbox.py` delivers what is staged here."""

from __future__ import annotations

from slack_sdk.models.blocks import Block
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.render.blocks import Reply
from storage.alerts import AlertEpisode, get_episode, mark_closed
from storage.outbox import OutboxKind, enqueue, is_undeliverable
from storage.utc import utc_now


async def close_unposted(session: AsyncSession, episode_id: int) -> None:
    """Close an episode whose opening message Slack never took (the caller commits); the next
    breach then opens a new one, with a new message, instead of editing nothing."""
    episode = await get_episode(session, episode_id)
    if episode is not None and episode.is_open:
        mark_closed(session, episode, utc_now())


async def enqueue_for_episode(
    session: AsyncSession, episode: AlertEpisode, kind: OutboxKind, reply: Reply
) -> None:
    """Stage a message about an episode: its opening post, an edit, or a thread reply;
    nothing for an episode whose opening post Slack refused for good."""
    if episode.id is not None and await is_undeliverable(session, episode.id):
        return
    await enqueue(
        session, channel=episode.channel, kind=kind, episode_id=episode.id, message=stored(reply)
    )


def stored(reply: Reply) -> dict:
    """A Reply as the outbox keeps it: its plain text (escaped when sent) and its blocks."""
    return {"text": reply.text, "blocks": [block.to_dict() for block in reply.blocks]}


def as_reply(message: dict) -> Reply:
    """The stored message back as a Reply."""
    blocks = [b for b in (Block.parse(raw) for raw in message.get("blocks", [])) if b is not None]
    return Reply(text=message.get("text", ""), blocks=blocks, ephemeral=False)
