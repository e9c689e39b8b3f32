"""users | user invite EMAIL | user activate EMAIL | user deactivate EMAIL."""

from __future__ import annotations

from bot.wallaroo import User, WallarooClient
from handlers.commands.arguments_wallaroo import UserActivate, UserDeactivate, UserInvite, UserList
from handlers.commands.lookup import closest
from handlers.context import Answer, CommandProblem, Context
from handlers.render.blocks import list_reply, ok_reply
from handlers.render.mrkdwn import escape


async def user_by_email(client: WallarooClient, email: str) -> User:
    users = list((await client.query_users()).values())
    for user in users:
        if user.email == email:
            return user
    hint = closest(email, [u.email for u in users if u.email])
    raise CommandProblem(
        f"No Wallaroo user has the email {escape(email)}.",
        f"Did you mean {escape(hint)}?"
        if hint
        else f"Invite them: `/wallaroo user invite {email}`",
    )


async def listing(ctx: Context, args: UserList) -> Answer:
    users = sorted((await ctx.services.wallaroo.query_users()).values(), key=lambda u: u.username)
    rows = [
        f"{':large_green_circle:' if u.enabled else ':white_circle:'} "
        f"{escape(u.email or u.username)}{'' if u.enabled else '  (deactivated)'}"
        for u in users
    ]
    return Answer(list_reply("Wallaroo users", rows, empty="No users.", page=args.page))


async def invite(ctx: Context, args: UserInvite) -> Answer:
    client, email = ctx.services.wallaroo, args.email
    # Invites are not idempotent: look before writing.
    if any(u.email == email for u in (await client.query_users()).values()):
        raise CommandProblem(f"{escape(email)} is already a Wallaroo user.")
    invited = await client.invite_user(email)
    message = f"Invited {escape(email)} to Wallaroo."
    if invited.password_issued:
        # Wallaroo made up a first password; the bot dropped it rather than post it.
        message += (
            " Wallaroo set a temporary password, which I do not show here: they can use"
            " “Forgot password” on the login page, or an admin can set one."
        )
    return Answer(ok_reply(message), target=f"user {email}")


async def activate(ctx: Context, args: UserActivate) -> Answer:
    client, email = ctx.services.wallaroo, args.email
    if (await user_by_email(client, email)).enabled:
        raise CommandProblem(f"{escape(email)} is already active.")
    await client.activate_user(email)
    return Answer(ok_reply(f"Activated {escape(email)}."), target=f"user {email}")


async def deactivate(ctx: Context, args: UserDeactivate) -> Answer:
    client, email = ctx.services.wallaroo, args.email
    if not (await user_by_email(client, email)).enabled:
        raise CommandProblem(f"{escape(email)} is already deactivated.")
    await client.deactivate_user(email)
    return Answer(ok_reply(f"Deactivated {escape(email)}."), target=f"user {email}")
