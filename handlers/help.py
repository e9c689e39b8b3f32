"""help [area] and features."""

from __future__ import annotations

from handlers.blocks import list_reply
from handlers.commands import TOPICS, help_lines
from handlers.context import Context, Outcome
from handlers.grammar import Command
from handlers.mrkdwn import escape

# Where an assay ID appears (assays, subscriptions), help says what one looks like.
ASSAY_ID_NOTE = (
    "_ID_ is a v1 assay's number (`3`) or a v2 assay's UUID; its first 6 or more characters "
    "will do (`3fa85f`). Replies show a v2 id's first 8."
)


async def run(ctx: Context, cmd: Command) -> Outcome:
    if cmd.area == "features":
        features = await ctx.services.wallaroo.list_features()
        rows = [f"*{escape(k)}*: {escape(v)}" for k, v in sorted(features.features.items())]
        rows.append(f"authentication: {'on' if features.is_auth_enabled else 'off'}")
        return Outcome(list_reply(f"Features of {features.name}", rows, empty="No features."))
    area = cmd.args.get("area")
    lines = [f"`{escape(line)}`" for line in help_lines(str(area) if area else None)]
    if lines and (not area or TOPICS.get(str(area).strip().lower()) in ("assays", "watches")):
        lines.append(ASSAY_ID_NOTE)
    title = f"/wallaroo {area}" if area else "/wallaroo commands"
    return Outcome(list_reply(title, lines, empty="No such area.", per_page=60))
