"""The `/wallaroo` command grammar: text in, a `Command` or a `ParseError` out, never an exception.

The command table (words, parameters, usage, help) is in specs.py; a command's arguments come
back as the class its row names (arguments.py), unescaped (real names, real emails): whoever
renders them must escape them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from handlers.commands.arguments import Arguments, Help
from handlers.commands.specs import (
    AREAS,
    ASSAY_OPTIONS,
    BY_VERB,
    GROUPS,
    ONE_WORD,
    ROLES,
    TAKES_REST,
    TOPICS,
    WORKSPACE_ROLES,
    Param,
    Spec,
)
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


@dataclass(frozen=True)
class Command:
    area: str
    action: str
    # The class its row names, every parameter set: optional ones left out are None (or empty).
    args: Arguments
    text: str = ""


@dataclass(frozen=True)
class ParseError:
    message: str  # mrkdwn, user text already escaped: what was wrong and the usage that is right
    suggestion: str | None = None  # "Did you mean `pipelines`?" for an unknown command


class _Invalid(Exception):
    """Internal only: carries a ParseError up to parse_command, which never lets it escape."""

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion


def parse_command(text: str) -> Command | ParseError:
    """Parse what follows `/wallaroo`; a leading `/wallaroo` (the console sends it) is dropped."""
    text = text if isinstance(text, str) else ""
    try:
        tokens = _tokenize(text)
        if tokens and tokens[0].value.lower() == "/wallaroo":
            tokens = tokens[1:]
        if not tokens:
            return Command("help", "show", Help(area=None), text)
        spec, used = _find_spec([token.value for token in tokens[:2]])
    except _Invalid as exc:
        return ParseError(exc.message, exc.suggestion)
    try:
        return Command(spec.area, spec.action, _bind(spec, tokens[used:], text), text)
    except _Invalid as exc:
        return ParseError(f"{exc.message}: `{spec.paged_usage}`", exc.suggestion)


class _Token(NamedTuple):
    value: str
    start: int  # where it began and ended in the text, so a reason keeps its exact wording
    end: int


# A token is a run of quoted stretches, Slack entities and other non-space characters. Slack sends
# a real `<` only to open an entity (a typed one arrives as `&lt;`), so an entity stays whole even
# when its label holds spaces. Slack clients may turn typed quotes into curly ones.
_TOKEN = re.compile(
    r'(?:["\u201c\u201d][^"\u201c\u201d]*["\u201c\u201d]'
    r"|<(?:[@#!]|[a-z][a-z0-9+.-]*:)[^<>\n]*>"
    r'|[^\s"\u201c\u201d])+'
    r'|["\u201c\u201d]',  # a quote that no later quote closes
    re.IGNORECASE,
)
_QUOTE = re.compile('["\u201c\u201d]')


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        if _QUOTE.fullmatch(match.group()):
            raise _Invalid(
                f"The quote at character {match.start() + 1} is never closed: close it, "
                'e.g. `/wallaroo workspace create "my workspace"`.'
            )
        tokens.append(_Token(_QUOTE.sub("", match.group()), match.start(), match.end()))
    return tokens


def _closest(word: str, choices: list[str]) -> str | None:
    matches = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return matches[0] if matches else None


def _find_spec(typed: list[str]) -> tuple[Spec, int]:
    words = [word.lower() for word in typed]
    if len(words) == 2 and " ".join(words) in BY_VERB:
        return BY_VERB[" ".join(words)], 2
    if words[0] in BY_VERB:
        return BY_VERB[words[0]], 1
    if words[0] in GROUPS:
        subs = GROUPS[words[0]]
        guess = _closest(words[1], subs) if len(words) == 2 else None
        closest = BY_VERB[f"{words[0]} {guess or subs[0]}"]
        given = f"has no subcommand {_shown(typed[1])}" if len(words) == 2 else "needs a subcommand"
        if guess:  # one suggestion, with its usage: not a "closest" and a "did you mean" too
            raise _Invalid(
                f"`{words[0]}` {given} (it takes {', '.join(subs)}).",
                f"Did you mean `{closest.verb}`? Usage: `{closest.usage}`",
            )
        raise _Invalid(f"`{words[0]}` {given} (it takes {', '.join(subs)}): `{closest.usage}`")
    # A two-word command when both words are close (`asay run`), else a one-word one, else a group.
    group = _closest(words[0], list(GROUPS))
    sub = _closest(words[1], GROUPS[group]) if group and len(words) == 2 else None
    guess = f"{group} {sub}" if sub else _closest(words[0], ONE_WORD)
    if guess is None and group:
        guess = f"{group} {GROUPS[group][0]}"
    if guess is None:
        raise _Invalid(f"There is no command {_shown(typed[0])}: `/wallaroo help` lists them all.")
    raise _Invalid(
        f"There is no command {_shown(typed[0])}.",
        f"Did you mean `{guess}`? Usage: `{BY_VERB[guess].usage}`",
    )


def _bind(spec: Spec, tokens: list[_Token], text: str) -> Arguments:
    args: dict[str, Value] = {}
    if spec.pageable:
        args["page"] = 1
        if len(tokens) >= 2 and tokens[-2].value.lower() == "page":
            args["page"] = _read_int(tokens[-1].value, Param("page", "int", "N", "a page number"))
            tokens = tokens[:-2]
    for param, optional in spec.params:
        if param.kind in TAKES_REST:
            args[param.key] = _read_rest(param, tokens, text)
            tokens = []
        elif tokens:
            args[param.key] = _READERS[param.kind](tokens.pop(0).value, param)
        elif optional:
            args[param.key] = None
        else:
            raise _Invalid(f"`{spec.verb}` needs {spec.needs}")
    if tokens:
        raise _Invalid(f"`{spec.verb}` got more than it takes, from {_shown(tokens[0].value)} on")
    # By name: tests/test_grammar.py checks that each class's fields are its row's parameters.
    return spec.args(**args)


def _shown(raw: str) -> str:
    return code(shorten(unescape(raw), 40))


def _is_number(text: str) -> bool:
    # ASCII only: str.isdigit() also accepts "²", which int() rejects; 18 digits stay far from
    # Python's limit on int() of huge strings.
    return text.isascii() and text.isdigit() and len(text) <= 18


def _read_name(raw: str, param: Param) -> str:
    entity = split_entity(raw)
    if entity and entity[0][:1] in ("@", "#", "!"):
        given = "its name or id" if param.kind == "ref" else "it as plain text"
        raise _Invalid(f"{_shown(raw)} is a Slack mention, not {param.noun}: give {given}")
    if entity:  # Slack links names that look like domains (`house.price`): the label was typed
        raw = entity[1] or entity[0].removeprefix("mailto:")
    name = unescape(raw).strip()
    if not name:
        raise _Invalid(f"{param.noun.capitalize()} can't be empty")
    return name


def _read_ref(raw: str, param: Param) -> str | int:
    name = _read_name(raw, param)
    return int(name) if _is_number(name) else name


def _read_int(raw: str, param: Param) -> int:
    text = unescape(raw)
    if param.key == "request_id":
        text = text.removeprefix("#")  # the bot itself writes requests as `#3`
    if not _is_number(text) or int(text) == 0:
        raise _Invalid(f"{_shown(raw)} is not {param.noun}; use a whole number above 0")
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
        return _read_int(raw, param)
    layout_fits = len(text) <= len(_UUID_LAYOUT) and all(
        (ch == "-") if slot == "-" else (ch in _HEX)
        for ch, slot in zip(text, _UUID_LAYOUT, strict=False)
    )
    if layout_fits and sum(ch in _HEX for ch in text) >= MIN_ASSAY_PREFIX:
        return text
    raise _Invalid(
        f"{_shown(raw)} is not {param.noun}; use a v1 assay's number or a v2 assay's UUID "
        f"(its first {MIN_ASSAY_PREFIX} characters or more will do)"
    )


def _read_choice(raw: str, param: Param) -> str:
    choices = ROLES if param.kind == "role" else WORKSPACE_ROLES
    if unescape(raw).lower() not in choices:
        raise _Invalid(f"{_shown(raw)} is not {param.noun}; use one of {', '.join(choices)}")
    return Role(unescape(raw).lower()) if param.kind == "role" else unescape(raw).lower()


def _read_slack(raw: str, param: Param) -> str | UserRef | ChannelRef:
    reader, example = _SLACK_READERS[param.kind]
    value = reader(raw)
    if value is None:
        raise _Invalid(f"{_shown(raw)} is not {param.noun}; write {example}")
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
        raise _Invalid(f"{_shown(raw)} is a Slack mention, not {param.noun}")
    return entity[0] if entity else unescape(raw).strip()


def _read_framework(raw: str, param: Param) -> str:
    key, equals, value = unescape(raw).partition("=")
    if equals and key.strip().lower() != "framework":
        raise _Invalid(f"{_shown(raw)} is not an option here; write `framework=onnx`")
    framework = (value if equals else key).strip().lower()
    if not framework:
        raise _Invalid("`framework=` needs a value, e.g. `framework=onnx`")
    return framework


_READERS: dict[str, Callable[[str, Param], Value]] = {"ref": _read_ref, "name": _read_name}
_READERS |= {"file": _read_file, "framework": _read_framework}
_READERS |= {"int": _read_int, "assay_id": _read_assay_id}
_READERS |= dict.fromkeys(("role", "workspace_role"), _read_choice)
_READERS |= dict.fromkeys(_SLACK_READERS, _read_slack)


def _read_rest(param: Param, tokens: list[_Token], text: str) -> Value:
    if param.kind == "refs":
        return [_read_ref(token.value, param) for token in tokens]
    if param.kind == "options":
        return _read_options(tokens)
    if not tokens:
        return None
    if param.kind == "rest":  # the exact wording, quotes and all, as typed
        return unescape(text[tokens[0].start : tokens[-1].end])
    words = [token.value.lower() for token in tokens]
    for topic in (" ".join(words), words[0]):
        if topic in TOPICS:
            return TOPICS[topic]
    guess = _closest(words[0], list(TOPICS))
    raise _Invalid(
        f"There is no help on {_shown(tokens[0].value)}; the areas are {', '.join(AREAS)}",
        f"Did you mean `help {guess}`?" if guess else None,
    )


def _read_options(tokens: list[_Token]) -> dict[str, str]:
    options: dict[str, str] = {}
    for token in tokens:
        key, equals, value = unescape(token.value).partition("=")
        if not equals or key.strip().lower() not in ASSAY_OPTIONS:
            raise _Invalid(
                f"{_shown(token.value)} is not an option; write key=value with a key from "
                f"{', '.join(ASSAY_OPTIONS)}"
            )
        if not value.strip():
            raise _Invalid(f"`{key.strip().lower()}=` needs a value")
        options[key.strip().lower()] = value.strip()
    return options
