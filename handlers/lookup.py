"""Workspaces and pipelines by name or id: ambiguity lists the matches, unknowns get a hint."""

from __future__ import annotations

import difflib

from bot.wallaroo import PipelineListing, WallarooClient, Workspace
from handlers.context import CommandProblem
from handlers.mrkdwn import escape


def closest(name: str, candidates: list[str]) -> str | None:
    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.5)
    return matches[0] if matches else None


async def find_workspace(client: WallarooClient, ref: str | int) -> Workspace:
    workspaces = await client.list_workspaces()
    if isinstance(ref, int):
        for workspace in workspaces:
            if workspace.id == ref:
                return workspace
        raise CommandProblem(f"No workspace has id {ref}.", "Try `/wallaroo workspaces`.")
    named = [w for w in workspaces if w.name == ref]
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(str(w.id) for w in named)
        raise CommandProblem(
            f"{len(named)} workspaces are named *{escape(ref)}* (ids {ids}).",
            "Give the id instead of the name.",
        )
    hint = closest(ref, [w.name for w in workspaces])
    raise CommandProblem(
        f"No workspace is named *{escape(ref)}*.",
        f"Did you mean *{escape(hint)}*?" if hint else "Try `/wallaroo workspaces`.",
    )


async def find_pipeline(
    client: WallarooClient, workspace: Workspace, ref: str | int
) -> PipelineListing:
    return pick_pipeline(await client.list_pipelines(workspace.id), workspace, ref)


def pick_pipeline(
    pipelines: list[PipelineListing], workspace: Workspace, ref: str | int
) -> PipelineListing:
    """The pipeline `ref` names among a workspace's pipelines, or a CommandProblem saying so."""
    if isinstance(ref, int):
        for listing in pipelines:
            if listing.pipeline.id == ref:
                return listing
        raise CommandProblem(
            f"No pipeline has id {ref} in *{escape(workspace.name)}*.",
            f"Try `/wallaroo pipelines {workspace.id}`.",
        )
    for listing in pipelines:
        if listing.pipeline.name == ref:
            return listing
    hint = closest(ref, [p.pipeline.name for p in pipelines])
    raise CommandProblem(
        f"No pipeline is named *{escape(ref)}* in *{escape(workspace.name)}*.",
        f"Did you mean *{escape(hint)}*?" if hint else f"Try `/wallaroo pipelines {workspace.id}`.",
    )
