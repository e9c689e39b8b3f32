"""A rollback whose call's answer was lost (a 504) is reconciled from Wallaroo's state and never
sent again, on both API modes; and one is refused as stale once the pipeline moved under it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from handlers.render.approval_messages import APPROVE_ACTION
from tests.helpers.approval_flows import (
    ROLES,
    STARTUP_SECONDS,
    ask,
    click,
    request_id_in,
    thread_replies,
)
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import Bot, running_bot
from tests.helpers.version_flows import (
    DEPLOY_CALLS,
    demo_step,
    deploy_directly,
    live_version,
    new_version,
)

GRACE_SECONDS = 2.0  # how long a call of unknown fate is looked for (the default is 30 s)

api_mode = both_api_modes


@pytest.fixture(scope="module")
def drift(start_module_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_module_emulator(
        api=api_mode, seed_demo=True, deployment_startup_seconds=STARTUP_SECONDS
    )


@pytest.fixture
def name() -> str:
    return f"p{uuid.uuid4().hex[:10]}"


@pytest.fixture
def bot(drift: Emulator, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(drift, tmp_path, **ROLES) as started:
        ask(started, "access grant <@UOPS|ops> operator")
        yield started


@pytest.mark.parametrize("took_effect", [True, False])
def test_a_rollback_whose_answer_was_a_504_is_reconciled_never_resent(
    drift: Emulator, tmp_path: Path, name: str, took_effect: bool
) -> None:
    first = new_version(drift, name, [demo_step(drift)])
    deploy_directly(drift, name, first)
    second = new_version(drift, name, [])
    deploy_directly(drift, name, second)
    with running_bot(drift, tmp_path, chatops_call_grace_seconds=GRACE_SECONDS, **ROLES) as bot:
        request_id = request_id_in(ask(bot, f"rollback housepricedrift {name}"))
        deploys = drift.calls_to(DEPLOY_CALLS)
        fault = {"path_prefix": DEPLOY_CALLS, "error_rate": 1.0, "status": 504}
        drift.control("faults", fault | {"after_effect": took_effect})
        try:
            assert "Rolling back" in click(bot, APPROVE_ACTION, request_id, "UAPP1")
            if took_effect:
                wait_until(lambda: live_version(drift, name) == first["pipeline_variant_version"])
                drift.control("clock", {"advance_seconds": STARTUP_SECONDS + 1})
            (told,) = thread_replies(bot.slack, 1, timeout=30)
        finally:
            drift.http.delete(f"{drift.url}/emulator/faults")
        text = json.dumps(told)
        if took_effect:
            assert "is rolled back" in text and "Running" in text
            assert live_version(drift, name) == first["pipeline_variant_version"]
        else:
            assert "was not rolled back" in text and "nothing was deployed" in text
            assert "Ask for a new rollback" in text
            assert live_version(drift, name) == second["pipeline_variant_version"]
        bot.drain()
        assert drift.calls_to(DEPLOY_CALLS) == deploys + 1  # reconciled, never resent
        assert f"request {request_id} rollback unknown-fate" in ask(bot, "audit 20")


def test_a_rollback_is_stale_once_the_pipeline_moved_under_it(
    drift: Emulator, bot: Bot, name: str
) -> None:
    first = new_version(drift, name, [demo_step(drift)])
    deploy_directly(drift, name, first)
    deploy_directly(drift, name, new_version(drift, name, []))
    request_id = request_id_in(ask(bot, f"rollback housepricedrift {name}", "UOPS"))
    deploy_directly(drift, name, first)  # someone put it back by other means meanwhile
    deploys = drift.calls_to(DEPLOY_CALLS)
    refusal = click(bot, APPROVE_ACTION, request_id, "UAPP1")
    assert f"Request #{request_id} is stale" in refusal
    assert f"{name} already runs version {first['pipeline_variant_version'][:8]}" in refusal
    assert drift.calls_to(DEPLOY_CALLS) == deploys


def test_a_rollback_is_stale_once_another_version_went_live(
    drift: Emulator, bot: Bot, name: str
) -> None:
    """The request showed its diff against the version live then; approving it after another
    went live (deployed under the same deployment id) would deploy against an unseen state."""
    deploy_directly(drift, name, new_version(drift, name, [demo_step(drift)]))
    deploy_directly(drift, name, new_version(drift, name, [demo_step(drift)]))
    request_id = request_id_in(ask(bot, f"rollback housepricedrift {name}", "UOPS"))
    deploy_directly(drift, name, new_version(drift, name, []))  # live moves on, to version 3
    deploys = drift.calls_to(DEPLOY_CALLS)
    answer = click(bot, APPROVE_ACTION, request_id, "UAPP1")
    assert "changed since the request" in answer or "stale" in answer, answer
    assert "is live now, not" in answer, answer
    bot.drain()
    assert drift.calls_to(DEPLOY_CALLS) == deploys


def test_a_deploy_is_stale_once_another_version_went_live(
    drift: Emulator, bot: Bot, name: str
) -> None:
    deploy_directly(drift, name, new_version(drift, name, [demo_step(drift)]))
    newest = new_version(drift, name, [])  # not live: what `deploy` asks for
    request_id = request_id_in(ask(bot, f"deploy housepricedrift {name}", "UOPS"))
    # Someone deploys it behind the bot's back: the newest version is the same, the live
    # one is not (the diff the approver sees was against the old one).
    deploy_directly(drift, name, newest)
    deploys = drift.calls_to(DEPLOY_CALLS)
    answer = click(bot, APPROVE_ACTION, request_id, "UAPP1")
    assert "is live now, not" in answer, answer
    bot.drain()
    assert drift.calls_to(DEPLOY_CALLS) == deploys


def test_two_changes_of_one_pipeline_are_not_pending_at_once(
    drift: Emulator, bot: Bot, name: str
) -> None:
    deploy_directly(drift, name, new_version(drift, name, [demo_step(drift)]))
    deploy_directly(drift, name, new_version(drift, name, [demo_step(drift)]))
    first = request_id_in(ask(bot, f"rollback housepricedrift {name}", "UOPS"))
    for other in ("deploy", "undeploy"):  # any second change of the pipeline, for that matter
        refusal = ask(bot, f"{other} housepricedrift {name}", "UOPS")
        assert f"Request *#{first}* to roll back" in refusal, refusal
        assert "did not make another" in refusal
