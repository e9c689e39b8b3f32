"""The `/wallaroo` command grammar: text in, a `Command` or a `ParseError` out, never an exception.

One table (`_SPECS`) drives parsing, usage lines, help and suggestions, so they cannot drift apart.
Arguments come back unescaped (real names, real emails): whoever renders them must escape them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from handlers.mrkdwn import (
    ChannelRef,
    UserRef,
    code,
    read_channel,
    read_email,
    read_user,
    split_entity,
    unescape,
)

ROLES = ("viewer", "operator", "approver", "admin")
WORKSPACE_ROLES = ("owner", "collaborator")
ASSAY_OPTIONS = ("iopath", "baseline_start", "baseline_end", "width", "warning", "alert", "bins")
ASSAY_OPTIONS += ("name", "metric")
AREAS = ("help", "workspaces", "users", "models", "pipelines", "deployments", "assays", "watches")
AREAS += ("approvals", "access", "audit", "features")

ArgValue = str | int | list[str | int] | dict[str, str] | UserRef | ChannelRef | None


@dataclass(frozen=True)
class Command:
    area: str
    action: str
    # Every parameter of the command is present; optional ones that were left out are None.
    args: dict[str, ArgValue] = field(default_factory=dict)
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


@dataclass(frozen=True)
class _Param:
    key: str  # its name in Command.args
    kind: str  # which reader turns a token into a value
    shown: str  # how usage lines spell it
    noun: str  # how error messages name it


_PARAMS = {
    "WS": _Param("workspace", "ref", "WS", "a workspace"),
    "PIPELINE": _Param("pipeline", "ref", "PIPELINE", "a pipeline"),
    "MODEL": _Param("model", "ref", "MODEL", "a model"),
    "SOURCE": _Param("source", "ref", "SOURCE", "the pipeline to copy"),
    "NAME": _Param("name", "name", "NAME", "a name"),
    "NEW_NAME": _Param("new_name", "name", "NEW_NAME", "a new name"),
    "EMAIL": _Param("email", "email", "EMAIL", "an email"),
    "ID": _Param("id", "int", "ID", "an assay id"),
    "REQUEST_ID": _Param("request_id", "int", "REQUEST_ID", "a request id"),
    "N": _Param("n", "int", "N", "a count"),
    "ROLE": _Param("role", "role", "ROLE", "a role"),
    "WS_ROLE": _Param("user_type", "workspace_role", "owner|collaborator", "a workspace role"),
    "USER": _Param("user", "user", "@user", "a user"),
    "CHANNEL": _Param("channel", "channel", "#channel", "a channel"),
    # These take every remaining token.
    "TOPIC": _Param("area", "topic", "area", "a topic"),
    "MODELS": _Param("models", "refs", "MODEL ...", "models"),
    "REASON": _Param("reason", "rest", "reason...", "a reason"),
    "OPTIONS": _Param("options", "options", "key=value ...", "options"),
}
_TAKES_REST = {"topic", "refs", "rest", "options"}
_LISTINGS = {"list", "users", "show", "run", "baseline", "results"}  # actions that answer lists


@dataclass(frozen=True)
class _Spec:
    verb: str
    area: str
    action: str
    signature: str  # _PARAMS keys; a trailing "?" marks an optional one
    about: str

    @property
    def params(self) -> list[tuple[_Param, bool]]:
        return [(_PARAMS[word.rstrip("?")], word.endswith("?")) for word in self.signature.split()]

    @property
    def pageable(self) -> bool:
        """Whether a trailing `page N` (which long list replies point to) is accepted."""
        rest = any(param.kind in _TAKES_REST for param, _ in self.params)
        return self.action in _LISTINGS and not rest

    @property
    def usage(self) -> str:
        shown = [f"[{p.shown}]" if optional else p.shown for p, optional in self.params]
        return " ".join(["/wallaroo", self.verb, *shown])

    @property
    def needs(self) -> str:
        nouns = [p.noun for p, optional in self.params if not optional]
        return nouns[0] if len(nouns) == 1 else ", ".join(nouns[:-1]) + " and " + nouns[-1]


_S = _Spec
_SPECS = (
    _S("help", "help", "show", "TOPIC?", "what the commands are, for one area or all"),
    _S("workspaces", "workspaces", "list", "", "list workspaces"),
    _S("workspace create", "workspaces", "create", "NAME", "create a workspace"),
    _S("workspace users", "workspaces", "users", "WS", "list a workspace's members"),
    _S("workspace add-user", "workspaces", "add-user", "WS EMAIL WS_ROLE?", "add a member"),
    _S("workspace remove-user", "workspaces", "remove-user", "WS EMAIL", "remove a member"),
    _S("users", "users", "list", "", "list Wallaroo users"),
    _S("user invite", "users", "invite", "EMAIL", "invite a user by email"),
    _S("user activate", "users", "activate", "EMAIL", "re-activate a user"),
    _S("user deactivate", "users", "deactivate", "EMAIL", "deactivate a user"),
    _S("models", "models", "list", "WS", "list a workspace's models"),
    _S("model", "models", "show", "WS MODEL", "show a model and its versions"),
    _S("pipelines", "pipelines", "list", "WS", "list a workspace's pipelines"),
    _S("pipeline create", "pipelines", "create", "WS NAME MODELS?", "create a pipeline"),
    _S("pipeline copy", "pipelines", "copy", "WS SOURCE NEW_NAME", "copy a pipeline"),
    _S("deploy", "deployments", "deploy", "WS PIPELINE REASON?", "deploy (after approval)"),
    _S("undeploy", "deployments", "undeploy", "WS PIPELINE REASON?", "undeploy (after approval)"),
    _S("status", "deployments", "status", "WS PIPELINE", "show a deployment's status"),
    _S("url", "deployments", "url", "WS PIPELINE", "show a pipeline's inference URL"),
    _S("assays", "assays", "list", "WS PIPELINE", "list a pipeline's assays"),
    _S("assay create", "assays", "create", "WS PIPELINE OPTIONS?", "create a drift assay"),
    _S("assay enable", "assays", "enable", "ID", "turn an assay on"),
    _S("assay disable", "assays", "disable", "ID", "turn an assay off"),
    _S("assay run", "assays", "run", "ID", "run an assay now: score, status, bins per window"),
    _S("assay baseline", "assays", "baseline", "ID", "show an assay's baseline"),
    _S("assay results", "assays", "results", "ID", "show an assay's stored results"),
    _S("watch", "watches", "watch", "WS PIPELINE CHANNEL?", "post deployment status changes"),
    _S("unwatch", "watches", "unwatch", "WS PIPELINE", "stop watching a deployment"),
    _S("subscribe assay", "watches", "subscribe", "ID CHANNEL?", "post an assay's alerts"),
    _S("unsubscribe assay", "watches", "unsubscribe", "ID", "stop posting an assay's alerts"),
    _S("approvals", "approvals", "list", "", "list pending approval requests"),
    _S("approve", "approvals", "approve", "REQUEST_ID", "approve a request"),
    _S("reject", "approvals", "reject", "REQUEST_ID REASON?", "reject a request"),
    _S("access list", "access", "list", "", "list who holds which role"),
    _S("access grant", "access", "grant", "USER ROLE", "give someone a role"),
    _S("access revoke", "access", "revoke", "USER ROLE", "take a role away"),
    _S("audit", "audit", "list", "N?", "show the last N audit entries"),
    _S("features", "features", "list", "", "list the Wallaroo instance's enabled features"),
)
_BY_VERB = {spec.verb: spec for spec in _SPECS}
# First words that only start two-word commands, e.g. `workspace` → create, users, ...
_GROUPS: dict[str, list[str]] = {}
for _spec in _SPECS:
    if " " in _spec.verb:
        _first, _rest = _spec.verb.split(" ", 1)
        _GROUPS.setdefault(_first, []).append(_rest)
_ONE_WORD = [spec.verb for spec in _SPECS if " " not in spec.verb]
# `help X` accepts an area, any command's first word, or a whole command.
_TOPICS = {area: area for area in AREAS}
_TOPICS |= {spec.verb.split()[0]: spec.area for spec in _SPECS}
_TOPICS |= {spec.verb: spec.area for spec in _SPECS}

USAGE: dict[str, list[str]] = {a: [s.usage for s in _SPECS if s.area == a] for a in AREAS}


def help_lines(area: str | None, *, about: bool = False) -> list[str]:
    """Plain usage lines for one area (or any command word), or for all when None; with `about`,
    each ends in what the command does. An unknown area gives no lines."""
    topic = None if area is None else _TOPICS.get(area.strip().lower())
    if area is not None and topic is None:
        return []
    specs = [spec for spec in _SPECS if topic is None or spec.area == topic]
    return [f"{spec.usage} — {spec.about}" if about else spec.usage for spec in specs]


def parse_command(text: str) -> Command | ParseError:
    """Parse what follows `/wallaroo`; a leading `/wallaroo` (the console sends it) is dropped."""
    text = text if isinstance(text, str) else ""
    try:
        tokens = _tokenize(text)
        if tokens and tokens[0].value.lower() == "/wallaroo":
            tokens = tokens[1:]
        if not tokens:
            return Command("help", "show", {"area": None}, text)
        spec, used = _find_spec([token.value for token in tokens[:2]])
    except _Invalid as exc:
        return ParseError(exc.message, exc.suggestion)
    try:
        return Command(spec.area, spec.action, _bind(spec, tokens[used:], text), text)
    except _Invalid as exc:
        return ParseError(f"{exc.message}: `{spec.usage}`", exc.suggestion)


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


def _find_spec(typed: list[str]) -> tuple[_Spec, int]:
    words = [word.lower() for word in typed]
    if len(words) == 2 and " ".join(words) in _BY_VERB:
        return _BY_VERB[" ".join(words)], 2
    if words[0] in _BY_VERB:
        return _BY_VERB[words[0]], 1
    if words[0] in _GROUPS:
        subs = _GROUPS[words[0]]
        guess = _closest(words[1], subs) if len(words) == 2 else None
        closest = _BY_VERB[f"{words[0]} {guess or subs[0]}"]
        given = f"has no subcommand {_shown(typed[1])}" if len(words) == 2 else "needs a subcommand"
        raise _Invalid(
            f"`{words[0]}` {given} (it takes {', '.join(subs)}): `{closest.usage}`",
            f"Did you mean `{closest.verb}`?" if guess else None,
        )
    # A two-word command when both words are close (`asay run`), else a one-word one, else a group.
    group = _closest(words[0], list(_GROUPS))
    sub = _closest(words[1], _GROUPS[group]) if group and len(words) == 2 else None
    guess = f"{group} {sub}" if sub else _closest(words[0], _ONE_WORD)
    if guess is None and group:
        guess = f"{group} {_GROUPS[group][0]}"
    if guess is None:
        raise _Invalid(f"There is no command {_shown(typed[0])}: `/wallaroo help` lists them all.")
    raise _Invalid(
        f"There is no command {_shown(typed[0])}; the closest is `{_BY_VERB[guess].usage}`",
        f"Did you mean `{guess}`?",
    )


def _bind(spec: _Spec, tokens: list[_Token], text: str) -> dict[str, ArgValue]:
    args: dict[str, ArgValue] = {}
    if spec.pageable:
        args["page"] = 1
        if len(tokens) >= 2 and tokens[-2].value.lower() == "page":
            args["page"] = _read_int(tokens[-1].value, _Param("page", "int", "N", "a page number"))
            tokens = tokens[:-2]
    for param, optional in spec.params:
        if param.kind in _TAKES_REST:
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
    return args


def _shown(raw: str) -> str:
    text = unescape(raw)
    return code(text if len(text) <= 40 else text[:39] + "…")


def _is_number(text: str) -> bool:
    # ASCII only: str.isdigit() also accepts "²", which int() rejects; 18 digits stay far from
    # Python's limit on int() of huge strings.
    return text.isascii() and text.isdigit() and len(text) <= 18


def _read_name(raw: str, param: _Param) -> str:
    entity = split_entity(raw)
    if entity and entity[0][:1] in ("@", "#", "!"):
        raise _Invalid(f"{param.noun.capitalize()} is a name or an id, not {_shown(raw)}")
    if entity:  # Slack links names that look like domains (`house.price`): the label was typed
        raw = entity[1] or entity[0].removeprefix("mailto:")
    name = unescape(raw).strip()
    if not name:
        raise _Invalid(f"{param.noun.capitalize()} can't be empty")
    return name


def _read_ref(raw: str, param: _Param) -> str | int:
    name = _read_name(raw, param)
    return int(name) if _is_number(name) else name


def _read_int(raw: str, param: _Param) -> int:
    text = unescape(raw)
    if not _is_number(text) or int(text) == 0:
        raise _Invalid(f"{_shown(raw)} is not {param.noun}; use a whole number above 0")
    return int(text)


def _read_choice(raw: str, param: _Param) -> str:
    choices = ROLES if param.kind == "role" else WORKSPACE_ROLES
    if unescape(raw).lower() not in choices:
        raise _Invalid(f"{_shown(raw)} is not {param.noun}; use one of {', '.join(choices)}")
    return unescape(raw).lower()


def _read_slack(raw: str, param: _Param) -> str | UserRef | ChannelRef:
    reader, example = _SLACK_READERS[param.kind]
    value = reader(raw)
    if value is None:
        raise _Invalid(f"{_shown(raw)} is not {param.noun}; write one like `{example}`")
    return value


_SLACK_READERS = {
    "email": (read_email, "jane@example.com"),
    "user": (read_user, "@jane"),
    "channel": (read_channel, "#ml-alerts"),
}
_READERS = {"ref": _read_ref, "name": _read_name, "int": _read_int, "role": _read_choice}
_READERS |= {"workspace_role": _read_choice} | dict.fromkeys(_SLACK_READERS, _read_slack)


def _read_rest(param: _Param, tokens: list[_Token], text: str) -> ArgValue:
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
        if topic in _TOPICS:
            return _TOPICS[topic]
    guess = _closest(words[0], list(_TOPICS))
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
