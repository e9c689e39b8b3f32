"""`assay create WS PIPELINE` with no options opens a modal with every option and its default;
its submission names each bad input (the typed form's own checks) and otherwise creates the
assay exactly as the typed command. Signed requests into /slack/events, the fake Slack, the
emulator over HTTP, on both API generations."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from handlers.commands.assay_options import V1_IOPATH, V2_IOPATH
from handlers.interactions.forms import FORGED, SLOW
from handlers.render.modals import ASSAY_BLOCK, ASSAY_VIEW
from storage.audit import AuditEntry, recent_entries
from tests.helpers.commands import DEMO_DAY_ONE
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.modals import block_of, errors_of, opened_views, submit
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import Bot, running_bot

api_mode = both_api_modes
CREATE = "assay create housepricedrift housepricepipe"
DAY = "%Y-%m-%dT%H:%M:%SZ"


@pytest.fixture(scope="module")
def drift(start_module_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_module_emulator(api=api_mode, seed_demo=True)


@pytest.fixture
def bot(drift: Emulator, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(drift, tmp_path) as started:
        response, key = started.command("access grant <@UOPS|ops> operator")
        assert response.status_code == 200 and "operator" in json.dumps(started.reply_to(key))
        yield started


def open_form(bot: Bot, user: str = "UOPS") -> dict[str, Any]:
    response, _ = bot.command(CREATE, user)
    assert response.status_code == 200
    return opened_views(bot)[-1]


def inputs(**values: str | None) -> dict[str, Any]:
    """The form's state with these option values typed (the metric chosen)."""
    state: dict[str, Any] = {}
    for key, value in values.items():
        if key == "metric":
            chosen = {
                "selected_option": {"value": value, "text": {"type": "plain_text", "text": "m"}}
            }
            state[ASSAY_BLOCK + key] = {key: {"type": "static_select", **chosen}}
        else:
            state[ASSAY_BLOCK + key] = {key: {"type": "plain_text_input", "value": value}}
    return state


def good(name: str) -> dict[str, str | None]:
    return {
        "baseline_start": f"{DEMO_DAY_ONE:{DAY}}",
        "baseline_end": f"{DEMO_DAY_ONE + timedelta(days=1):{DAY}}",
        "width": "24 hours",
        "alert": "0.1",
        "warning": None,
        "bins": "5",
        "metric": "PSI",
        "name": name,
    }


def audit_rows(bot: Bot) -> list[AuditEntry]:
    async def read() -> list[AuditEntry]:
        async with bot.services.sessions() as session:
            return await recent_entries(session, 30)

    return bot.run(read)


def test_the_form_opens_with_every_option_and_its_default(drift: Emulator, bot: Bot) -> None:
    assert drift.demo is not None
    view = open_form(bot)
    assert view["callback_id"] == ASSAY_VIEW
    initial = {
        b["block_id"].removeprefix(ASSAY_BLOCK): b["element"].get("initial_value")
        for b in view["blocks"]
        if b.get("type") == "input"
    }
    v2 = bot.run(bot.services.wallaroo.uses_assays_v2)
    assert initial == {
        "baseline_start": None,
        "baseline_end": None,
        "iopath": V2_IOPATH if v2 else V1_IOPATH,
        "width": "24 hours",
        "alert": "0.1",
        "warning": None,
        "bins": "5",
        "metric": None,
        "name": "housepricepipe assay",
    }
    metric = block_of(view, ASSAY_BLOCK + "metric")["element"]
    assert metric["initial_option"]["value"] == "PSI"
    assert {o["value"] for o in metric["options"]} == {"PSI", "MaxDiff", "SumDiff"}
    assert block_of(view, ASSAY_BLOCK + "baseline_start")["optional"] is False
    assert block_of(view, ASSAY_BLOCK + "warning")["optional"] is True
    metadata = json.loads(view["private_metadata"])
    assert metadata["w"] == drift.demo["workspace_id"] and metadata["c"] == "C1"


def test_each_bad_input_is_named_and_nothing_is_created(bot: Bot) -> None:
    view = open_form(bot)
    bad = good("never made") | {
        "baseline_start": "yesterday",
        "baseline_end": None,
        "alert": "high",
        "bins": "0",
        "width": "forever",
        "metric": "Cosine",
    }
    errors = errors_of(submit(bot, view, inputs(**bad), "UOPS"))
    named = {key.removeprefix(ASSAY_BLOCK) for key in errors}
    assert named == {"baseline_start", "baseline_end", "alert", "bins", "width", "metric"}
    assert "baseline_start must be an ISO date" in errors[ASSAY_BLOCK + "baseline_start"]
    assert "baseline_end is required" in errors[ASSAY_BLOCK + "baseline_end"]
    assert "alert must be a number, not high" in errors[ASSAY_BLOCK + "alert"]
    assert "`" not in json.dumps(errors)  # plain text under each input, no mrkdwn left

    backwards = good("never made") | {"baseline_end": f"{DEMO_DAY_ONE - timedelta(days=1):{DAY}}"}
    errors = errors_of(submit(bot, view, inputs(**backwards), "UOPS"))
    assert errors == {ASSAY_BLOCK + "baseline_end": "baseline_end must come after baseline_start."}
    assert not any(
        "assay create" in r.command_text and r.outcome == "intent" for r in audit_rows(bot)
    )


def test_a_good_form_creates_the_assay_as_the_typed_command(bot: Bot) -> None:
    name = f"form drift {uuid.uuid4().hex[:6]}"
    view = open_form(bot)
    assert errors_of(submit(bot, view, inputs(**good(name)), "UOPS")) == {}
    (told,) = bot.slack.wait_for("/api/chat.postEphemeral", 1)
    assert told.body["channel"] == "C1" and told.body["user"] == "UOPS"
    assert "Created assay" in json.dumps(told.body) and name in json.dumps(told.body)
    # The reply goes out before the outcome row is written, as for a typed command.
    assert wait_until(lambda: len(_form_rows(bot)) == 2)
    rows = _form_rows(bot)
    assert sorted(r.outcome for r in rows) == ["intent", "ok"]
    assert f'name="{name}"' in rows[0].command_text
    response, key = bot.command("assays housepricedrift housepricepipe")
    assert response.status_code == 200 and name in json.dumps(bot.reply_to(key))


def _form_rows(bot: Bot) -> list[AuditEntry]:
    return [r for r in audit_rows(bot) if r.command_text.startswith("[modal] assay create")]


def test_a_viewer_is_refused_before_and_after_and_forged_metadata_does_nothing(
    bot: Bot,
) -> None:
    response, key = bot.command(CREATE, "UVIEW")
    assert response.status_code == 200
    assert "needs the *operator* role" in json.dumps(bot.reply_to(key))
    view = open_form(bot)
    assert len(bot.slack.api_calls("views.open")) == 1  # the viewer's command opened none
    errors = errors_of(submit(bot, view, inputs(**good("viewer's")), "UVIEW"))
    assert "needs the operator role; you are viewer" in errors[ASSAY_BLOCK + "baseline_start"]
    for forged in ('{"w": "1; drop", "p": 1, "c": "C1"}', '{"w": 1, "p": 1, "c": "nowhere"}', "[]"):
        answer = submit(bot, view, inputs(**good("forged")), "UOPS", forged)
        assert errors_of(answer) == {ASSAY_BLOCK + "baseline_start": FORGED}
    # Well formed but naming no pipeline: the form closes and the typed form's answer follows.
    metadata = json.loads(view["private_metadata"]) | {"p": 987654}
    answer = submit(bot, view, inputs(**good("nowhere")), "UOPS", json.dumps(metadata))
    assert errors_of(answer) == {}
    (told,) = bot.slack.wait_for("/api/chat.postEphemeral", 1)
    assert "No pipeline has id 987654" in json.dumps(told.body)


def test_unknown_names_are_answered_before_any_form_opens(bot: Bot) -> None:
    response, key = bot.command("assay create housepricedrift nopipe", "UOPS")
    assert response.status_code == 200
    assert "No pipeline is named" in json.dumps(bot.reply_to(key))
    assert bot.slack.api_calls("views.open") == []


def test_a_wallaroo_too_slow_for_slacks_3_seconds_is_said_in_the_form(
    drift: Emulator, bot: Bot
) -> None:
    # A fresh bot has not yet asked which assays Wallaroo runs: the submission asks (slowly).
    assert drift.demo is not None
    where = {"c": "C1", "w": drift.demo["workspace_id"], "p": drift.demo["pipeline_id"]}
    view = {"type": "modal", "callback_id": ASSAY_VIEW, "private_metadata": json.dumps(where)}
    drift.control("faults", {"path_prefix": "/v2/api/", "latency_ms": 3000})
    try:
        answer = submit(bot, view, inputs(**good("too slow")), "UOPS")
    finally:
        drift.http.delete(f"{drift.url}/emulator/faults")
    assert errors_of(answer) == {ASSAY_BLOCK + "baseline_start": SLOW}
    assert wait_until(
        lambda: [(r.outcome, r.action) for r in _form_rows(bot)] == [("error", "create")]
    )
