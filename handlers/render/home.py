"""The App Home tab: what waits for this user (requests they may decide), what is wrong now
(open alert episodes) and what the bot watches; or, when that cannot be read, what to try."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.wallaroo import WallarooError
from handlers.render.alert_messages import summary as episode_summary
from handlers.render.approval_messages import row_of
from handlers.render.blocks import context, divider, header, section, status_emoji
from handlers.render.modals import HOME_DEPLOY_ACTION
from handlers.render.mrkdwn import channel_mention, escape
from storage.alerts import AlertEpisode
from storage.approvals import ApprovalRequest
from storage.roles import Role, allows
from storage.watches import DeploymentWatch

MAX_ROWS = 15  # per section: the tab holds 100 blocks, and a list this long needs a command


def home_page(
    role: Role,
    requests: list[ApprovalRequest],
    episodes: list[AlertEpisode],
    watches: list[DeploymentWatch],
    health: dict[int, str],
) -> dict[str, Any]:
    blocks: list[Block] = [header("Wallaroo ChatOps"), context(f"You are *{role}*.")]
    if allows(role, Role.OPERATOR):  # what a viewer could not submit is not offered
        button = ButtonElement(text="Request a deploy", action_id=HOME_DEPLOY_ACTION)
        blocks.append(ActionsBlock(block_id="home_actions", elements=[button]))

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
    shown: list[Block] = [section("\n".join(rows[:MAX_ROWS]))]
    if len(rows) > MAX_ROWS and command:
        shown.append(context(f"{len(rows) - MAX_ROWS} more: `/wallaroo {command}`"))
    elif len(rows) > MAX_ROWS:
        shown.append(context(f"{len(rows) - MAX_ROWS} more not shown."))
    return shown
