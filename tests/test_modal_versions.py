"""The deploy form's version input and its time limit, on both API generations: a version
earlier than the newest is asked as `rollback`, and one rollback would refuse (newer than the
live one, the live one itself, a pipeline not deployed) is refused in the form while it is open;
a Wallaroo too slow to check the form within Slack's 3 s is said in the form, and the check is
dropped (nothing is asked once Slack has given up on the answer). The emulator over HTTP, its
latency fault, signed view_submissions into the real /slack/events, the fake Slack."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from handlers.interactions.forms import SLOW
from handlers.render.modals import DEPLOY_VERSION, DEPLOY_WORKSPACE
from tests.helpers.approval_flows import STARTUP_SECONDS
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.modals import (
    ask,
    audit_rows,
    errors_of,
    filled,
    ids_of,
    open_form,
    requests_posted,
    submit,
)
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import Bot, running_bot
from tests.helpers.version_flows import demo_step, deploy_directly, new_version

LATENCY_MS = 3000  # each Wallaroo call: one alone is past the form's 2.5 s

api_mode = both_api_modes


@pytest.fixture(scope="module")
def drift(start_module_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_module_emulator(
        api=api_mode, seed_demo=True, deployment_startup_seconds=STARTUP_SECONDS
    )


@pytest.fixture
def bot(drift: Emulator, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(drift, tmp_path) as started:
        ask(started, "access grant <@UOPS|ops> operator")
        yield started


@pytest.fixture
def name() -> str:
    return f"v{uuid.uuid4().hex[:10]}"


def test_a_version_rollback_would_refuse_is_refused_in_the_form_and_an_earlier_one_is_asked(
    drift: Emulator, bot: Bot, name: str
) -> None:
    # Four versions, numbered by age 1 2 3 4 as created; the second created (version 2) is live.
    new_version(drift, name, [demo_step(drift)])
    live = new_version(drift, name, [demo_step(drift)])
    deploy_directly(drift, name, live)
    new_version(drift, name, [demo_step(drift)])
    new_version(drift, name, [demo_step(drift)])
    view = open_form(bot)
    workspace, pipeline_id = ids_of(drift, bot, view, name)
    cases = [
        ("3", "Version 3 is newer than the live one (version 2)"),
        ("2", "Version 2"),  # the live one
        ("99", "There is no version 99"),
        (live["pipeline_variant_version"][:8], "is the one live now"),
    ]
    for version, said in cases:
        errors = errors_of(submit(bot, view, filled(workspace, pipeline_id, "x", version), "UOPS"))
        assert list(errors) == [DEPLOY_VERSION] and said in errors[DEPLOY_VERSION], errors
    assert not any(r.command_text.startswith("[modal] rollback") for r in audit_rows(bot))

    # Version 1 is earlier than the live one: the form closes and rollback asks for approval.
    answer = submit(bot, view, filled(workspace, pipeline_id, "back", "previous"), "UOPS")
    assert errors_of(answer) == {}
    assert wait_until(lambda: len(requests_posted(bot)) == 1)
    (told,) = bot.slack.wait_for("/api/chat.postEphemeral", 1)
    assert "Approval request *#" in json.dumps(told.body)
    assert wait_until(  # the outcome row is written after the reply, as for a typed command
        lambda: any(
            r.command_text.startswith(f"[modal] rollback housepricedrift {name} ")
            and r.command_text.endswith(" back")
            and r.outcome == "ok"
            for r in audit_rows(bot)
        )
    )


def test_an_earlier_version_of_a_pipeline_not_deployed_is_refused_in_the_form(
    drift: Emulator, bot: Bot, name: str
) -> None:
    drift.new_demo_pipeline(name)
    drift.new_demo_pipeline(name)  # a second version; the first is now an earlier one
    view = open_form(bot)
    workspace, pipeline_id = ids_of(drift, bot, view, name)
    for version in ("1", "previous"):
        errors = errors_of(
            submit(bot, view, filled(workspace, pipeline_id, version=version), "UOPS")
        )
        assert "is not deployed, so there is nothing to roll back" in errors[DEPLOY_VERSION]
    # Version 2 is the newest: a plain deploy request for it.
    assert errors_of(submit(bot, view, filled(workspace, pipeline_id, version="2"), "UOPS")) == {}
    assert wait_until(lambda: len(requests_posted(bot)) == 1)


def test_a_wallaroo_too_slow_for_slacks_3_seconds_is_said_in_the_form_and_nothing_is_asked(
    drift: Emulator, bot: Bot, name: str
) -> None:
    drift.new_demo_pipeline(name)
    view = open_form(bot)
    workspace, pipeline_id = ids_of(drift, bot, view, name)
    drift.control("faults", {"path_prefix": "/v1/api/", "latency_ms": LATENCY_MS})
    try:
        answer = submit(bot, view, filled(workspace, pipeline_id, "slow one"), "UOPS")
    finally:
        drift.http.delete(f"{drift.url}/emulator/faults")
    assert errors_of(answer) == {DEPLOY_WORKSPACE: SLOW}

    def slow() -> list[tuple[str, str]]:
        rows = [r for r in audit_rows(bot) if r.command_text == "[modal] deploy"]
        return [(r.outcome, r.slack_user_id) for r in rows]

    assert wait_until(lambda: slow() == [("error", "UOPS")]), slow()  # written after the answer

    # Submitted again once Wallaroo answers: the one request asked is this one. (Had the slow
    # check gone on, its request would be first and this one refused as a second.)
    time.sleep(LATENCY_MS / 1000)  # the slow calls' answers are in by now
    answer = submit(bot, view, filled(workspace, pipeline_id, "fast one"), "UOPS")
    assert errors_of(answer) == {}
    (told,) = bot.slack.wait_for("/api/chat.postEphemeral", 1)
    assert "Approval request *#" in json.dumps(told.body)
    (posted,) = requests_posted(bot)
    assert "fast one" in json.dumps(posted["blocks"])
    assert not any("slow one" in r.command_text for r in audit_rows(bot, 40))
