"""access list | access grant @user ROLE | access revoke @user ROLE."""

from __future__ import annotations

from handlers.blocks import list_reply, ok_reply
from handlers.context import CommandProblem, Context, Outcome, page_of
from handlers.grammar import Command
from handlers.mrkdwn import escape, user_mention
from storage.roles import Role, grant_role, list_grants, revoke_role


async def run(ctx: Context, cmd: Command) -> Outcome:
    services = ctx.services
    if cmd.action == "list":
        async with services.sessions() as session:
            grants = await list_grants(session)
        rows = [f"{user_mention(a)}  ·  admin (CHATOPS_ADMINS)" for a in sorted(services.admins)]
        rows += [
            f"{user_mention(g.slack_user_id)}  ·  {escape(g.role)}  ·  "
            f"granted by {user_mention(g.granted_by)}"
            for g in grants
        ]
        return Outcome(
            list_reply(
                "Access",
                rows,
                empty="Nobody has a role; everyone is a viewer.",
                page=page_of(cmd.args),
            )
        )

    user = cmd.args["user"]
    if user.id is None:
        raise CommandProblem(
            f"I need a Slack user id for @{escape(user.name)}.",
            "Mention the user in Slack, or give the id (U…) in the console.",
        )
    role = Role(str(cmd.args["role"]))
    async with services.sessions() as session:
        if cmd.action == "grant":
            changed = await grant_role(session, user.id, role, ctx.actor.user_id)
            message = "now has" if changed else "already had"
        else:
            changed = await revoke_role(session, user.id, role)
            message = "no longer has" if changed else "did not have"
    return Outcome(
        ok_reply(f"{user_mention(user.id)} {message} the *{role}* role."),
        target=f"user {user.id} role {role}",
    )
