"""`approvals` lists the requests waiting for a decision; `approve ID` and `reject ID [reason]`
decide one, as the buttons do (handlers/approvals/requests.py decides)."""

from __future__ import annotations

from handlers.approvals.checks import DECIDERS
from handlers.approvals.requests import Verdict, decidable, decide
from handlers.commands.grammar import Command
from handlers.context import Answer, Context
from handlers.render.approval_messages import row_of
from handlers.render.blocks import list_reply
from storage.approvals import pending_requests
from storage.roles import allows
from storage.utc import utc_now


async def run(ctx: Context, cmd: Command) -> Answer:
    if cmd.action == "list":
        return await _list(ctx)
    verdict = Verdict(approve=cmd.action == "approve", reason=str(cmd.args.get("reason") or ""))
    return await decide(ctx.services, ctx.actor, ctx.role, int(cmd.args["request_id"]), verdict)


async def _list(ctx: Context) -> Answer:
    """Pending requests this user may decide (not their own; in their workspaces if required)."""
    async with ctx.services.sessions() as session:
        pending = await pending_requests(session, utc_now())
    if not allows(ctx.role, DECIDERS):
        mine = [r for r in pending if r.requester_id == ctx.actor.user_id]
        rows = [row_of(r) + " _(yours; waiting for an approver)_" for r in mine]
        empty = "You have no pending requests, and deciding needs the *approver* role."
        return Answer(list_reply("Your pending requests", rows, empty=empty))
    rows = [row_of(r) for r in await decidable(ctx.services, ctx.actor, ctx.role, pending)]
    return Answer(list_reply("Requests you may decide", rows, empty="Nothing is waiting for you."))
