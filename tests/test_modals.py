"""The "Request a deploy" modal end to end, on both API generations: `/wallaroo deploy` alone
opens it (views.open on the fake Slack), its selects' options come from the emulator as the user
types (signed block_suggestion payloads), its submission is checked input by input and then asks
for approval exactly as the typed command. App Home's button, other teams, Slack refusing and
the console are tests/test_modal_home.py; the version input and the form's time limit
tests/test_modal_versions.py; the assay form tests/test_modal_assay.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from handlers.interactions.forms import FORGED
from handlers.render.approval_messages import APPROVE_ACTION
from handlers.render.modals import (
    DEPLOY_CHANNEL,
    DEPLOY_PIPELINE,
    DEPLOY_VERSION,
    DEPLOY_VIEW,
    DEPLOY_WORKSPACE,
)
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.modals import (
    ask,
    audit_rows,
    block_of,
    errors_of,
    filled,
    ids_of,
    open_form,
    opened_views,
    requests_posted,
    selected,
    submit,
    suggest,
)
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import Bot, running_bot

api_mode = both_api_modes


@pytest.fixture(scope="module")
def drift(start_module_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_module_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=60)


@pytest.fixture
def pipeline(drift: Emulator) -> str:
    name = f"m{uuid.uuid4().hex[:10]}"
    drift.new_demo_pipeline(name)
    return name


@pytest.fixture
def bot(drift: Emulator, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(drift, tmp_path) as started:
        ask(started, "access grant <@UOPS|ops> operator")
        yield started


def test_deploy_alone_opens_the_form_and_its_selects_load_as_the_user_types(
    drift: Emulator, bot: Bot, pipeline: str
) -> None:
    assert drift.demo is not None
    other = f"modal-other-{uuid.uuid4().hex[:6]}"
    ask(bot, f"workspace create {other}")
    response, key = bot.command("deploy", "UOPS")
    assert response.status_code == 200
    (call,) = bot.slack.wait_for("/api/views.open", 1)
    assert call.body["trigger_id"] == f"trigger-{key}"  # the command's own trigger
    (view,) = opened_views(bot)
    assert view["callback_id"] == DEPLOY_VIEW and view["type"] == "modal"
    select = block_of(view, DEPLOY_WORKSPACE)["element"]
    assert select["type"] == "external_select" and select["min_query_length"] == 0
    assert DEPLOY_CHANNEL not in json.dumps(view)  # opened in a channel: the request goes there

    workspace = str(drift.demo["workspace_id"])
    shown = suggest(bot, view, DEPLOY_WORKSPACE, "HOUSEPR", "UOPS")
    assert [o["value"] for o in shown] == [workspace]
    assert shown[0]["text"]["type"] == "plain_text"
    assert shown[0]["text"]["text"] == f"housepricedrift (id {workspace})"
    everything = [o["text"]["text"] for o in suggest(bot, view, DEPLOY_WORKSPACE, "", "UOPS")]
    assert any(t.startswith("housepricedrift") for t in everything)
    assert any(t.startswith(other) for t in everything)
    assert suggest(bot, view, DEPLOY_WORKSPACE, "no-such-workspace-zz", "UOPS") == []

    # The pipeline select lists the chosen workspace's pipelines only, none before one is chosen.
    assert suggest(bot, view, DEPLOY_PIPELINE, pipeline, "UOPS") == []
    values = selected(DEPLOY_WORKSPACE, workspace)
    (found,) = suggest(bot, view, DEPLOY_PIPELINE, pipeline[:6], "UOPS", values)
    assert found["text"]["text"].startswith(f"{pipeline} (id ")
    names = [o["text"]["text"] for o in suggest(bot, view, DEPLOY_PIPELINE, "", "UOPS", values)]
    assert any(n.startswith("housepricepipe (id") for n in names) and len(names) <= 100

    # Opening is audited, and the form is the whole answer: nothing reached the response URL.
    assert wait_until(lambda: any(r.target.startswith("form V") for r in audit_rows(bot)))
    opened = next(r for r in audit_rows(bot) if r.target.startswith("form V"))
    assert (opened.area, opened.action, opened.slack_user_id) == ("deployments", "deploy", "UOPS")
    assert bot.slack.wait_for(f"/respond/{key}", 1, timeout=0) == []


def test_the_submitted_form_asks_for_approval_exactly_as_the_typed_command(
    drift: Emulator, bot: Bot, pipeline: str
) -> None:
    view = open_form(bot)
    workspace, pipeline_id = ids_of(drift, bot, view, pipeline)
    answer = submit(bot, view, filled(workspace, pipeline_id, "from the form"), "UOPS")
    assert errors_of(answer) == {}

    (told,) = bot.slack.wait_for("/api/chat.postEphemeral", 1)
    assert told.body["user"] == "UOPS" and told.body["channel"] == "C1"
    assert "Approval request *#" in json.dumps(told.body)
    (posted,) = requests_posted(bot)
    assert posted["channel"] == "C1"
    blocks = json.dumps(posted["blocks"])
    assert "from the form" in blocks and "<@UOPS>" in blocks and pipeline in blocks
    request_id = json.dumps(told.body).split("request *#")[1].split("*")[0]

    # The same request as typed: a second one for the pipeline is refused, four-eyes holds.
    twin = ask(bot, f"deploy housepricedrift {pipeline} typed", "UOPS")
    assert f"#{request_id}" in twin and len(requests_posted(bot)) == 1
    _, key = bot.click(APPROVE_ACTION, request_id, "UOPS")
    assert "operator" in json.dumps(bot.reply_to(key))  # an operator may not approve at all
    rows = audit_rows(bot)
    said = f"[modal] deploy housepricedrift {pipeline} from the form"
    intent = next(r for r in rows if r.command_text == said and r.outcome == "intent")
    outcome = next(r for r in rows if r.command_text == said and r.outcome == "ok")
    assert outcome.target == f"request {request_id} (intent #{intent.id})"


def test_a_bad_or_missing_input_is_named_in_the_form_and_nothing_is_asked(
    drift: Emulator, bot: Bot, pipeline: str
) -> None:
    view = open_form(bot)
    workspace, pipeline_id = ids_of(drift, bot, view, pipeline)
    cases = [
        ({}, DEPLOY_WORKSPACE, "Choose a workspace"),
        (selected(DEPLOY_WORKSPACE, "12; drop"), DEPLOY_WORKSPACE, "Choose a workspace"),
        (selected(DEPLOY_WORKSPACE, "999999"), DEPLOY_WORKSPACE, "No workspace has id 999999"),
        (selected(DEPLOY_WORKSPACE, workspace), DEPLOY_PIPELINE, "Choose a pipeline"),
        (filled(workspace, "987654"), DEPLOY_PIPELINE, "No pipeline has id 987654"),
        (filled(workspace, pipeline_id, version="nosuchversion"), DEPLOY_VERSION, "no version"),
        (filled(workspace, pipeline_id, version="99"), DEPLOY_VERSION, "There is no version 99"),
        (filled(workspace, pipeline_id, version="abc"), DEPLOY_VERSION, "at least 6 characters"),
    ]
    for values, block, said in cases:
        errors = errors_of(submit(bot, view, values, "UOPS"))
        assert list(errors) == [block] and said in errors[block], (values, errors)
    for forged in ("not json", json.dumps({"c": "<!channel>"}), json.dumps(["C1"])):
        errors = errors_of(submit(bot, view, filled(workspace, pipeline_id), "UOPS", forged))
        assert errors == {DEPLOY_WORKSPACE: FORGED}
    assert requests_posted(bot) == []
    forgeries = [r for r in audit_rows(bot) if r.command_text == "[modal] deploy"]
    assert [r.outcome for r in forgeries] == ["invalid"] * 3

    # The latest version, named: the same request as leaving it empty.
    latest = bot.run(lambda: _latest_version(bot, int(workspace), int(pipeline_id)))
    answer = submit(bot, view, filled(workspace, pipeline_id, version=latest[:8]), "UOPS")
    assert errors_of(answer) == {}
    assert wait_until(lambda: len(requests_posted(bot)) == 1)


async def _latest_version(bot: Bot, workspace_id: int, pipeline_id: int) -> str:
    client = bot.services.wallaroo
    listing = await client.find_listed_pipeline(workspace_id, pipeline_id)
    assert listing is not None
    version = await client.latest_pipeline_version(workspace_id, listing)
    assert version is not None
    return version.version


def test_a_viewer_is_told_before_the_form_opens_and_refused_on_submit(
    drift: Emulator, bot: Bot, pipeline: str
) -> None:
    refusal = ask(bot, "deploy", "UVIEW")
    assert "needs the *operator* role; you are *viewer*" in refusal
    view = open_form(bot)  # an operator's form, submitted by a viewer
    assert len(bot.slack.api_calls("views.open")) == 1
    workspace, pipeline_id = ids_of(drift, bot, view, pipeline)
    errors = errors_of(submit(bot, view, filled(workspace, pipeline_id), "UVIEW"))
    assert "needs the operator role; you are viewer" in errors[DEPLOY_WORKSPACE]
    assert requests_posted(bot) == []
    rows = [r for r in audit_rows(bot) if r.slack_user_id == "UVIEW"]
    assert {r.outcome for r in rows} == {"refused"} and len(rows) == 2
