"""`approvals` lists the requests waiting for a decision; `approve ID` and `reject ID [reason]`
decide one, as the buttons do (handlers/approvals/requests.py decides)."""

from __future__ import annotations

from handlers.approvals.checks import DECIDERS
from handlers.approvals.requests import Verdict, decidable, decide
from handlers.commands.arguments_chatops import ApprovalList, Approve, Reject
from handlers.context import Answer, Context
from handlers.render.approval_messages import row_of
from handlers.render.blocks import list_reply
from storage.approvals import pending_requests
from storage.roles import allows


async def approve(ctx: Context, args: Approve) -> Answer:
    verdict = Verdict(approve=True)
    return await decide(ctx.services, ctx.actor, ctx.role, args.request_id, verdict)


async def reject(ctx: Context, args: Reject) -> Answer:
    verdict = Verdict(approve=False, reason=args.reason or "")
    return await decide(ctx.services, ctx.actor, ctx.role, args.request_id, verdict)


async def listing(ctx: Context, args: ApprovalList) -> Answer:
    """Pending requests this user may decide (not their own; in their workspaces if required)."""
    async with ctx.services.sessions() as session:
        now = ctx.services.clock()
        pending = await pending_requests(session, now)
    if not allows(ctx.role, DECIDERS):
        mine = [r for r in pending if r.requester_id == ctx.actor.user_id]
        rows = [row_of(r, now) + " _(yours; waiting for an approver)_" for r in mine]
        empty = "You have no pending requests, and deciding needs the *approver* role."
        return Answer(list_reply("Your pending requests", rows, empty=empty))
    rows = [row_of(r, now) for r in await decidable(ctx.services, ctx.actor, ctx.role, pending)]
    return Answer(list_reply("Requests you may decide", rows, empty="Nothing is waiting for you."))
