"""Replies as a new user meets them (issue 16): one date format, case-only typos, where a role
comes from, `@name` users, `#3` request ids, plain wording, the console seeing what Slack
shows. Through the router against the demo emulator over real HTTP, in both API modes."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.chat.console import ConsoleChat
from bot.chat.slack import SlackChat, build_web_client
from bot.services import open_services
from emulator.server import serve_in_thread
from handlers.commands.arguments_chatops import Approve, Reject
from handlers.commands.grammar import Command, parse_command
from handlers.commands.router import handle_command
from handlers.context import Actor, Services
from handlers.render.alert_messages import render_episode
from handlers.render.approval_messages import render_request, summary
from handlers.render.blocks import Reply, render_text
from storage.alerts import AlertEpisode
from storage.approvals import ApprovalRequest, ApprovalState
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.fake_slack import FakeSlack

api_mode = both_api_modes

ADA = Actor("UADMIN", "ada", "T1", "C1")
BO = Actor("UBO", "bo", "T1", "C1")
DATE = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"


@pytest.fixture
def demo(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture
def console() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
async def services(demo: Emulator, tmp_path: Path, console: io.StringIO) -> AsyncIterator[Services]:
    settings = demo.bot_settings(tmp_path, chatops_admins="UADMIN,UBO")
    async with open_services(settings, chat=ConsoleChat(console)) as opened:
        yield opened


async def reply_to(services: Services, text: str, actor: Actor = ADA) -> Reply:
    reply = await handle_command(services, actor, text)
    reply.to_slack()  # slack_sdk checks every block's limits
    return reply


async def say(services: Services, text: str, actor: Actor = ADA) -> str:
    return render_text(await reply_to(services, text, actor))


# --- names -----------------------------------------------------------------------------------


async def test_a_name_typed_in_another_case_is_the_one_name(services: Services) -> None:
    assert "owner" in await say(services, "workspace users HOUSEPRICEDRIFT")
    assert "Running" in await say(services, "status HousePriceDrift HOUSEPRICEPIPE")
    assert "housepricemodel" in await say(services, "model housepricedrift HousePriceModel")


async def test_names_that_differ_only_in_case_are_listed_not_guessed(services: Services) -> None:
    await say(services, "workspace create teamx")
    await say(services, "workspace create TeamX")
    assert "owner" in await say(services, "workspace users teamx")  # exact wins
    ambiguous = await say(services, "workspace users TEAMX")
    assert "2 workspaces are named TEAMX" in ambiguous
    assert "teamx (id" in ambiguous and "TeamX (id" in ambiguous
    assert "Give the id" in ambiguous


async def test_a_typo_gets_one_suggestion(services: Services) -> None:
    text = await say(services, "workspace users housepricedrif")
    assert text.count("housepricedrift") == 1 and "Did you mean" in text
    command = await say(services, "workspacez")
    assert "closest" not in command and command.count("Did you mean") == 1
    assert "/wallaroo workspaces" in command


async def test_a_huge_name_is_echoed_short_and_whole(services: Services) -> None:
    reply = await reply_to(services, "workspace users " + "x" * 5000)
    payload = str(reply.to_slack())
    assert len(payload) < 1000
    text = render_text(reply)
    assert "No workspace is named " + "x" * 79 + "…." in text
    for block in reply.to_slack()["blocks"]:
        shown = block.get("text", {}).get("text", "")
        assert shown.count("*") % 2 == 0, shown  # no dangling bold marker


def test_a_mention_where_a_name_belongs_says_what_to_give() -> None:
    refused = parse_command("status <@U123> pipe")
    assert not isinstance(refused, Command)
    assert "is a Slack mention, not a workspace: give its name or id" in refused.message
    named = parse_command("workspace create <@U123>")
    assert not isinstance(named, Command)
    assert "not a name: give it as plain text" in named.message
    assert "A name is a name" not in named.message


async def test_not_deployed_is_information_not_success(services: Services) -> None:
    await say(services, "pipeline create housepricedrift newpipe housepricemodel")
    reply = await reply_to(services, "status housepricedrift newpipe")
    blocks = str(reply.to_slack()["blocks"])
    assert ":information_source: *newpipe* is not deployed" in blocks
    assert ":white_check_mark:" not in blocks
    assert render_text(reply).startswith("\u2139\ufe0f newpipe is not deployed")


# --- access ----------------------------------------------------------------------------------


async def test_a_role_from_chatops_admins_cannot_be_revoked_and_says_so(
    services: Services,
) -> None:
    refused = await say(services, "access revoke <@UBO|bo> admin")
    assert "is an admin from CHATOPS_ADMINS" in refused
    assert "cannot be revoked from chat" in refused and "did not have" not in refused
    assert "<@UBO>" not in refused and "@UBO" in refused
    assert "admin" in await say(services, "access list", BO)  # still admin: it worked
    await say(services, "access grant <@UOPS|ops> operator")
    listing = await say(services, "access list")
    assert "@UBO  ·  admin  ·  from CHATOPS_ADMINS" in listing
    assert re.search(rf"@UOPS  ·  operator  ·  granted in chat by @UADMIN on {DATE}", listing)


async def test_users_are_named_in_one_of_three_ways(services: Services) -> None:
    forms = "`<@U123|name>` (a mention), `U123` or `@name`"
    hello = await reply_to(services, "access grant hello approver")
    assert forms in render_text(hello)
    assert "<@U123|name>" not in str(hello.to_slack())  # shown, never a live mention
    # In the console a user is their own id, as `:as alice` acts as `alice`.
    assert "alice now has the approver role" in await say(services, "access grant @alice approver")
    alice = Actor("alice", "alice")
    assert "There is no approval request #99" in await say(services, "approve #99", alice)
    assert "UOPS now has the operator role" in await say(services, "access grant UOPS operator")


@pytest.fixture
def slack() -> Iterator[tuple[FakeSlack, str]]:
    fake = FakeSlack(
        members=[
            {"id": "UALICE", "name": "alice", "profile": {"display_name": "Alice"}},
            {"id": "UJ1", "name": "jo.smith", "profile": {"display_name": "jo"}},
            {"id": "UJ2", "name": "jo.brown", "profile": {"real_name": "Jo"}},
            {"id": "UGONE", "name": "gone", "deleted": True},
            # A bot (or Slackbot) holds no role: never the one an `@name` means.
            {"id": "BJO", "name": "jo", "is_bot": True},
            {"id": "USLACKBOT", "name": "slackbot", "profile": {"real_name": "Jo"}},
            {"id": "ULATE", "name": "late", "profile": {"display_name": "late"}},
        ],
        members_per_page=2,  # ULATE is on the last of four pages
    )
    with serve_in_thread(fake.app()) as url:
        yield fake, url


async def test_at_name_is_looked_up_in_slack(
    demo: Emulator, tmp_path: Path, slack: tuple[FakeSlack, str]
) -> None:
    fake, url = slack
    settings = demo.bot_settings(tmp_path, slack_bot_token="xoxb-test", slack_api_url=f"{url}/api/")
    async with open_services(settings, chat=SlackChat(build_web_client(settings))) as services:
        granted = await say(services, "access grant @ALICE approver")
        assert "@UALICE now has the approver role" in granted
        two = await say(services, "access grant @jo approver")
        assert "2 Slack users could be `@jo`: `UJ1`, `UJ2`" in two and "Mention the one" in two
        nobody = await say(services, "access grant @gone approver")
        assert "Slack has no user named `@gone`" in nobody and "`U123`" in nobody
        assert "@ULATE now has the approver role" in await say(
            services, "access grant @late approver"
        )
        assert "no user named `@slackbot`" in await say(services, "access grant @slackbot approver")
    assert len(fake.api_calls("users.list")) == 5 * 4  # every page, every time


# --- approvals -------------------------------------------------------------------------------


def test_request_ids_take_the_hash_the_bot_writes() -> None:
    for text, args in (
        ("approve #3", Approve(request_id=3)),
        ("approve 3", Approve(request_id=3)),
        ("reject #12 too risky", Reject(request_id=12, reason="too risky")),
    ):
        parsed = parse_command(text)
        assert isinstance(parsed, Command), text
        assert parsed.args == args
    assert not isinstance(parse_command("approve ##3"), Command)


async def test_a_rejection_reads_the_same_in_the_console_as_in_slack(
    services: Services, console: io.StringIO
) -> None:
    asked = await say(services, "deploy housepricedrift housepricepipe new model")
    assert re.search(rf"has 1 h to decide \(until {DATE}\)", asked)
    posted = console.getvalue()
    assert re.search(rf"Expires: {DATE} \(in 59 min\)", posted), posted
    listing = await say(services, "approvals", BO)
    assert re.search(rf"expires {DATE} \(in 59 min\)", listing), listing
    rejected = await say(services, "reject #1 too risky today", BO)
    assert "Rejected request #1. Reason given: _too risky today_" in rejected
    edit = console.getvalue().splitlines()[-2]
    assert "edited] Deploy request #1 (housepricepipe): rejected by bo: too risky today" in edit
    assert "already rejected by @UBO" in await say(services, "approve #1", BO)


def request_in(state: ApprovalState, **fields: object) -> ApprovalRequest:
    now = datetime(2026, 12, 1, 7, 45, tzinfo=UTC)
    values: dict = dict(
        id=3, action="deploy", workspace_id=1, workspace_name="ws", pipeline_id=2,
        pipeline_name="pipe", deploy_id="pipe", requester_id="UOPS", channel="C1",
        created_at=now, expires_at=now + timedelta(hours=1), state=state.value,
    )  # fmt: skip
    return ApprovalRequest(**(values | fields))


@pytest.mark.parametrize(
    ("state", "phrase"),
    [
        (ApprovalState.PENDING, "waiting for an approver"),
        (ApprovalState.CALLING, "approved by bo; it is being sent to Wallaroo"),
        (ApprovalState.FOLLOWING, "approved by bo; Wallaroo took it and it is being followed"),
        (ApprovalState.SUCCEEDED, "approved by bo; it succeeded. Running."),
        (ApprovalState.FAILED, "approved by bo; it failed. Running."),
        (ApprovalState.EXPIRED, "expired before anyone decided"),
    ],
)
def test_states_read_as_phrases(state: ApprovalState, phrase: str) -> None:
    decided = (
        {} if state in (ApprovalState.PENDING, ApprovalState.EXPIRED) else {"decided_by": "bo"}
    )
    outcome = {"outcome": "Running."} if state.is_final and decided else {}
    text = summary(request_in(state, **decided, **outcome))
    assert text == f"Deploy request #3 (pipe): {phrase}"
    assert f"{state.value} by" not in text


def test_only_a_pending_request_says_how_long_is_left() -> None:
    pending = render_text(render_request(request_in(ApprovalState.PENDING)))
    assert re.search(r"Expires: 2026-12-01 08:45 UTC \((in \d+ \w+|\d+ \w+ ago)\)", pending)
    rejected = request_in(ApprovalState.REJECTED, decided_by="UBO", decision_note="no")
    shown = render_text(render_request(rejected))
    assert "Expires: 2026-12-01 08:45 UTC\n" in shown and "ago" not in shown


# --- alerts ----------------------------------------------------------------------------------


def test_a_snooze_says_until_when_and_how_long() -> None:
    now = datetime(2026, 12, 1, 7, 45, tzinfo=UTC)
    episode = AlertEpisode(
        id=1, kind="deployment", subject="pipeline:2", title="pipe", channel="C1",
        severity="Error", snoozed_until=now + timedelta(hours=4),
        detail='{"since": "2026-12-01T07:40:12.5+00:00", "workspace_name": "ws"}',
    )  # fmt: skip
    shown = render_text(render_episode(episode, now))
    assert "Snoozed until 2026-12-01 11:45 UTC (in 4 h)." in shown
    assert "Since: 2026-12-01 07:40 UTC" in shown
