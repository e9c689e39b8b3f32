"""Workspaces and pipelines by name or id: ambiguity lists the matches, unknowns get a hint.

Names match exactly first; a name that matches no one exactly but exactly one in another case
(`HOUSEPRICEDRIFT`) is that one, since Wallaroo's names are lower case and nobody means a
different workspace by shouting. Several that differ only in case are listed, never guessed.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TypeVar

from bot.wallaroo import PipelineListing, WallarooClient, Workspace
from handlers.context import CommandProblem
from handlers.mrkdwn import named

T = TypeVar("T")


def closest(name: str, candidates: list[str]) -> str | None:
    """The candidate most like `name`, case aside; None when none is close."""
    by_folded = {candidate.casefold(): candidate for candidate in candidates}
    matches = difflib.get_close_matches(name.casefold(), list(by_folded), n=1, cutoff=0.5)
    return by_folded[matches[0]] if matches else None


def by_name(items: list[T], name: str, name_of: Callable[[T], str]) -> list[T]:
    """The items named `name`: the exact matches, else those that match case aside."""
    exact = [item for item in items if name_of(item) == name]
    if exact:
        return exact
    return [item for item in items if name_of(item).casefold() == name.casefold()]


async def find_workspace(client: WallarooClient, ref: str | int) -> Workspace:
    workspaces = await client.list_workspaces()
    if isinstance(ref, int):
        for workspace in workspaces:
            if workspace.id == ref:
                return workspace
        raise CommandProblem(f"No workspace has id {ref}.", "Try `/wallaroo workspaces`.")
    found = by_name(workspaces, ref, lambda w: w.name)
    if len(found) == 1:
        return found[0]
    if found:
        ids = ", ".join(f"{named(w.name)} (id {w.id})" for w in found)
        raise CommandProblem(
            f"{len(found)} workspaces are named {named(ref)}: {ids}.",
            "Give the id instead of the name.",
        )
    hint = closest(ref, [w.name for w in workspaces])
    raise CommandProblem(
        f"No workspace is named {named(ref)}.",
        f"Did you mean {named(hint)}?" if hint else "Try `/wallaroo workspaces`.",
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
            f"No pipeline has id {ref} in {named(workspace.name)}.",
            f"Try `/wallaroo pipelines {workspace.id}`.",
        )
    found = by_name(pipelines, ref, lambda p: p.pipeline.name)
    if len(found) == 1:
        return found[0]
    if found:
        ids = ", ".join(f"{named(p.pipeline.name)} (id {p.pipeline.id})" for p in found)
        raise CommandProblem(
            f"{len(found)} pipelines in {named(workspace.name)} are named {named(ref)}: {ids}.",
            "Give the id instead of the name.",
        )
    hint = closest(ref, [p.pipeline.name for p in pipelines])
    raise CommandProblem(
        f"No pipeline is named {named(ref)} in {named(workspace.name)}.",
        f"Did you mean {named(hint)}?" if hint else f"Try `/wallaroo pipelines {workspace.id}`.",
    )
