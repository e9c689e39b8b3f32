"""access list | access grant @user ROLE | access revoke @user ROLE.

A role comes from one of two places: CHATOPS_ADMINS (the bot's settings, which chat cannot
change) or a grant made in chat. Replies say which, so a revoke that cannot work says why.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.chat import ChatError
from handlers.commands.arguments_chatops import AccessGrant, AccessList, AccessRevoke
from handlers.context import Answer, CommandProblem, Context
from handlers.render.blocks import error_reply, list_reply, ok_reply
from handlers.render.mrkdwn import USER_FORMS, UserRef, code, escape, shorten, user_mention
from handlers.render.times import when
from storage.audit import Outcome
from storage.roles import Role, grant_role, list_grants, revoke_role

FROM_SETTINGS = "from CHATOPS_ADMINS (the bot's settings)"


async def grant(ctx: Context, args: AccessGrant) -> Answer:
    user_id = await resolve_user(ctx, args.user)
    async with ctx.services.sessions() as session:
        changed = await grant_role(session, user_id, args.role, ctx.actor.user_id)
    return _granted_or_revoked(ctx, user_id, args.role, "now has" if changed else "already had")


async def revoke(ctx: Context, args: AccessRevoke) -> Answer:
    user_id, role = await resolve_user(ctx, args.user), args.role
    async with ctx.services.sessions() as session:
        if role is Role.ADMIN and await _is_last_admin(session, ctx, user_id):
            return Answer(
                error_reply(
                    f"{user_mention(user_id)} is the last admin, so the admin role stays: "
                    "nobody could grant roles or fix access after it.",
                    "Grant someone else the admin role first.",
                ),
                target=f"user {user_id} role {role}",
                outcome=Outcome.REFUSED,
            )
        changed = await revoke_role(session, user_id, role)
        await session.commit()
    if role is Role.ADMIN and user_id in ctx.services.admins:
        removed = " Their admin role granted in chat is removed; they" if changed else " They"
        return Answer(
            error_reply(
                f"{user_mention(user_id)} is an admin {FROM_SETTINGS}, which cannot be revoked "
                f"from chat.{removed} stay admin while CHATOPS_ADMINS names them.",
                "Remove them from CHATOPS_ADMINS and restart the bot.",
            ),
            target=f"user {user_id} role {role}",
            outcome=Outcome.REFUSED,
        )
    return _granted_or_revoked(ctx, user_id, role, "no longer has" if changed else "did not have")


async def _is_last_admin(session: AsyncSession, ctx: Context, user_id: str) -> bool:
    """True when `user_id` is an admin and nobody else is (CHATOPS_ADMINS count too)."""
    grants = await list_grants(session)
    admins = set(ctx.services.admins) | {g.slack_user_id for g in grants if g.role == Role.ADMIN}
    return admins == {user_id}


def _granted_or_revoked(ctx: Context, user_id: str, role: Role, message: str) -> Answer:
    reply = f"{user_mention(user_id)} {message} the *{role}* role."
    if user_id in ctx.services.admins:
        reply += f" They are admin anyway, {FROM_SETTINGS}."
    return Answer(ok_reply(reply), target=f"user {user_id} role {role}")


async def listing(ctx: Context, args: AccessList) -> Answer:
    """Who holds which role, and where it comes from."""
    async with ctx.services.sessions() as session:
        grants = await list_grants(session)
    admins = sorted(ctx.services.admins)
    rows = [f"{user_mention(a)}  ·  admin  ·  {FROM_SETTINGS}" for a in admins]
    rows += [
        f"{user_mention(g.slack_user_id)}  ·  {escape(g.role)}  ·  granted in chat by "
        f"{user_mention(g.granted_by)} on {when(g.granted_at)}"
        for g in grants
    ]
    return Answer(
        list_reply("Access", rows, empty="Nobody has a role; everyone is a viewer.", page=args.page)
    )


async def resolve_user(ctx: Context, user: UserRef) -> str:
    """The id of the user a command names: given (`<@U123|jane>`, `U123`), or looked up by
    `@name` through the chat (Slack's users; in the console a user is their own id)."""
    if user.id is not None:
        return user.id
    name = user.name or ""
    shown = code(f"@{shorten(name)}")
    hint = f"Write the user as {USER_FORMS}."
    try:
        ids = await ctx.services.chat.users_named(name)
    except ChatError as exc:
        raise CommandProblem(f"I could not look up {shown}: {escape(exc)}.", hint) from exc
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise CommandProblem(f"Slack has no user named {shown}.", hint)
    listed = ", ".join(code(found) for found in ids[:10])
    raise CommandProblem(
        f"{len(ids)} Slack users could be {shown}: {listed}.",
        "Mention the one you mean (`&lt;@U123|name&gt;`), or give their id.",
    )
