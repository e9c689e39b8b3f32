"""The readers of the command grammar's parameter kinds (specs.py `Param.kind`): each turns
one typed token into its value, unescaped, or raises `Invalid` saying what was wrong and what
would be right. grammar.py binds a command's tokens to its parameters with them."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlsplit

from handlers.commands.specs import ROLES, WORKSPACE_ROLES, Param
from handlers.render.mrkdwn import (
    USER_FORMS,
    ChannelRef,
    UserRef,
    code,
    read_channel,
    read_email,
    read_user,
    shorten,
    split_entity,
    unescape,
)
from storage.roles import Role

# What a reader gives for one parameter, before the arguments class is built from them all.
Value = str | int | list[str | int] | dict[str, str] | UserRef | ChannelRef | Role | None


class Invalid(Exception):
    """A parameter that does not read: parse_command turns it into a ParseError, never lets it
    escape."""

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion


def shown(raw: str) -> str:
    return code(shorten(unescape(raw), 40))


def _is_number(text: str) -> bool:
    # ASCII only: str.isdigit() also accepts "²", which int() rejects; 18 digits stay far from
    # Python's limit on int() of huge strings.
    return text.isascii() and text.isdigit() and len(text) <= 18


def _read_name(raw: str, param: Param) -> str:
    entity = split_entity(raw)
    if entity and entity[0][:1] in ("@", "#", "!"):
        given = "its name or id" if param.kind == "ref" else "it as plain text"
        raise Invalid(f"{shown(raw)} is a Slack mention, not {param.noun}: give {given}")
    if entity:  # Slack links names that look like domains (`house.price`): the label was typed
        raw = entity[1] or entity[0].removeprefix("mailto:")
    name = unescape(raw).strip()
    if not name:
        raise Invalid(f"{param.noun.capitalize()} can't be empty")
    return name


def read_ref(raw: str, param: Param) -> str | int:
    name = _read_name(raw, param)
    return int(name) if _is_number(name) else name


def read_int(raw: str, param: Param) -> int:
    text = unescape(raw)
    if param.key == "request_id":
        text = text.removeprefix("#")  # the bot itself writes requests as `#3`
    if not _is_number(text) or int(text) == 0:
        raise Invalid(f"{shown(raw)} is not {param.noun}; use a whole number above 0")
    return int(text)


# A v2 assay id is a UUID; people may type its first characters, as with git hashes.
_UUID_LAYOUT = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
_HEX = frozenset("0123456789abcdef")
MIN_ASSAY_PREFIX = 6
_BEFORE_DASH = _UUID_LAYOUT.index("-")  # more digits than this cannot start a UUID


def _read_assay_id(raw: str, param: Param) -> int | str:
    """A v1 assay id (a whole number), or a v2 UUID or its first 6+ characters, lower-cased.
    6 to 8 digits stay text: they may start a UUID (`083085`); the lookup tries both."""
    text = unescape(raw).strip().lower()
    if _is_number(text) and not MIN_ASSAY_PREFIX <= len(text) <= _BEFORE_DASH:
        return read_int(raw, param)
    layout_fits = len(text) <= len(_UUID_LAYOUT) and all(
        (ch == "-") if slot == "-" else (ch in _HEX)
        for ch, slot in zip(text, _UUID_LAYOUT, strict=False)
    )
    if layout_fits and sum(ch in _HEX for ch in text) >= MIN_ASSAY_PREFIX:
        return text
    raise Invalid(
        f"{shown(raw)} is not {param.noun}; use a v1 assay's number or a v2 assay's UUID "
        f"(its first {MIN_ASSAY_PREFIX} characters or more will do)"
    )


def _read_choice(raw: str, param: Param) -> str:
    choices = ROLES if param.kind == "role" else WORKSPACE_ROLES
    if unescape(raw).lower() not in choices:
        raise Invalid(f"{shown(raw)} is not {param.noun}; use one of {', '.join(choices)}")
    return Role(unescape(raw).lower()) if param.kind == "role" else unescape(raw).lower()


def _read_slack(raw: str, param: Param) -> str | UserRef | ChannelRef:
    reader, example = _SLACK_READERS[param.kind]
    value = reader(raw)
    if value is None:
        raise Invalid(f"{shown(raw)} is not {param.noun}; write {example}")
    return value


_SLACK_READERS = {
    "email": (read_email, "one like `jane@example.com`"),
    "user": (read_user, USER_FORMS),
    "channel": (read_channel, "one like `#ml-alerts`"),
}


def _read_file(raw: str, param: Param) -> str:
    """A file link as Slack sends it (`<https://…/files/…|name>`: its URL), an id, or a path."""
    entity = split_entity(raw)
    if entity and entity[0][:1] in ("@", "#", "!"):
        raise Invalid(f"{shown(raw)} is a Slack mention, not {param.noun}")
    return entity[0] if entity else unescape(raw).strip()


# A link must fit in an alert's context line (2,000 characters) with everything else on it.
MAX_URL_CHARS = 500
# What stays as typed in a URL (RFC 3986's reserved and unreserved characters, and `%`):
# `<`, `>`, `|`, quotes, spaces and the like are percent-encoded, so no link can break its
# `<url|label>` entity and the link still goes where it was meant to.
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"


def _read_url(raw: str, param: Param) -> str:
    """An http(s) URL, plain or as Slack links it (`<https://…>`, `<https://…|label>`: the
    label is dropped), percent-encoded where it holds characters a URL may not."""
    entity = split_entity(raw)
    if entity and entity[0][:1] in ("@", "#", "!"):
        raise Invalid(f"{shown(raw)} is a Slack mention, not {param.noun}")
    url = quote(unescape(entity[0] if entity else raw).strip(), safe=_URL_SAFE)
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced `[` in the host
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise Invalid(
            f"{shown(raw)} is not {param.noun}; write one like "
            "`https://wiki.example.com/runbooks/drift`"
        )
    url = parts.scheme.lower() + url[len(parts.scheme) :]  # mrkdwn links only lower case
    if len(url) > MAX_URL_CHARS:
        raise Invalid(
            f"That link is {len(url)} characters long; {param.noun} may have at most "
            f"{MAX_URL_CHARS}: use a shorter one"
        )
    return url


def _read_framework(raw: str, param: Param) -> str:
    key, equals, value = unescape(raw).partition("=")
    if equals and key.strip().lower() != "framework":
        raise Invalid(f"{shown(raw)} is not an option here; write `framework=onnx`")
    framework = (value if equals else key).strip().lower()
    if not framework:
        raise Invalid("`framework=` needs a value, e.g. `framework=onnx`")
    return framework


READERS: dict[str, Callable[[str, Param], Value]] = {"ref": read_ref, "name": _read_name}
READERS |= {"file": _read_file, "framework": _read_framework, "url": _read_url}
READERS |= {"int": read_int, "assay_id": _read_assay_id}
READERS |= dict.fromkeys(("role", "workspace_role"), _read_choice)
READERS |= dict.fromkeys(_SLACK_READERS, _read_slack)
