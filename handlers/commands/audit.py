"""audit [N]: the latest entries of the audit log, for admins."""

from __future__ import annotations

from handlers.commands.arguments_chatops import AuditList
from handlers.context import Answer, Context
from handlers.render.blocks import list_reply
from handlers.render.mrkdwn import escape, user_mention
from handlers.render.times import when
from storage.audit import Outcome, recent_entries

DEFAULT_ENTRIES, MAX_ENTRIES = 20, 200

OUTCOME_EMOJI: dict[str, str] = {
    Outcome.OK: ":white_check_mark:",
    Outcome.REFUSED: ":no_entry:",
    Outcome.INVALID: ":grey_question:",
    Outcome.ERROR: ":x:",
}


async def listing(ctx: Context, args: AuditList) -> Answer:
    # One page holds them all (MAX_ENTRIES), so `page` has nothing to turn.
    n = min(args.n or DEFAULT_ENTRIES, MAX_ENTRIES)
    async with ctx.services.sessions() as session:
        entries = await recent_entries(session, n)
    rows = [
        f"{OUTCOME_EMOJI.get(e.outcome, '')} {when(e.at)}  ·  "
        f"{user_mention(e.slack_user_id)}  ·  `{escape(e.command_text)}`  ·  {escape(e.outcome)}"
        + (f"  ·  {escape(e.wallaroo_error)}" if e.wallaroo_error else "")
        for e in entries
    ]
    return Answer(
        list_reply(
            f"Audit log: latest {len(rows)}", rows, empty="The log is empty.", per_page=MAX_ENTRIES
        )
    )
