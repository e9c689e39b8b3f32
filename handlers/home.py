"""The App Home tab: what waits for this user (requests they may decide), what is wrong now
(open alert episodes) and what the bot watches."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

from bot.services import Services
from bot.wallaroo import WallarooError
from handlers.alert_messages import summary as episode_summary
from handlers.approvals import decidable, row_of
from handlers.blocks import context, divider, header, section, status_emoji
from handlers.context import Actor
from handlers.mrkdwn import channel_mention, escape
from storage.alerts import all_health, open_episodes
from storage.roles import effective_role
from storage.watches import list_watches

MAX_ROWS = 15  # per section: the tab holds 100 blocks, and a list this long needs a command


async def home_view(services: Services, actor: Actor) -> dict[str, Any]:
    async with services.sessions() as session:
        role = await effective_role(session, actor.user_id, services.admins)
        episodes = await open_episodes(session)
        watches = await list_watches(session)
        health = {h.pipeline_id: h.status for h in await all_health(session)}
    requests = await decidable(services, actor, role)
    blocks: list[Block] = [header("Wallaroo ChatOps"), context(f"You are *{role}*.")]

    blocks += [divider(), section(f"*Requests you may decide* ({len(requests)})")]
    blocks += _rows([row_of(r) for r in requests], "Nothing is waiting for you.", "approvals")

    blocks += [divider(), section(f"*Open alerts* ({len(episodes)})")]
    rows = [f"{status_emoji(e.severity)} {escape(episode_summary(e))}" for e in episodes]
    blocks += _rows(rows, "No open alerts.", None)

    blocks += [divider(), section(f"*Watched deployments* ({len(watches)})")]
    rows = [
        f"{status_emoji(health.get(w.pipeline_id, '?'))} *{escape(w.pipeline_name)}* in "
        f"{escape(w.workspace_name)} → {channel_mention(w.channel)}"
        for w in watches
    ]
    blocks += _rows(rows, "Nothing is watched: `/wallaroo watch WS PIPELINE`.", None)
    return {"type": "home", "blocks": [block.to_dict() for block in blocks]}


def home_unavailable(error: Exception) -> dict[str, Any]:
    """The tab when it could not be built: say so, and what to try."""
    what = "Wallaroo did not answer" if isinstance(error, WallarooError) else "Something failed"
    blocks = [
        header("Wallaroo ChatOps"),
        section(f":warning: {what}, so this page could not be filled in."),
        context("Open the tab again in a minute; `/wallaroo approvals` works meanwhile."),
    ]
    return {"type": "home", "blocks": [block.to_dict() for block in blocks]}


def _rows(rows: list[str], empty: str, command: str | None) -> list[Block]:
    if not rows:
        return [context(empty)]
    shown = [section("\n".join(rows[:MAX_ROWS]))]
    if len(rows) > MAX_ROWS and command:
        shown.append(context(f"{len(rows) - MAX_ROWS} more: `/wallaroo {command}`"))
    elif len(rows) > MAX_ROWS:
        shown.append(context(f"{len(rows) - MAX_ROWS} more not shown."))
    return shown
