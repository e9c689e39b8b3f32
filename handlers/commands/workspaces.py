"""workspaces | workspace create NAME | workspace users WS | workspace add-user | remove-user."""

from __future__ import annotations

from bot.wallaroo import User, Workspace
from handlers.commands.arguments_wallaroo import (
    WorkspaceAddUser,
    WorkspaceCreate,
    WorkspaceList,
    WorkspaceRemoveUser,
    WorkspaceUsers,
)
from handlers.commands.lookup import find_workspace
from handlers.commands.users import user_by_email
from handlers.context import Answer, CommandProblem, Context
from handlers.render.blocks import list_reply, ok_reply
from handlers.render.mrkdwn import escape, named


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


async def listing(ctx: Context, args: WorkspaceList) -> Answer:
    workspaces = await ctx.services.wallaroo.list_workspaces()
    rows = [
        f"*{escape(w.name)}*  ·  id {w.id}  ·  {counted(len(w.pipelines), 'pipeline')}, "
        f"{counted(len(w.models), 'model')}"
        for w in workspaces
    ]
    return Answer(
        list_reply(
            "Workspaces",
            rows,
            empty="No workspaces yet. Create one with `/wallaroo workspace create NAME`.",
            page=args.page,
        )
    )


async def create(ctx: Context, args: WorkspaceCreate) -> Answer:
    client, name = ctx.services.wallaroo, args.name
    existing = [w for w in await client.list_workspaces() if w.name == name]
    if existing:
        raise CommandProblem(
            f"A workspace named {named(name)} already exists (id {existing[0].id}).",
            "Pick another name.",
        )
    workspace_id = await client.create_workspace(name)
    return Answer(
        ok_reply(f"Created workspace {named(name)} (id {workspace_id})."),
        target=f"workspace {name}",
    )


async def users(ctx: Context, args: WorkspaceUsers) -> Answer:
    client = ctx.services.wallaroo
    workspace = await find_workspace(client, args.workspace)
    members = await client.list_workspace_users(workspace.id)
    known = await client.query_users([m.user_id for m in members])
    rows = []
    for member in members:
        user = known.get(member.user_id)
        who = (user.email or user.username) if user else member.user_id
        # Today's answers may not say which kind of member someone is.
        kind = member.user_type.lower() if member.user_type else "member"
        rows.append(f"{escape(who)}  ·  {escape(kind)}")
    return Answer(
        list_reply(
            f"Members of {workspace.name}",
            rows,
            empty="This workspace has no members.",
            page=args.page,
        ),
        target=f"workspace {workspace.name}",
    )


async def add_user(ctx: Context, args: WorkspaceAddUser) -> Answer:
    workspace, user, members = await _membership(ctx, args.workspace, args.email)
    email = args.email
    if user.id in members:
        raise CommandProblem(f"{escape(email)} is already in *{escape(workspace.name)}*.")
    user_type = args.user_type or "collaborator"
    await ctx.services.wallaroo.add_user_to_workspace(workspace.id, email, user_type.upper())
    return Answer(
        ok_reply(f"Added {escape(email)} to *{escape(workspace.name)}* as {user_type.lower()}."),
        target=f"workspace {workspace.name} user {email}",
    )


async def remove_user(ctx: Context, args: WorkspaceRemoveUser) -> Answer:
    workspace, user, members = await _membership(ctx, args.workspace, args.email)
    email = args.email
    if user.id not in members:
        raise CommandProblem(f"{escape(email)} is not in *{escape(workspace.name)}*.")
    await ctx.services.wallaroo.remove_user_from_workspace(workspace.id, email=email)
    return Answer(
        ok_reply(f"Removed {escape(email)} from *{escape(workspace.name)}*."),
        target=f"workspace {workspace.name} user {email}",
    )


async def _membership(ctx: Context, ref: str | int, email: str) -> tuple[Workspace, User, set[str]]:
    """The workspace, the Wallaroo user with that email, and the ids of the workspace's members
    (the workspace first: an unknown one is said before an unknown email)."""
    client = ctx.services.wallaroo
    workspace = await find_workspace(client, ref)
    user = await user_by_email(client, email)
    members = {m.user_id for m in await client.list_workspace_users(workspace.id)}
    return workspace, user, members
