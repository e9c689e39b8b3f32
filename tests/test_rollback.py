"""Rollback behind the approval buttons, end to end on both API modes: signed slash commands
and clicks into the real /slack/events, the emulator over HTTP, a fake Slack recording what
the bot posted; and what every deploy or rollback request shows against the live version."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.chat.console import ConsoleChat
from bot.services import open_services
from handlers.render.approval_messages import APPROVE_ACTION
from tests.helpers.approval_flows import (
    ROLES,
    STARTUP_SECONDS,
    ask,
    click,
    request_id_in,
    thread_replies,
)
from tests.helpers.commands import say
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import Bot, running_bot
from tests.helpers.version_flows import (
    DEPLOY_CALLS,
    demo_step,
    deploy_directly,
    live_version,
    new_version,
    posted_request,
)

api_mode = both_api_modes


@pytest.fixture(scope="module")
def drift(start_module_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_module_emulator(
        api=api_mode, seed_demo=True, deployment_startup_seconds=STARTUP_SECONDS
    )


@pytest.fixture
def bot(drift: Emulator, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(drift, tmp_path, **ROLES) as started:
        ask(started, "access grant <@UOPS|ops> operator")
        yield started


@pytest.fixture
def name() -> str:
    return f"p{uuid.uuid4().hex[:10]}"


def approve_and_start(drift: Emulator, bot: Bot, request_id: str, approver: str) -> str:
    """Approve, wait until the bot follows a Starting deployment, let it run: the outcome
    told in the request's thread."""
    told = len(thread_replies(bot.slack, 0))
    answer = click(bot, APPROVE_ACTION, request_id, approver)
    assert "Approved request" in answer, answer
    wait_until(
        lambda: any(
            "Starting" in str(u) and f"#{request_id}" in str(u)
            for u in bot.slack.api_calls("chat.update")
        )
    )
    drift.control("clock", {"advance_seconds": STARTUP_SECONDS + 1})
    return json.dumps(thread_replies(bot.slack, told + 1)[told])


def test_rollback_approved_by_a_second_user_runs_the_earlier_version(
    drift: Emulator, bot: Bot, name: str
) -> None:
    first = new_version(drift, name, [demo_step(drift)])
    deploy_directly(drift, name, first)
    # `pipeline create` on an existing name makes a model-less version (version 2).
    assert "no model steps" in ask(bot, f"pipeline create housepricedrift {name}", "UOPS")

    # Deploying it: the request warns, and shows the model step it removes.
    request_id = request_id_in(ask(bot, f"deploy housepricedrift {name}", "UOPS"))
    shown = posted_request(bot, request_id)
    assert "has no model step*: approving deploys a pipeline that runs no model" in shown
    assert "version 2 `" in shown and ", replacing the live version 1 `" in shown
    assert "\u2796 removed *housepricemodel*" in shown
    assert "It runs no model" in shown  # in the Approve button's confirmation too
    assert "is deployed" in approve_and_start(drift, bot, request_id, "UAPP1")
    model_less = live_version(drift, name)
    assert model_less not in (None, first["pipeline_variant_version"])

    deploys = drift.calls_to(DEPLOY_CALLS)
    reply = ask(bot, f"rollback housepricedrift {name} previous model-less by mistake", "UOPS")
    request_id = request_id_in(reply)
    assert "Roll pipeline" in reply and first["pipeline_variant_version"][:8] in reply
    shown = posted_request(bot, request_id)
    assert "model-less by mistake" in shown and "Rollback request" in shown
    assert "back to version 1 `" in shown and "replacing the live version 2 `" in shown
    assert "\u2795 added *housepricemodel*" in shown

    refusal = click(bot, APPROVE_ACTION, request_id, "UOPS")
    assert "needs the *approver* role" in refusal  # an operator asks; an approver decides
    outcome = approve_and_start(drift, bot, request_id, "UAPP2")
    assert "is rolled back" in outcome and "Running" in outcome
    bot.drain()
    # Decided, its message still shows what it changed (kept with the request).
    edits = [u for u in bot.slack.api_calls("chat.update") if f"#{request_id}" in json.dumps(u)]
    last_edit = json.dumps(edits[-1]["blocks"], ensure_ascii=False)
    assert "Done." in last_edit and "\u2795 added *housepricemodel*" in last_edit
    assert drift.calls_to(DEPLOY_CALLS) == deploys + 1
    assert live_version(drift, name) == first["pipeline_variant_version"]
    listed = ask(bot, f"versions housepricedrift {name}")
    assert f"Live: version *1* `{first['pipeline_variant_version'][:8]}`" in listed

    audit = ask(bot, "audit 40")
    for step in ("rollback call: pipelines/deploy sent", "rollback succeeded"):
        assert f"request {request_id} {step}" in audit, step


def test_self_approval_of_a_rollback_is_refused(drift: Emulator, bot: Bot, name: str) -> None:
    deploy_directly(drift, name, new_version(drift, name, [demo_step(drift)]))
    deploy_directly(drift, name, new_version(drift, name, []))
    request_id = request_id_in(ask(bot, f"rollback housepricedrift {name}", "UAPP1"))
    deploys = drift.calls_to(DEPLOY_CALLS)
    refusal = click(bot, APPROVE_ACTION, request_id, "UAPP1")
    assert "someone else must decide it (four-eyes)" in refusal
    assert "someone else must decide it" in ask(bot, f"approve {request_id}", "UAPP1")
    assert drift.calls_to(DEPLOY_CALLS) == deploys
    assert f"#{request_id}" in ask(bot, "approvals", "UAPP2")  # still pending for others


def test_default_is_the_version_before_the_live_one_and_a_second_is_refused_with_a_link(
    drift: Emulator, bot: Bot, name: str
) -> None:
    step = demo_step(drift)
    oldest = new_version(drift, name, [step])
    first = new_version(drift, name, [step])
    second = new_version(drift, name, [step])
    third = new_version(drift, name, [])
    deploy_directly(drift, name, second)  # live: version 3 of 4 (1 is the first made)
    reply = ask(bot, f"rollback housepricedrift {name}", "UOPS")
    request_id = request_id_in(reply)
    assert first["pipeline_variant_version"][:8] in reply  # version 2: the one before
    shown = posted_request(bot, request_id)
    assert "back to version 2 `" in shown and ", replacing the live version 3 `" in shown
    assert second["pipeline_variant_version"][:8] in shown  # the live one it is compared with
    for other in (oldest, third):
        assert other["pipeline_variant_version"][:8] not in shown
    assert "The same model steps as the live version" in posted_request(bot, request_id)
    (request_ts,) = bot.slack.posted_ts

    # A second rollback of the same pipeline, by UUID prefix this time: the first is pending.
    again = ask(bot, f"rollback housepricedrift {name} {first['pipeline_variant_version'][:8]}")
    assert f"Request *#{request_id}* to roll back" in again and "already waiting" in again
    link = f"https://fake.slack.test/archives/C1/p{request_ts.replace('.', '')}"
    assert f"posted in <#C1>: <{link}|see it>)" in again, again
    assert len(bot.slack.api_calls("chat.postMessage")) == 1  # no second request posted
    assert "Nothing is waiting" not in ask(bot, "approvals", "UAPP1")


@pytest.mark.parametrize(
    ("live", "typed", "expected"),
    [
        (None, "", "is not deployed, so there is nothing to roll back"),
        ("oldest", "", "is its oldest: there is no earlier version to roll back to"),
        ("newest", "2", "is the one live now: rolling back to it would change nothing"),
        ("oldest", "2", "is newer than the live one (version 1)"),
        ("newest", "7", "There is no version 7: the pipeline has 2"),
        ("newest", "3fa", "is too short to name a version"),
        ("newest", "ffffffff", "The pipeline has no version `ffffffff`"),
    ],
)
def test_rollback_refusals(
    drift: Emulator, bot: Bot, name: str, live: str | None, typed: str, expected: str
) -> None:
    step = demo_step(drift)
    oldest = new_version(drift, name, [step])
    newest = new_version(drift, name, [step])
    if live is not None:
        deploy_directly(drift, name, oldest if live == "oldest" else newest)
    deploys = drift.calls_to(DEPLOY_CALLS)
    reply = ask(bot, f"rollback housepricedrift {name} {typed}".strip(), "UOPS")
    assert expected in reply, reply
    assert "Approval request" not in reply and not bot.slack.api_calls("chat.postMessage")
    assert drift.calls_to(DEPLOY_CALLS) == deploys


@pytest.mark.parametrize("reason", ["the model broke", "bad scores since 14:00", "Previously ok"])
def test_a_reason_with_no_version_rolls_back_to_the_previous_one(
    drift: Emulator, bot: Bot, name: str, reason: str
) -> None:
    step = demo_step(drift)
    before = new_version(drift, name, [step])
    deploy_directly(drift, name, new_version(drift, name, [step]))
    reply = ask(bot, f"rollback housepricedrift {name} {reason}", "UOPS")
    assert "Approval request" in reply and before["pipeline_variant_version"][:8] in reply, reply
    assert reason in posted_request(bot, request_id_in(reply))


def test_a_viewer_may_list_versions_but_not_roll_back(drift: Emulator, bot: Bot, name: str) -> None:
    step = demo_step(drift)
    new_version(drift, name, [step])
    deploy_directly(drift, name, new_version(drift, name, [step]))
    assert "Versions of" in ask(bot, f"versions housepricedrift {name}", "UVIEWER")
    refusal = ask(bot, f"rollback housepricedrift {name}", "UVIEWER")
    assert "operator" in refusal and "Approval request" not in refusal


async def test_the_console_shows_the_diff_and_names_the_pending_request(
    drift: Emulator, tmp_path: Path, name: str
) -> None:
    first = new_version(drift, name, [demo_step(drift)])
    deploy_directly(drift, name, first)
    deploy_directly(drift, name, new_version(drift, name, []))
    out = io.StringIO()
    async with open_services(drift.bot_settings(tmp_path), chat=ConsoleChat(out)) as services:
        listed = await say(services, f"versions housepricedrift {name}")
        asked = await say(services, f"rollback housepricedrift {name}")
        again = await say(services, f"rollback housepricedrift {name} 1")
    assert "1." in listed and "2." in listed and "no model step" in listed
    assert "Approval request #1 created" in asked
    posted = out.getvalue()  # the request as the console "posts" it
    assert "Rollback request #1" in posted and "\u2795 added housepricemodel" in posted
    assert "Request #1 to roll back" in again and "(posted in #C1)" in again
    assert "http" not in again  # the console has no links: the number names it
