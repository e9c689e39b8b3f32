"""help [area] and features."""

from __future__ import annotations

from handlers.blocks import list_reply
from handlers.commands import help_lines
from handlers.context import Context, Outcome
from handlers.grammar import Command
from handlers.mrkdwn import escape


async def run(ctx: Context, cmd: Command) -> Outcome:
    if cmd.area == "features":
        features = await ctx.services.wallaroo.list_features()
        rows = [f"*{escape(k)}*: {escape(v)}" for k, v in sorted(features.features.items())]
        rows.append(f"authentication: {'on' if features.is_auth_enabled else 'off'}")
        return Outcome(list_reply(f"Features of {features.name}", rows, empty="No features."))
    area = cmd.args.get("area")
    lines = [f"`{escape(line)}`" for line in help_lines(str(area) if area else None)]
    title = f"/wallaroo {area}" if area else "/wallaroo commands"
    return Outcome(list_reply(title, lines, empty="No such area.", per_page=60))
