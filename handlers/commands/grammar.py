"""The `/wallaroo` command grammar: text in, a `Command` or a `ParseError` out, never an exception.

The command table (words, parameters, usage, help) is in specs.py; a command's arguments come
back as the class its row names (arguments.py), unescaped (real names, real emails): whoever
renders them must escape them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import NamedTuple

from handlers.commands.arguments import Arguments, Help
from handlers.commands.grammar_readers import READERS, Invalid, Value, read_int, read_ref, shown
from handlers.commands.specs import (
    AREAS,
    ASSAY_OPTIONS,
    BY_VERB,
    GROUPS,
    KEYED,
    ONE_WORD,
    TAKES_REST,
    TOPICS,
    Param,
    Spec,
)
from handlers.render.mrkdwn import ChannelRef as ChannelRef  # what a parse gives: callers
from handlers.render.mrkdwn import UserRef as UserRef  # match on them by this module's name
from handlers.render.mrkdwn import unescape


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
    except Invalid as exc:
        return ParseError(exc.message, exc.suggestion)
    try:
        return Command(spec.area, spec.action, _bind(spec, tokens[used:], text), text)
    except Invalid as exc:
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
            raise Invalid(
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
        given = f"has no subcommand {shown(typed[1])}" if len(words) == 2 else "needs a subcommand"
        if guess:  # one suggestion, with its usage: not a "closest" and a "did you mean" too
            raise Invalid(
                f"`{words[0]}` {given} (it takes {', '.join(subs)}).",
                f"Did you mean `{closest.verb}`? Usage: `{closest.usage}`",
            )
        raise Invalid(f"`{words[0]}` {given} (it takes {', '.join(subs)}): `{closest.usage}`")
    # A two-word command when both words are close (`asay run`), else a one-word one, else a group.
    group = _closest(words[0], list(GROUPS))
    sub = _closest(words[1], GROUPS[group]) if group and len(words) == 2 else None
    guess = f"{group} {sub}" if sub else _closest(words[0], ONE_WORD)
    if guess is None and group:
        guess = f"{group} {GROUPS[group][0]}"
    if guess is None:
        raise Invalid(f"There is no command {shown(typed[0])}: `/wallaroo help` lists them all.")
    raise Invalid(
        f"There is no command {shown(typed[0])}.",
        f"Did you mean `{guess}`? Usage: `{BY_VERB[guess].usage}`",
    )


def _bind(spec: Spec, tokens: list[_Token], text: str) -> Arguments:
    args: dict[str, Value] = {}
    if spec.pageable:
        args["page"] = 1
        if len(tokens) >= 2 and tokens[-2].value.lower() == "page":
            args["page"] = read_int(tokens[-1].value, Param("page", "int", "N", "a page number"))
            tokens = tokens[:-2]
    for param, _ in spec.params:
        if param.key in KEYED:
            args[param.key], tokens = _take_keyed(param, tokens)
    for param, optional in spec.params:
        if param.key in KEYED:
            continue
        if param.kind in TAKES_REST:
            args[param.key] = _read_rest(param, tokens, text)
            tokens = []
        elif tokens:
            args[param.key] = READERS[param.kind](tokens.pop(0).value, param)
        elif optional:
            args[param.key] = None
        else:
            raise Invalid(f"`{spec.verb}` needs {spec.needs}")
    if tokens:
        raise Invalid(f"`{spec.verb}` got more than it takes, from {shown(tokens[0].value)} on")
    # By name: tests/test_grammar.py checks that each class's fields are its row's parameters.
    return spec.args(**args)


def _take_keyed(param: Param, tokens: list[_Token]) -> tuple[Value, list[_Token]]:
    """A `key=value` parameter wherever it was typed (None if it was not), and the tokens
    left without it."""
    prefix = f"{param.key}="
    given = [t for t in tokens if unescape(t.value).lower().startswith(prefix)]
    if len(given) > 1:
        raise Invalid(f"`{prefix}` is given {len(given)} times; give it once")
    if not given:
        return None, tokens
    value = given[0].value[len(prefix) :]
    if not value.strip():
        raise Invalid(f"`{prefix}` needs {param.noun}")
    return READERS[param.kind](value, param), [t for t in tokens if t is not given[0]]


def _read_rest(param: Param, tokens: list[_Token], text: str) -> Value:
    if param.kind == "refs":
        return [read_ref(token.value, param) for token in tokens]
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
    raise Invalid(
        f"There is no help on {shown(tokens[0].value)}; the areas are {', '.join(AREAS)}",
        f"Did you mean `help {guess}`?" if guess else None,
    )


def _read_options(tokens: list[_Token]) -> dict[str, str]:
    options: dict[str, str] = {}
    for token in tokens:
        key, equals, value = unescape(token.value).partition("=")
        if not equals or key.strip().lower() not in ASSAY_OPTIONS:
            raise Invalid(
                f"{shown(token.value)} is not an option; write key=value with a key from "
                f"{', '.join(ASSAY_OPTIONS)}"
            )
        if not value.strip():
            raise Invalid(f"`{key.strip().lower()}=` needs a value")
        options[key.strip().lower()] = value.strip()
    return options
