"""Finding the assay a command names: a v1 number, or a v2 UUID or its unique prefix, as one
`FoundAssay` whichever generation it is."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.wallaroo import (
    Assay,
    AssayV2,
    WallarooClient,
    WallarooForbidden,
    WallarooUnauthorized,
    is_v2_id,
)
from handlers.commands.arguments_alerts import AssayId
from handlers.context import CommandProblem
from handlers.render.mrkdwn import code, escape, shorten

SHORT_ID = 8  # how replies show a v2 id
MATCHES_SHOWN = 5
LISTING_HINT = "`/wallaroo assays WS PIPELINE` lists them."


def short_id(assay_id: str | int) -> str:
    """How a reply names an assay: `3`, or a UUID's first 8 characters."""
    text = str(assay_id)
    return text[:SHORT_ID] if is_v2_id(text) else text


@dataclass(frozen=True)
class FoundAssay:
    id: str  # "3" or the full UUID
    name: str
    active: bool
    pipeline_name: str
    workspace_id: int
    alert_threshold: float | None
    warning_threshold: float | None
    v1: Assay | None = None
    v2: AssayV2 | None = None

    @property
    def shown_id(self) -> str:
        return short_id(self.id)

    @property
    def target(self) -> str:
        """How the audit log names it: the full id."""
        return f"assay {self.id}"


def found_v1(assay: Assay, workspace_id: int) -> FoundAssay:
    return FoundAssay(
        id=str(assay.id),
        name=assay.name,
        active=assay.active,
        pipeline_name=assay.pipeline_name,
        workspace_id=workspace_id,
        alert_threshold=assay.alert_threshold,
        warning_threshold=assay.warning_threshold,
        v1=assay,
    )


def found_v2(assay: AssayV2) -> FoundAssay:
    thresholds = assay.path.thresholds
    return FoundAssay(
        id=assay.id,
        name=assay.name,
        active=assay.active,
        pipeline_name=assay.pipeline_name,
        workspace_id=assay.workspace_id,
        alert_threshold=thresholds.alert,
        warning_threshold=thresholds.warning,
        v2=assay,
    )


async def find_assay(client: WallarooClient, ref: AssayId) -> FoundAssay:
    """The assay `ref` names: a number is a v1 id; a UUID or its start, a v2 one."""
    text = str(ref).lower()
    if text.isascii() and text.isdigit():
        return await _find_by_digits(client, ref, text)
    if not await client.uses_assays_v2():
        raise CommandProblem(
            f"`{escape(text)}` looks like a v2 assay id, but this Wallaroo runs assays v1 only, "
            "whose ids are numbers.",
            LISTING_HINT,
        )
    return _one_v2(text, await _v2_matches(client, text))


async def _find_by_digits(client: WallarooClient, ref: AssayId, text: str) -> FoundAssay:
    """Digits are a v1 id, or (kept as text by the grammar: 6 to 8 of them) the start of a v2
    UUID. No v1 id starts with 0, so `083085` is looked for as a v2 prefix first, and only if
    no v2 id starts so is it v1 assay 83085 written with a zero (`0000012` is still assay 12)."""
    leading_zero = text.startswith("0")
    if not leading_zero and (found := await _find_v1(client, int(text))):
        return found
    if isinstance(ref, str) and await _may_be_v2(client):
        matches = await _v2_matches(client, text)
        if matches:
            return _one_v2(text, matches)
    if leading_zero and (found := await _find_v1(client, int(text))):
        return found
    raise unknown_assay(text)


def unknown_assay(ref: str) -> CommandProblem:
    """The one answer for an id no assay has, whichever generation and however it was typed
    (a v2 prefix included: people type them as they do git hashes)."""
    return CommandProblem(f"No assay has id {escape(shorten(ref, 40))}.", LISTING_HINT)


async def _may_be_v2(client: WallarooClient) -> bool:
    """Whether a number not found among v1 assays is worth looking for as a v2 prefix; v2
    refused to the service account counts as no (the number was a v1 id, most likely)."""
    try:
        return await client.uses_assays_v2()
    except (WallarooForbidden, WallarooUnauthorized):
        return False


async def _find_v1(client: WallarooClient, assay_id: int) -> FoundAssay | None:
    """The API lists v1 assays per pipeline only, so every pipeline is asked, all at once."""
    listings = await client.list_pipelines()
    per_pipeline = await asyncio.gather(
        *(client.list_assays(listing.pipeline.id) for listing in listings)
    )
    for listing, assays in zip(listings, per_pipeline, strict=True):
        for assay in assays:
            if assay.id == assay_id:
                return found_v1(assay, listing.workspace.id)
    return None


async def _v2_matches(client: WallarooClient, prefix: str) -> list[AssayV2]:
    return [a for a in await client.list_assays_v2() if a.id.lower().startswith(prefix)]


def _one_v2(prefix: str, matches: list[AssayV2]) -> FoundAssay:
    if not matches:
        raise unknown_assay(prefix)
    if len(matches) > 1:
        shown = ", ".join(
            f"{code(a.id[: max(SHORT_ID, len(prefix) + 2)])} ({escape(a.name)})"
            for a in matches[:MATCHES_SHOWN]
        )
        more = f" and {len(matches) - MATCHES_SHOWN} more" if len(matches) > MATCHES_SHOWN else ""
        raise CommandProblem(
            f"`{escape(prefix)}` matches {len(matches)} assays: {shown}{more}.",
            "Type more of the id.",
        )
    return found_v2(matches[0])
