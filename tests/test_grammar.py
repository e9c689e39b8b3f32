"""The `/wallaroo` grammar: every command parses, every bad input gets its usage line back, and no
text whatever makes the parser raise."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.commands.grammar import ChannelRef, Command, ParseError, UserRef, parse_command
from handlers.commands.specs import AREAS, USAGE, help_lines


def parsed(text: str) -> Command:
    result = parse_command(text)
    assert isinstance(result, Command), result
    return result


def refused(text: str) -> ParseError:
    result = parse_command(text)
    assert isinstance(result, ParseError), result
    assert result.message
    return result


WS_P = {"workspace": "housepricedrift", "pipeline": "housepricepipe"}

# (text, area, action, args): every command of the grammar, with and without its optional parts.
HAPPY: list[tuple[str, str, str, dict[str, object]]] = [
    ("help", "help", "show", {"area": None}),
    ("help pipelines", "help", "show", {"area": "pipelines"}),
    ("help pipeline", "help", "show", {"area": "pipelines"}),
    ("help assay create", "help", "show", {"area": "assays"}),
    ("help deploy", "help", "show", {"area": "deployments"}),
    ("workspaces", "workspaces", "list", {"page": 1}),
    ("workspaces page 3", "workspaces", "list", {"page": 3}),
    ("workspace create teama", "workspaces", "create", {"name": "teama"}),
    (
        "workspace users housepricedrift",
        "workspaces",
        "users",
        {"workspace": "housepricedrift"} | {"page": 1},
    ),
    (
        "workspace add-user 5 jane@example.com owner",
        "workspaces",
        "add-user",
        {"workspace": 5, "email": "jane@example.com", "user_type": "owner"},
    ),
    (
        "workspace add-user ws jane@example.com",
        "workspaces",
        "add-user",
        {"workspace": "ws", "email": "jane@example.com", "user_type": None},
    ),
    (
        "workspace remove-user ws jane@example.com",
        "workspaces",
        "remove-user",
        {"workspace": "ws", "email": "jane@example.com"},
    ),
    ("users", "users", "list", {"page": 1}),
    ("user invite bo@example.com", "users", "invite", {"email": "bo@example.com"}),
    ("user activate bo@example.com", "users", "activate", {"email": "bo@example.com"}),
    ("user deactivate bo@example.com", "users", "deactivate", {"email": "bo@example.com"}),
    ("models housepricedrift", "models", "list", {"workspace": "housepricedrift", "page": 1}),
    (
        "model 12 housepricemodel",
        "models",
        "show",
        {"workspace": 12, "model": "housepricemodel", "page": 1},
    ),
    ("pipelines housepricedrift", "pipelines", "list", {"workspace": "housepricedrift", "page": 1}),
    (
        "pipeline create ws newpipe",
        "pipelines",
        "create",
        {"workspace": "ws", "name": "newpipe", "models": []},
    ),
    (
        "pipeline create ws newpipe m1 12",
        "pipelines",
        "create",
        {"workspace": "ws", "name": "newpipe", "models": ["m1", 12]},
    ),
    (
        "pipeline copy ws housepricepipe pipe-copy",
        "pipelines",
        "copy",
        {"workspace": "ws", "source": "housepricepipe", "new_name": "pipe-copy"},
    ),
    ("deploy housepricedrift housepricepipe", "deployments", "deploy", WS_P | {"reason": None}),
    (
        "deploy housepricedrift housepricepipe new model, see #42",
        "deployments",
        "deploy",
        WS_P | {"reason": "new model, see #42"},
    ),
    ("undeploy housepricedrift housepricepipe", "deployments", "undeploy", WS_P | {"reason": None}),
    ("status housepricedrift housepricepipe", "deployments", "status", WS_P),
    ("url 3 7", "deployments", "url", {"workspace": 3, "pipeline": 7}),
    ("assays housepricedrift housepricepipe", "assays", "list", WS_P | {"page": 1}),
    ("assay create housepricedrift housepricepipe", "assays", "create", WS_P | {"options": {}}),
    (
        'assay create housepricedrift housepricepipe iopath="input 0 0" width="24 hours" '
        "baseline_start=2026-10-28T00:00:00Z baseline_end=2026-10-29 warning=0.05 alert=0.1 "
        "bins=5 name=drift METRIC=PSI",
        "assays",
        "create",
        WS_P
        | {
            "options": {
                "iopath": "input 0 0",
                "width": "24 hours",
                "baseline_start": "2026-10-28T00:00:00Z",
                "baseline_end": "2026-10-29",
                "warning": "0.05",
                "alert": "0.1",
                "bins": "5",
                "name": "drift",
                "metric": "PSI",
            }
        },
    ),
    ("assay enable 3", "assays", "enable", {"id": 3}),
    ("assay disable 3", "assays", "disable", {"id": 3}),
    ("assay run 3", "assays", "run", {"id": 3, "page": 1}),
    ("assay baseline 3", "assays", "baseline", {"id": 3, "page": 1}),
    ("assay results 3 page 2", "assays", "results", {"id": 3, "page": 2}),
    # v2 ids: a full UUID (any case), or a prefix of 6+ hex characters; kept as strings.
    (
        "assay run 3FA85F64-5717-4562-B3FC-2C963F66AFA6",
        "assays",
        "run",
        {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "page": 1},
    ),
    ("assay results 3fa85f page 2", "assays", "results", {"id": "3fa85f", "page": 2}),
    ("assay enable 3fa85f64-57", "assays", "enable", {"id": "3fa85f64-57"}),
    ("subscribe assay abcdef", "watches", "subscribe", {"id": "abcdef", "channel": None}),
    ("watch housepricedrift housepricepipe", "watches", "watch", WS_P | {"channel": None}),
    (
        "watch housepricedrift housepricepipe <#C0123|ml-alerts>",
        "watches",
        "watch",
        WS_P | {"channel": ChannelRef("C0123", "ml-alerts")},
    ),
    ("unwatch housepricedrift housepricepipe", "watches", "unwatch", WS_P),
    ("subscribe assay 3", "watches", "subscribe", {"id": 3, "channel": None}),
    (
        "subscribe assay 3 #ml-alerts",
        "watches",
        "subscribe",
        {"id": 3, "channel": ChannelRef(None, "ml-alerts")},
    ),
    ("unsubscribe assay 3", "watches", "unsubscribe", {"id": 3}),
    ("approvals", "approvals", "list", {"page": 1}),
    ("approve 17", "approvals", "approve", {"request_id": 17}),
    ("reject 17", "approvals", "reject", {"request_id": 17, "reason": None}),
    (
        'reject 17 not on a "Friday"',
        "approvals",
        "reject",
        {"request_id": 17, "reason": 'not on a "Friday"'},
    ),
    ("access list", "access", "list", {"page": 1}),
    (
        "access grant <@U0123|jane> operator",
        "access",
        "grant",
        {"user": UserRef("U0123", "jane"), "role": "operator"},
    ),
    (
        "access revoke W0456 Admin",
        "access",
        "revoke",
        {"user": UserRef("W0456", None), "role": "admin"},
    ),
    ("audit", "audit", "list", {"n": None, "page": 1}),
    ("audit 50", "audit", "list", {"n": 50, "page": 1}),
    ("features", "features", "list", {"page": 1}),
]


@pytest.mark.parametrize(("text", "area", "action", "args"), HAPPY, ids=[h[0][:40] for h in HAPPY])
def test_every_command_parses(text: str, area: str, action: str, args: dict[str, object]) -> None:
    command = parsed(text)
    assert (command.area, command.action, command.args) == (area, action, args)
    assert command.text == text


def test_every_area_is_a_known_one_and_every_usage_line_parses_when_filled_in() -> None:
    fillers = {
        "[MODEL ...]": "m1 m2",
        "[key=value ...]": "width=1",
        "=DATE": "=2026-11-01",
        "[reason...]": "because",
        "[owner|collaborator]": "owner",
        "[area]": "users",
        "[#channel]": "#ops",
        "[N]": "3",
        "NEW_NAME": "n2",
        "REQUEST_ID": "2",
        "PIPELINE": "pipe",
        "SOURCE": "src",
        "MODEL": "m",
        "NAME": "n",
        "EMAIL": "a@b.io",
        "ROLE": "admin",
        "@user": "@jane",
        "WS": "ws",
        "ID": "1",
    }
    assert set(USAGE) == set(AREAS)
    lines = [line for area_lines in USAGE.values() for line in area_lines]
    assert len(lines) == 38
    for line in lines:
        for placeholder, value in fillers.items():
            line = line.replace(placeholder, value)
        assert isinstance(parse_command(line), Command), line


def test_the_slash_command_itself_and_empty_text_mean_help() -> None:
    assert parsed("/wallaroo pipelines ws").area == "pipelines"
    for text in ("", "   ", "/wallaroo", "/wallaroo  "):
        assert (parsed(text).area, parsed(text).action, parsed(text).args) == (
            "help",
            "show",
            {"area": None},
        )


def test_verbs_and_choices_ignore_case_but_names_keep_it() -> None:
    command = parsed("PIPELINES HousePriceDrift")
    assert command.args["workspace"] == "HousePriceDrift"
    assert parsed("Workspace Add-User ws a@b.io OWNER").args["user_type"] == "owner"


# The two required options are shown as required (issue 16).
CREATE_USAGE = "/wallaroo assay create WS PIPELINE baseline_start=DATE baseline_end=DATE"
CREATE_USAGE += " [key=value ...]"
# (text, the usage line the error must show): at least one bad input for every command.
BAD = [
    ("help nosuch", "/wallaroo help [area]"),
    ("workspaces everything", "/wallaroo workspaces"),
    ("workspace create", "/wallaroo workspace create NAME"),
    ("workspace create a b", "/wallaroo workspace create NAME"),
    ("workspace users", "/wallaroo workspace users WS"),
    ("workspace add-user ws", "/wallaroo workspace add-user WS EMAIL [owner|collaborator]"),
    ("workspace add-user ws a@b.io boss", "/wallaroo workspace add-user WS EMAIL"),
    ("workspace remove-user ws jane", "/wallaroo workspace remove-user WS EMAIL"),
    ("users everyone", "/wallaroo users"),
    ("user invite", "/wallaroo user invite EMAIL"),
    ("user activate jane", "/wallaroo user activate EMAIL"),
    ("user deactivate a@b", "/wallaroo user deactivate EMAIL"),
    ("models", "/wallaroo models WS"),
    ("model ws", "/wallaroo model WS MODEL"),
    ("pipelines", "/wallaroo pipelines WS"),
    ("pipeline create ws", "/wallaroo pipeline create WS NAME [MODEL ...]"),
    ("pipeline copy ws src", "/wallaroo pipeline copy WS SOURCE NEW_NAME"),
    ("deploy ws", "/wallaroo deploy WS PIPELINE [reason...]"),
    ("undeploy", "/wallaroo undeploy WS PIPELINE [reason...]"),
    ("status ws", "/wallaroo status WS PIPELINE"),
    ("url ws pipe extra", "/wallaroo url WS PIPELINE"),
    ("assays ws", "/wallaroo assays WS PIPELINE"),
    ("assay create ws pipe width", CREATE_USAGE),
    ("assay create ws pipe colour=red", CREATE_USAGE),
    ("assay create ws pipe alert=", CREATE_USAGE),
    ("assay enable x", "/wallaroo assay enable ID"),
    ("assay enable 3fa85", "/wallaroo assay enable ID"),  # a prefix needs 6 characters
    ("assay enable 3fa85g", "/wallaroo assay enable ID"),  # not hex
    ("assay enable 3fa85f645717", "/wallaroo assay enable ID"),  # the dash is missing
    ("assay disable 0", "/wallaroo assay disable ID"),
    ("assay run", "/wallaroo assay run ID"),
    ("assay baseline -1", "/wallaroo assay baseline ID"),
    ("assay results 1 2", "/wallaroo assay results ID"),
    ("assay results 1 page 0", "/wallaroo assay results ID"),
    ("watch ws pipe general", "/wallaroo watch WS PIPELINE [#channel]"),
    ("unwatch ws", "/wallaroo unwatch WS PIPELINE"),
    ("subscribe assay x", "/wallaroo subscribe assay ID [#channel]"),
    ("subscribe 3", "/wallaroo subscribe assay ID [#channel]"),
    ("unsubscribe assay", "/wallaroo unsubscribe assay ID"),
    ("approvals pending", "/wallaroo approvals"),
    ("approve", "/wallaroo approve REQUEST_ID"),
    ("approve abc", "/wallaroo approve REQUEST_ID"),
    ("reject", "/wallaroo reject REQUEST_ID [reason...]"),
    ("access list all", "/wallaroo access list"),
    ("access grant jane operator", "/wallaroo access grant @user ROLE"),
    ("access revoke @jane wizard", "/wallaroo access revoke @user ROLE"),
    ("audit x", "/wallaroo audit [N]"),
    ("audit 0", "/wallaroo audit [N]"),
    ("features all", "/wallaroo features"),
]


@pytest.mark.parametrize(("text", "usage"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_usage(text: str, usage: str) -> None:
    assert usage in refused(text).message


def test_missing_arguments_are_named() -> None:
    message = refused("workspace add-user ws").message
    assert message == (
        "`workspace add-user` needs a workspace and an email: "
        "`/wallaroo workspace add-user WS EMAIL [owner|collaborator]`"
    )
    assert (
        "`wizard` is not a role; use one of viewer, operator, approver, admin"
        in refused("access grant @jane wizard").message
    )
    assert "from `b` on" in refused("workspace create a b").message


def test_unknown_verbs_get_the_closest_command() -> None:
    # One suggestion, with the usage: not "the closest is …" and "Did you mean …" both.
    error = refused("pipelins housepricedrift")
    assert error.suggestion == "Did you mean `pipelines`? Usage: `/wallaroo pipelines WS`"
    assert error.message == "There is no command `pipelins`."
    assert refused("workspacez").suggestion.startswith("Did you mean `workspaces`?")
    assert refused("asay run 3").suggestion.startswith("Did you mean `assay run`?")
    creat = refused("workspace creat x")
    assert creat.suggestion.startswith("Did you mean `workspace create`?")
    assert "/wallaroo workspace create" not in creat.message
    nothing_close = refused("xyzzy")
    assert nothing_close.suggestion is None
    assert "`/wallaroo help`" in nothing_close.message
    assert refused("help pipelnes").suggestion == "Did you mean `help pipelines`?"


def test_group_words_alone_list_their_subcommands() -> None:
    message = refused("workspace").message
    assert "create, users, add-user, remove-user" in message
    assert "`/wallaroo workspace create NAME`" in message


def test_quotes_hold_spaces_and_an_unbalanced_one_is_an_error() -> None:
    assert parsed('workspace create "my workspace"').args["name"] == "my workspace"
    assert parsed("workspace create \u201cmy workspace\u201d").args["name"] == "my workspace"
    assert parsed('status "my ws" pipe').args == {"workspace": "my ws", "pipeline": "pipe"}
    assert parsed('status "42" pipe').args["workspace"] == 42
    error = refused('workspace create "my workspace')
    assert "never closed" in error.message
    assert "character 18" in error.message
    assert "can't be empty" in refused('workspace create ""').message


def test_digits_are_ids_and_anything_else_a_name() -> None:
    assert parsed("status 3 7").args == {"workspace": 3, "pipeline": 7}
    assert parsed("status ws3 7a").args == {"workspace": "ws3", "pipeline": "7a"}
    # Not ASCII digits, and far too many digits: names, not ids, and no exception.
    assert parsed("status \u00b2 1").args["workspace"] == "\u00b2"
    assert parsed("status " + "9" * 5000 + " 1").args["workspace"] == "9" * 5000
    assert "whole number" in refused("audit " + "9" * 5000).message


@pytest.mark.parametrize(
    ("token", "user"),
    [
        ("<@U0123|jane>", UserRef("U0123", "jane")),
        ("<@U0123>", UserRef("U0123", None)),
        ("<@W0123|jane doe>", UserRef("W0123", "jane doe")),
        ("U0123", UserRef("U0123", None)),
        ("W0123", UserRef("W0123", None)),
        ("@U0123", UserRef("U0123", None)),
        ("@jane", UserRef(None, "jane")),
    ],
)
def test_users_in_every_form(token: str, user: UserRef) -> None:
    assert parsed(f"access grant {token} viewer").args["user"] == user


@pytest.mark.parametrize(
    ("token", "channel"),
    [
        ("<#C0123|ml-alerts>", ChannelRef("C0123", "ml-alerts")),
        ("<#C0123>", ChannelRef("C0123", None)),
        ("<#C0123|>", ChannelRef("C0123", None)),
        ("C0123", ChannelRef("C0123", None)),
        ("G0123", ChannelRef("G0123", None)),
        ("#ml-alerts", ChannelRef(None, "ml-alerts")),
    ],
)
def test_channels_in_every_form(token: str, channel: ChannelRef) -> None:
    assert parsed(f"subscribe assay 4 {token}").args["channel"] == channel


@pytest.mark.parametrize(
    "token", ["<#C0123|ops>", "<!channel>", "jane", "u0123", "@", "<https://x|y>", "<@C0123>"]
)
def test_what_is_not_a_user_is_refused(token: str) -> None:
    assert "/wallaroo access grant @user ROLE" in refused(f"access grant {token} viewer").message


def test_slack_mailto_links_are_unwrapped() -> None:
    command = parsed("user invite <mailto:jane@example.com|jane@example.com>")
    assert command.args["email"] == "jane@example.com"
    added = parsed("workspace add-user ws <mailto:Bo.Li@ex.co.uk|Bo.Li@ex.co.uk> collaborator")
    assert added.args["email"] == "Bo.Li@ex.co.uk"
    assert "not an email" in refused("user invite <https://example.com|example.com>").message


def test_slack_escaping_is_undone_and_links_of_names_unwrapped() -> None:
    # With escaping on, Slack sends a typed `&` as `&amp;` and links names that look like domains.
    assert parsed("reject 3 R&amp;D said &lt;no&gt;").args["reason"] == "R&D said <no>"
    assert parsed("status <http://house.price|house.price> p").args["workspace"] == "house.price"


def test_hostile_input_comes_back_escaped_in_errors() -> None:
    for text in ("status <!channel> p", "<@U123> hi", "audit <https://x|y>", "&lt;!here&gt;"):
        error = refused(text)
        for raw in ("<!", "<@", "<http"):
            assert raw not in error.message
            assert raw not in (error.suggestion or "")


def test_help_lines() -> None:
    assert help_lines("pipelines") == USAGE["pipelines"]
    assert help_lines("pipeline") == USAGE["pipelines"]
    assert help_lines("nosuch") == []
    everything = help_lines(None)
    assert "/wallaroo workspace create NAME" in everything
    assert len(everything) == sum(len(lines) for lines in USAGE.values())
    assert help_lines("deploy", about=True)[0].startswith(
        "/wallaroo deploy WS PIPELINE [reason...] — "
    )


def assert_total(result: Command | ParseError) -> None:
    assert isinstance(result, Command | ParseError)
    if isinstance(result, ParseError):
        assert result.message.strip()
        # Everything the user typed is escaped in errors, so nothing in one can ping or link.
        assert "<" not in result.message and "<" not in (result.suggestion or "")
    else:
        assert result.area in AREAS


WORDS = sorted(
    {
        word.strip("[]").lower()
        for lines in USAGE.values()
        for line in lines
        for word in line.split()
    }
    | set(AREAS)
    | {"viewer", "operator", "approver", "admin", "owner", "page", "/wallaroo"}
)
JUNK = [
    '"',
    "\u201c",
    "<",
    ">",
    "<@U1|x>",
    "<#C1>",
    "<!channel>",
    "<mailto:a@b.io|a@b.io>",
    "<https://x|y z>",
    "&amp;",
    "&lt;",
    "0",
    "12",
    "-1",
    "\u00b2",
    "a=b",
    'iopath="x',
    "=",
    "@",
    "#",
    "U1",
    "C1",
    "",
    "\n",
    "\t",
]
TOKEN_LISTS = st.lists(
    st.one_of(st.sampled_from(WORDS), st.sampled_from(JUNK), st.text(max_size=6)), max_size=8
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    assert_total(parse_command(text))


@settings(max_examples=300, deadline=None, database=None)
@given(TOKEN_LISTS, st.sampled_from([" ", "  ", "\t"]))
def test_grammar_words_mixed_with_junk_never_raise(tokens: list[str], separator: str) -> None:
    assert_total(parse_command(separator.join(tokens)))
