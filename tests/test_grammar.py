"""The `/wallaroo` grammar: every command parses, every bad input gets its usage line back, and no
text whatever makes the parser raise."""

from __future__ import annotations

import dataclasses
import typing
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.commands import arguments as a
from handlers.commands.grammar import ChannelRef, Command, ParseError, UserRef, parse_command
from handlers.commands.specs import AREAS, SPECS, USAGE, Spec, help_lines
from storage.roles import Role

A = TypeVar("A")


def parsed(text: str) -> Command:
    result = parse_command(text)
    assert isinstance(result, Command), result
    return result


def args_of(text: str, kind: type[A]) -> A:
    """The arguments `text` parses to, checked to be of the class `kind`."""
    args = parsed(text).args
    assert isinstance(args, kind), args
    return args


def refused(text: str) -> ParseError:
    result = parse_command(text)
    assert isinstance(result, ParseError), result
    assert result.message
    return result


WS_P = {"workspace": "housepricedrift", "pipeline": "housepricepipe"}
OPTIONS = {
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

# (text, area, action, arguments): every command of the grammar, with and without its optional
# parts. Dataclasses compare their class too, so each line also checks which class came back.
HAPPY: list[tuple[str, str, str, object]] = [
    ("help", "help", "show", a.Help(area=None)),
    ("help pipelines", "help", "show", a.Help(area="pipelines")),
    ("help pipeline", "help", "show", a.Help(area="pipelines")),
    ("help assay create", "help", "show", a.Help(area="assays")),
    ("help deploy", "help", "show", a.Help(area="deployments")),
    ("workspaces", "workspaces", "list", a.WorkspaceList(page=1)),
    ("workspaces page 3", "workspaces", "list", a.WorkspaceList(page=3)),
    ("workspace create teama", "workspaces", "create", a.WorkspaceCreate(name="teama")),
    (
        "workspace users housepricedrift",
        "workspaces",
        "users",
        a.WorkspaceUsers(workspace="housepricedrift", page=1),
    ),
    (
        "workspace add-user 5 jane@example.com owner",
        "workspaces",
        "add-user",
        a.WorkspaceAddUser(workspace=5, email="jane@example.com", user_type="owner"),
    ),
    (
        "workspace add-user ws jane@example.com",
        "workspaces",
        "add-user",
        a.WorkspaceAddUser(workspace="ws", email="jane@example.com", user_type=None),
    ),
    (
        "workspace remove-user ws jane@example.com",
        "workspaces",
        "remove-user",
        a.WorkspaceRemoveUser(workspace="ws", email="jane@example.com"),
    ),
    ("users", "users", "list", a.UserList(page=1)),
    ("user invite bo@example.com", "users", "invite", a.UserInvite(email="bo@example.com")),
    ("user activate bo@example.com", "users", "activate", a.UserActivate(email="bo@example.com")),
    (
        "user deactivate bo@example.com",
        "users",
        "deactivate",
        a.UserDeactivate(email="bo@example.com"),
    ),
    ("models housepricedrift", "models", "list", a.ModelList(workspace="housepricedrift", page=1)),
    (
        "model 12 housepricemodel",
        "models",
        "show",
        a.ModelShow(workspace=12, model="housepricemodel", page=1),
    ),
    (
        "pipelines housepricedrift",
        "pipelines",
        "list",
        a.PipelineList(workspace="housepricedrift", page=1),
    ),
    (
        "pipeline create ws newpipe",
        "pipelines",
        "create",
        a.PipelineCreate(workspace="ws", name="newpipe", models=[]),
    ),
    (
        "pipeline create ws newpipe m1 12",
        "pipelines",
        "create",
        a.PipelineCreate(workspace="ws", name="newpipe", models=["m1", 12]),
    ),
    (
        "pipeline copy ws housepricepipe pipe-copy",
        "pipelines",
        "copy",
        a.PipelineCopy(workspace="ws", source="housepricepipe", new_name="pipe-copy"),
    ),
    (
        "deploy housepricedrift housepricepipe",
        "deployments",
        "deploy",
        a.Deploy(**WS_P, reason=None),
    ),
    (
        "deploy housepricedrift housepricepipe new model, see #42",
        "deployments",
        "deploy",
        a.Deploy(**WS_P, reason="new model, see #42"),
    ),
    (
        "undeploy housepricedrift housepricepipe",
        "deployments",
        "undeploy",
        a.Undeploy(**WS_P, reason=None),
    ),
    ("status housepricedrift housepricepipe", "deployments", "status", a.Status(**WS_P)),
    ("url 3 7", "deployments", "url", a.Url(workspace=3, pipeline=7)),
    ("assays housepricedrift housepricepipe", "assays", "list", a.AssayList(**WS_P, page=1)),
    (
        "assay create housepricedrift housepricepipe",
        "assays",
        "create",
        a.AssayCreate(**WS_P, options={}),
    ),
    (
        'assay create housepricedrift housepricepipe iopath="input 0 0" width="24 hours" '
        "baseline_start=2026-10-28T00:00:00Z baseline_end=2026-10-29 warning=0.05 alert=0.1 "
        "bins=5 name=drift METRIC=PSI",
        "assays",
        "create",
        a.AssayCreate(**WS_P, options=OPTIONS),
    ),
    ("assay enable 3", "assays", "enable", a.AssayEnable(id=3)),
    ("assay disable 3", "assays", "disable", a.AssayDisable(id=3)),
    ("assay run 3", "assays", "run", a.AssayRun(id=3, page=1)),
    ("assay baseline 3", "assays", "baseline", a.AssayBaseline(id=3, page=1)),
    ("assay results 3 page 2", "assays", "results", a.AssayResults(id=3, page=2)),
    # v2 ids: a full UUID (any case), or a prefix of 6+ hex characters; kept as strings.
    (
        "assay run 3FA85F64-5717-4562-B3FC-2C963F66AFA6",
        "assays",
        "run",
        a.AssayRun(id="3fa85f64-5717-4562-b3fc-2c963f66afa6", page=1),
    ),
    ("assay results 3fa85f page 2", "assays", "results", a.AssayResults(id="3fa85f", page=2)),
    ("assay enable 3fa85f64-57", "assays", "enable", a.AssayEnable(id="3fa85f64-57")),
    # 6 to 8 digits may start a UUID as well as be a v1 id: kept as typed, leading 0 and all.
    ("assay results 083085", "assays", "results", a.AssayResults(id="083085", page=1)),
    ("assay enable 12345678", "assays", "enable", a.AssayEnable(id="12345678")),
    ("assay enable 12345", "assays", "enable", a.AssayEnable(id=12345)),
    ("assay enable 123456789", "assays", "enable", a.AssayEnable(id=123456789)),
    ("subscribe assay abcdef", "watches", "subscribe", a.Subscribe(id="abcdef", channel=None)),
    ("watch housepricedrift housepricepipe", "watches", "watch", a.Watch(**WS_P, channel=None)),
    (
        "watch housepricedrift housepricepipe <#C0123|ml-alerts>",
        "watches",
        "watch",
        a.Watch(**WS_P, channel=ChannelRef("C0123", "ml-alerts")),
    ),
    ("unwatch housepricedrift housepricepipe", "watches", "unwatch", a.Unwatch(**WS_P)),
    ("subscribe assay 3", "watches", "subscribe", a.Subscribe(id=3, channel=None)),
    (
        "subscribe assay 3 #ml-alerts",
        "watches",
        "subscribe",
        a.Subscribe(id=3, channel=ChannelRef(None, "ml-alerts")),
    ),
    ("unsubscribe assay 3", "watches", "unsubscribe", a.Unsubscribe(id=3)),
    ("approvals", "approvals", "list", a.ApprovalList(page=1)),
    ("approve 17", "approvals", "approve", a.Approve(request_id=17)),
    ("reject 17", "approvals", "reject", a.Reject(request_id=17, reason=None)),
    (
        'reject 17 not on a "Friday"',
        "approvals",
        "reject",
        a.Reject(request_id=17, reason='not on a "Friday"'),
    ),
    ("access list", "access", "list", a.AccessList(page=1)),
    (
        "access grant <@U0123|jane> operator",
        "access",
        "grant",
        a.AccessGrant(user=UserRef("U0123", "jane"), role=Role.OPERATOR),
    ),
    (
        "access revoke W0456 Admin",
        "access",
        "revoke",
        a.AccessRevoke(user=UserRef("W0456", None), role=Role.ADMIN),
    ),
    ("audit", "audit", "list", a.AuditList(n=None, page=1)),
    ("audit 50", "audit", "list", a.AuditList(n=50, page=1)),
    ("features", "features", "list", a.Features(page=1)),
]


@pytest.mark.parametrize(("text", "area", "action", "args"), HAPPY, ids=[h[0][:40] for h in HAPPY])
def test_every_command_parses(text: str, area: str, action: str, args: object) -> None:
    command = parsed(text)
    assert (command.area, command.action, command.args) == (area, action, args)
    assert command.text == text


# What the grammar's reader for each kind of parameter gives.
KIND_TYPES: dict[str, object] = {
    "ref": a.Ref,
    "name": str,
    "email": str,
    "assay_id": a.AssayId,
    "int": int,
    "role": Role,
    "workspace_role": str,
    "user": UserRef,
    "channel": ChannelRef,
    "topic": str,
    "refs": list[a.Ref],
    "rest": str,
    "options": dict[str, str],
    "file": str,
    "framework": str,
    "url": str,
}
EMPTY_WHEN_LEFT_OUT = {"refs", "options"}  # other optional parameters left out are None


@pytest.mark.parametrize("spec", SPECS, ids=[spec.verb for spec in SPECS])
def test_each_arguments_class_has_exactly_its_rows_parameters(spec: Spec) -> None:
    expected: dict[str, object] = {}
    for param, optional in spec.params:
        kind = KIND_TYPES[param.kind]
        left_out_is_none = optional and param.kind not in EMPTY_WHEN_LEFT_OUT
        expected[param.key] = kind | None if left_out_is_none else kind
    if spec.pageable:
        expected["page"] = int
    assert [field.name for field in dataclasses.fields(spec.args)] == list(expected)
    assert typing.get_type_hints(spec.args) == expected
    assert spec.args.__dataclass_params__.frozen


def test_each_command_has_a_class_of_its_own_and_the_router_knows_them_all() -> None:
    classes = [spec.args for spec in SPECS]
    assert len(set(classes)) == len(classes) == len(SPECS)
    # Arguments is what dispatch.py matches on, exhaustively (mypy checks that part).
    assert set(typing.get_args(a.Arguments)) == set(classes)


def test_every_area_is_a_known_one_and_every_usage_line_parses_when_filled_in() -> None:
    fillers = {
        "[MODEL ...]": "m1 m2",
        "[framework=onnx]": "framework=onnx",
        "[runbook=URL]": "runbook=https://wiki.example.com/rb",
        "[owner=@user]": "owner=<@U1|jane>",
        "FILE": "F0123ABCD",
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
    assert len(lines) == len(SPECS)  # every command has its usage line, each parses
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
            a.Help(area=None),
        )


def test_verbs_and_choices_ignore_case_but_names_keep_it() -> None:
    assert args_of("PIPELINES HousePriceDrift", a.PipelineList).workspace == "HousePriceDrift"
    assert args_of("Workspace Add-User ws a@b.io OWNER", a.WorkspaceAddUser).user_type == "owner"
    assert args_of("access grant @jane OPERATOR", a.AccessGrant).role is Role.OPERATOR


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


def test_the_usage_in_an_error_says_page_where_the_command_pages() -> None:
    page_zero = refused("assay results 1 page 0").message
    assert page_zero.endswith("`/wallaroo assay results ID [page N]`")
    assert refused("workspaces everything").message.endswith("`/wallaroo workspaces [page N]`")
    assert refused("status ws").message.endswith("`/wallaroo status WS PIPELINE`")
    assert refused("audit x").message.endswith("`/wallaroo audit [N]`")  # one N is enough


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
    assert args_of('workspace create "my workspace"', a.WorkspaceCreate).name == "my workspace"
    curly = args_of("workspace create \u201cmy workspace\u201d", a.WorkspaceCreate)
    assert curly.name == "my workspace"
    assert parsed('status "my ws" pipe').args == a.Status(workspace="my ws", pipeline="pipe")
    assert args_of('status "42" pipe', a.Status).workspace == 42
    error = refused('workspace create "my workspace')
    assert "never closed" in error.message
    assert "character 18" in error.message
    assert "can't be empty" in refused('workspace create ""').message


def test_digits_are_ids_and_anything_else_a_name() -> None:
    assert parsed("status 3 7").args == a.Status(workspace=3, pipeline=7)
    assert parsed("status ws3 7a").args == a.Status(workspace="ws3", pipeline="7a")
    # Not ASCII digits, and far too many digits: names, not ids, and no exception.
    assert args_of("status \u00b2 1", a.Status).workspace == "\u00b2"
    assert args_of("status " + "9" * 5000 + " 1", a.Status).workspace == "9" * 5000
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
    assert args_of(f"access grant {token} viewer", a.AccessGrant).user == user


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
    assert args_of(f"subscribe assay 4 {token}", a.Subscribe).channel == channel


@pytest.mark.parametrize(
    "token", ["<#C0123|ops>", "<!channel>", "jane", "u0123", "@", "<https://x|y>", "<@C0123>"]
)
def test_what_is_not_a_user_is_refused(token: str) -> None:
    assert "/wallaroo access grant @user ROLE" in refused(f"access grant {token} viewer").message


def test_slack_mailto_links_are_unwrapped() -> None:
    invited = args_of("user invite <mailto:jane@example.com|jane@example.com>", a.UserInvite)
    assert invited.email == "jane@example.com"
    typed = "workspace add-user ws <mailto:Bo.Li@ex.co.uk|Bo.Li@ex.co.uk> collaborator"
    assert args_of(typed, a.WorkspaceAddUser).email == "Bo.Li@ex.co.uk"
    assert "not an email" in refused("user invite <https://example.com|example.com>").message


def test_slack_escaping_is_undone_and_links_of_names_unwrapped() -> None:
    # With escaping on, Slack sends a typed `&` as `&amp;` and links names that look like domains.
    assert args_of("reject 3 R&amp;D said &lt;no&gt;", a.Reject).reason == "R&D said <no>"
    linked = args_of("status <http://house.price|house.price> p", a.Status)
    assert linked.workspace == "house.price"


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
