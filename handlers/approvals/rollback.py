"""Which version a `rollback WS PIPELINE [VERSION]` means, or why there is none.

VERSION is what `versions` shows: the version's number by age (1 is the first made, the
newest has the highest; see VersionHistory), or its UUID or its first 6 characters or more;
`previous` (or nothing) is the version just before the live one. A rollback goes back: the
live version itself, and newer ones, are refused.
A first word that cannot be a version starts the reason instead (`version_and_reason`).
"""

from __future__ import annotations

import difflib

from bot.wallaroo.pipeline_models import ListedPipelineVersion, VersionHistory
from handlers.context import CommandProblem
from handlers.render.mrkdwn import code, escape
from handlers.render.pipeline_versions import short

MIN_PREFIX = 6
MAX_POSITION_DIGITS = 5  # more digits than this are the start of a UUID, not a position
PREVIOUS = "previous"


_HEX = frozenset("0123456789abcdef-")


def version_and_reason(version: str | None, reason: str | None) -> tuple[str | None, str]:
    """`rollback WS P the model broke` gives no version: a first word that cannot start one
    (not a number, `previous`, nor UUID characters with a digit or 6+ long) starts the reason.
    Words like `3fa` or `decade` still count as versions, refused if no version matches."""
    if version is None or _may_name_a_version(version):
        return version, reason or ""
    return None, f"{version} {reason or ''}".strip()


def _may_name_a_version(word: str) -> bool:
    lowered = word.strip().lower()
    if lowered == PREVIOUS or (lowered.isascii() and lowered.isdigit()):
        return True
    hexlike = bool(lowered) and set(lowered) <= _HEX
    return hexlike and (any(c.isdigit() for c in lowered) or len(lowered) >= MIN_PREFIX)


def rollback_target(
    history: VersionHistory, workspace: str, pipeline: str, version: str | None
) -> ListedPipelineVersion:
    """The version to roll back to (names are as Wallaroo spells them, unescaped)."""
    versions_command = code(f"/wallaroo versions {workspace} {pipeline}")
    named = f"*{escape(pipeline)}*"
    if history.live is None:
        raise CommandProblem(
            f"{named} is not deployed, so there is nothing to roll back.",
            f"{code(f'/wallaroo deploy {workspace} {pipeline}')} deploys its newest version.",
        )
    live_index = history.live_index
    if live_index is None:
        raise CommandProblem(
            f"I cannot tell which version of {named} is live (Wallaroo does not say yet; "
            "its engines may still be starting), so I cannot tell what is earlier.",
            f"Try again once {code(f'/wallaroo status {workspace} {pipeline}')} says Running.",
        )
    if version is None or version.strip().lower() == PREVIOUS:
        if live_index + 1 >= len(history.versions):
            raise CommandProblem(
                f"The live version of {named} (version 1) is its oldest: there "
                "is no earlier version to roll back to.",
                f"{versions_command} lists them.",
            )
        return history.versions[live_index + 1]
    index = index_of(history.versions, version.strip(), versions_command)
    if index == live_index:
        raise CommandProblem(
            f"Version {history.number_at(index)} ({code(short(history.versions[index].version))})"
            " is the one "
            f"live now: rolling back to it would change nothing.",
            f"{versions_command} lists the earlier ones.",
        )
    if index < live_index:
        raise CommandProblem(
            f"Version {history.number_at(index)} is newer than the live one (version "
            f"{history.number_at(live_index)}): a "
            "rollback goes back to an earlier version.",
            f"{code(f'/wallaroo deploy {workspace} {pipeline}')} deploys the newest.",
        )
    return history.versions[index]


def index_of(versions: list[ListedPipelineVersion], typed: str, versions_command: str) -> int:
    """Where the version `typed` names is in `versions` (newest first): by its number by age
    (version N is the Nth made, so `versions[len - N]`) or by its UUID or a prefix of it."""
    count = len(versions)
    if typed.isascii() and typed.isdigit() and len(typed) <= MAX_POSITION_DIGITS:
        number = int(typed)
        if 1 <= number <= count:
            return count - number
        raise CommandProblem(
            f"There is no version {number}: the pipeline has {count} (1 is the first made, "
            f"{count} the newest).",
            f"{versions_command} lists them.",
        )
    prefix = typed.lower()
    if len(prefix) < MIN_PREFIX:
        raise CommandProblem(
            f"{code(typed)} is too short to name a version: give its number in `versions` "
            f"or at least {MIN_PREFIX} characters of its UUID.",
            f"{versions_command} lists them.",
        )
    found = [i for i, v in enumerate(versions) if v.version.lower().startswith(prefix)]
    if len(found) == 1:
        return found[0]
    if found:
        shown = ", ".join(code(versions[i].version) for i in found[:5])
        raise CommandProblem(
            f"{code(typed)} starts {len(found)} versions: {shown}.",
            "Give more of the UUID, or the version's number.",
        )
    starts = [v.version[: len(prefix)].lower() for v in versions]
    guesses = difflib.get_close_matches(prefix, starts, n=1, cutoff=0.5)
    hint = f"{versions_command} lists them."
    if guesses:
        index = starts.index(guesses[0])
        hint = f"Did you mean version {count - index} ({code(versions[index].version)})? {hint}"
    raise CommandProblem(f"The pipeline has no version {code(typed)}.", hint)
