"""An alert's runbook link and owner, as the opening post, its edits and `watches` show them."""

from __future__ import annotations

from typing import Any

from handlers.render.mrkdwn import escape, link, shorten, user_mention
from storage.watches import split_owner


def runbook_link(url: str) -> str:
    """The runbook as a link labelled with the URL itself (shortened), never with a label
    someone typed. Stored URLs are percent-encoded (no `<`, `>`, `|`); `&` is escaped in
    the target as Slack asks."""
    return link(escape(url), shorten(url.split("://", 1)[-1], 60))


def owner_shown(owner: str | None, *, mention: bool) -> str:
    """The owner as a mention (it notifies), or as plain text that cannot: `@name`, or the
    id in code when no name is known."""
    found = split_owner(owner)
    if found is None:
        return ""
    user_id, name = found
    if mention:
        return user_mention(user_id)
    return f"@{escape(shorten(name))}" if name else f"`{escape(user_id)}`"


def runbook_and_owner(detail: dict[str, Any], *, mention: bool) -> str:
    """`Runbook: <link> · Owner: @jane` from an episode's detail, "" when neither is set.
    The owner is mentioned only where `mention` (an opening post): an edit showing a mention
    could notify them again at every poll."""
    parts = []
    if detail.get("runbook"):
        parts.append(f":book: Runbook: {runbook_link(detail['runbook'])}")
    if detail.get("owner"):
        parts.append(f"Owner: {owner_shown(detail['owner'], mention=mention)}")
    return " · ".join(parts)
