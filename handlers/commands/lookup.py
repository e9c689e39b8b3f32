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
from handlers.render.mrkdwn import named

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
    return pick_by_name(
        workspaces,
        ref,
        lambda w: (w.name, w.id),
        noun="workspace",
        hint="Try `/wallaroo workspaces`.",
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
    return pick_by_name(
        pipelines,
        ref,
        lambda p: (p.pipeline.name, p.pipeline.id),
        noun="pipeline",
        where=f" in {named(workspace.name)}",
        hint=f"Try `/wallaroo pipelines {workspace.id}`.",
    )


def pick_by_name(
    items: list[T],
    ref: str,
    name_and_id: Callable[[T], tuple[str, object]],
    *,
    noun: str,
    hint: str,
    where: str = "",
) -> T:
    """The one item named `ref` (exactly, else ignoring case), or a CommandProblem: the ids when
    several share the name, the closest name (or `hint`) when none has it."""
    found = by_name(items, ref, lambda item: name_and_id(item)[0])
    if len(found) == 1:
        return found[0]
    if found:
        ids = ", ".join(f"{named(name)} (id {id_})" for name, id_ in map(name_and_id, found))
        raise CommandProblem(
            f"{len(found)} {noun}s{where} are named {named(ref)}: {ids}.",
            "Give the id instead of the name.",
        )
    nearest = closest(ref, [name_and_id(item)[0] for item in items])
    raise CommandProblem(
        f"No {noun} is named {named(ref)}{where}.",
        f"Did you mean {named(nearest)}?" if nearest else hint,
    )
