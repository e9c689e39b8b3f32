"""Slack mrkdwn: making user- and Wallaroo-supplied text harmless, and reading Slack's entities.

mrkdwn has three control characters (`&`, `<`, `>`); every entity that can ping or disguise a link
starts with `<`. Escaping them is therefore enough to neutralise any name, email or error message,
while `*`, `_` and `~` may stay literal: at worst they bold a word, they never notify anyone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_USER_ID = re.compile(r"[UW][A-Z0-9]+")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]+")
# `<target>` or `<target|label>`, as Slack sends mentions, channels, links and mailto: addresses.
_ENTITY = re.compile(r"<([^<>|\n]+)(?:\|([^<>\n]*))?>")
_LINKABLE = re.compile(r"https?://[^\s<>|]+")
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>.]+")
# A code span cannot contain its own delimiter; this look-alike keeps the text readable.
_BACKTICK_LOOKALIKE = "\u02cb"


# Characters that change how text around them is shown without being seen themselves: bidi
# embeddings, overrides and isolates (a name can read backwards, hiding what it says) and
# zero-width ones (two names that look the same). They are dropped from everything escaped.
_INVISIBLE = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]
)


def escape(text: object) -> str:
    """Slack's own rule, in Slack's order: `&` first, or the `&` of `&lt;` would be escaped too;
    invisible formatting characters are dropped first."""
    shown = str(text).translate(_INVISIBLE)
    return shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Undo `escape` (and Slack's escaping of typed text); `&amp;` last for the same reason."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def code(text: object) -> str:
    """An inline code span around escaped text; newlines and backticks would end the span early."""
    body = str(text).replace("`", _BACKTICK_LOOKALIKE).replace("\r", " ").replace("\n", " ")
    return f"`{escape(body)}`" if body else '`""`'


def is_user_id(text: str) -> bool:
    return _USER_ID.fullmatch(text) is not None


def is_channel_id(text: str) -> bool:
    return _CHANNEL_ID.fullmatch(text) is not None


def user_mention(user_id: object) -> str:
    """`<@U123>` for a real id; anything else is shown as text so it can never become a ping."""
    text = str(user_id)
    return f"<@{text}>" if is_user_id(text) else escape(text)


def channel_mention(channel_id: object) -> str:
    text = str(channel_id)
    return f"<#{text}>" if is_channel_id(text) else escape(text)


def link(url: str, label: object | None = None) -> str:
    """A link only for plain http(s) URLs; anything else is shown escaped, never as a link."""
    shown = escape(url if label is None else label).replace("|", "\u2223")
    if _LINKABLE.fullmatch(url):
        return f"<{url}|{shown}>"
    return shown


def split_entity(token: str) -> tuple[str, str | None] | None:
    """`<@U123|jane>` → ("@U123", "jane"); `<https://x>` → ("https://x", None); else None."""
    match = _ENTITY.fullmatch(token)
    if match is None:
        return None
    return match.group(1), match.group(2)


@dataclass(frozen=True)
class UserRef:
    """A Slack user as typed: with an id (`<@U123|jane>`, `U123`) or, in the console, a name."""

    id: str | None
    name: str | None


@dataclass(frozen=True)
class ChannelRef:
    """A channel as typed: with an id (`<#C123|ops>`, `C123`) or, in the console, a name."""

    id: str | None
    name: str | None


def _read_ref(
    token: str, sigil: str, is_id: Callable[[str], bool]
) -> tuple[str | None, str | None] | None:
    entity = split_entity(token)
    if entity:
        target, label = entity
        if not (target.startswith(sigil) and is_id(target[1:])):
            return None
        return target[1:], unescape(label) if label else None
    text = unescape(token)
    bare = text.removeprefix(sigil)
    if is_id(bare):
        return bare, None
    if text.startswith(sigil) and bare.strip():
        return None, bare
    return None


def read_user(token: str) -> UserRef | None:
    """`<@U123|jane>`, `<@U123>`, `U123` or `@U123` give an id; `@jane` only a name; else None."""
    ref = _read_ref(token, "@", is_user_id)
    return UserRef(*ref) if ref else None


def read_channel(token: str) -> ChannelRef | None:
    """`<#C123|ops>`, `<#C123>`, `C123` or `#C123` give an id; `#ops` only a name; else None."""
    ref = _read_ref(token, "#", is_channel_id)
    return ChannelRef(*ref) if ref else None


def read_email(token: str) -> str | None:
    """A plain address, or the `<mailto:a@b.io|a@b.io>` Slack makes of one; else None."""
    entity = split_entity(token)
    if entity and not entity[0].lower().startswith("mailto:"):
        return None
    text = unescape(entity[0][len("mailto:") :] if entity else token)
    return text if _EMAIL.fullmatch(text) else None


# How long a user-supplied name may be when a reply echoes it (an unknown command word is
# echoed to half of this): the whole of any real name, never a screenful.
NAME_CHARS = 80
# The ways a user may be named in a command, as every reply that asks for one says.
USER_FORMS = "`&lt;@U123|name&gt;` (a mention), `U123` or `@name`"  # escaped mrkdwn


def shorten(text: object, limit: int = NAME_CHARS) -> str:
    """Plain (unescaped) text cut to `limit` characters with "…": a 5,000-character name typed
    by a user is echoed as its start. Cut before escaping, so no `&amp;` or entity is split."""
    shown = str(text)
    return shown if len(shown) <= limit else shown[: max(limit - 1, 0)] + "…"


def named(text: object) -> str:
    """A user-supplied name, shortened, escaped and in bold: `*housepricedrift*`."""
    return f"*{escape(shorten(text))}*"


def truncate(text: str, limit: int) -> str:
    """Shorten mrkdwn to at most `limit` characters without leaving half an entity behind.

    A cut `&amp;` or `<https://…|label>` would show garbage or, worse, swallow what follows it.
    """
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    opening = cut.rfind("<")
    if opening != -1 and ">" not in cut[opening:]:
        cut = cut[:opening]
    return cut + "…" if limit > 0 else ""


def _plain_entity(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("@"):
        return "@" + (label or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        # <!channel>, <!here>, <!subteam^S1|@team>, <!date^…|fallback>
        return label or "@" + target[1:].split("^")[0]
    if target.startswith("mailto:"):
        return label or target.removeprefix("mailto:")
    return f"{label} ({target})" if label and label != target else target


_BOLD = re.compile(r"\*([^*\n]+)\*")


def to_plain(text: str) -> str:
    """mrkdwn as a terminal should show it: entities spelled out, `&amp;` and friends undone,
    *bold* markers dropped (not _italic_ ones: underscores are common in names)."""
    return unescape(_ENTITY.sub(_plain_entity, _BOLD.sub(r"\1", text)))
