"""The deploy form's other ways in and out, on both API generations: App Home's "Request a
deploy" button (operators only; a viewer's old tab gets a refusal), requests from another team
refused before bolt, the manifest's options URL, Slack refusing to open the form (the typed
usage answers) and the console, which keeps the typed forms."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from bot.chat.console import ConsoleChat
from bot.services import open_services
from handlers.commands.router import handle_command
from handlers.context import Actor
from handlers.render.blocks import render_text
from handlers.render.modals import (
    DEPLOY_CHANNEL,
    DEPLOY_VIEW,
    DEPLOY_WORKSPACE,
    HOME_DEPLOY_ACTION,
)
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.fake_slack import FakeSlack
from tests.helpers.modals import (
    ask,
    audit_rows,
    block_of,
    errors_of,
    filled,
    home_click,
    ids_of,
    open_form,
    opened_views,
    requests_posted,
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


def test_app_home_offers_the_form_to_operators_and_it_asks_where_to_post(
    drift: Emulator, bot: Bot, pipeline: str
) -> None:
    assert bot.event({"type": "app_home_opened", "user": "UOPS", "tab": "home"}).status_code == 200
    assert bot.event({"type": "app_home_opened", "user": "UVIEW", "tab": "home"}).status_code == 200
    published = {b["user_id"]: json.dumps(b["view"]) for b in _publishes(bot, 2)}
    assert HOME_DEPLOY_ACTION in published["UOPS"] and HOME_DEPLOY_ACTION not in published["UVIEW"]

    assert home_click(bot, HOME_DEPLOY_ACTION, "UOPS").status_code == 200
    (view,) = opened_views(bot)
    assert view["callback_id"] == DEPLOY_VIEW
    assert block_of(view, DEPLOY_CHANNEL)["element"]["type"] == "conversations_select"
    workspace, pipeline_id = ids_of(drift, bot, view, pipeline)
    values = filled(workspace, pipeline_id, "from home")
    missing = errors_of(submit(bot, view, values, "UOPS"))
    assert list(missing) == [DEPLOY_CHANNEL]
    values[DEPLOY_CHANNEL] = {DEPLOY_CHANNEL: {"selected_conversation": "CDEPLOYS"}}
    assert errors_of(submit(bot, view, values, "UOPS")) == {}
    assert wait_until(lambda: len(requests_posted(bot)) == 1)
    assert requests_posted(bot)[0]["channel"] == "CDEPLOYS"
    (told,) = bot.slack.wait_for("/api/chat.postEphemeral", 1)
    assert told.body["channel"] == "CDEPLOYS" and told.body["user"] == "UOPS"

    # A viewer's click (an old tab) opens a refusal instead, and is audited.
    assert home_click(bot, HOME_DEPLOY_ACTION, "UVIEW").status_code == 200
    refused = opened_views(bot, 2)[-1]
    assert "callback_id" not in refused or refused["callback_id"] != DEPLOY_VIEW
    assert "needs the *operator* role" in json.dumps(refused)
    assert wait_until(
        lambda: any(r.slack_user_id == "UVIEW" and r.outcome == "refused" for r in audit_rows(bot))
    )


def test_from_app_home_with_an_approval_channel_the_requester_hears_in_a_direct_message(
    drift: Emulator, tmp_path: Path, pipeline: str
) -> None:
    with running_bot(drift, tmp_path, chatops_approval_channel="CAPPROVALS") as bot:
        ask(bot, "access grant <@UOPS|ops> operator")
        assert home_click(bot, HOME_DEPLOY_ACTION, "UOPS").status_code == 200
        (view,) = opened_views(bot)
        assert DEPLOY_CHANNEL not in json.dumps(view)  # the approval channel is where it goes
        workspace, pipeline_id = ids_of(drift, bot, view, pipeline)
        assert errors_of(submit(bot, view, filled(workspace, pipeline_id), "UOPS")) == {}
        assert wait_until(lambda: len(requests_posted(bot)) == 1)
        assert requests_posted(bot)[0]["channel"] == "CAPPROVALS"
        # No channel to answer in: the requester hears in the app's direct messages.
        assert wait_until(lambda: any(b["channel"] == "UOPS" for b in _posts(bot)))
        told = next(b for b in _posts(bot) if b["channel"] == "UOPS")
        assert "Approval request" in json.dumps(told)


def _publishes(bot: Bot, count: int) -> list[dict]:
    calls = bot.slack.wait_for("/api/views.publish", count)
    return [{**c.body, "view": _parsed(c.body["view"])} for c in calls]


def _parsed(view: str | dict) -> dict:
    return json.loads(view) if isinstance(view, str) else view


def _posts(bot: Bot) -> list[dict]:
    return bot.slack.api_calls("chat.postMessage")


async def test_the_console_keeps_the_typed_forms(drift: Emulator, tmp_path: Path) -> None:
    settings = drift.bot_settings(tmp_path)
    async with open_services(settings, chat=ConsoleChat(io.StringIO())) as services:
        # Even with a trigger id, the console opens no modal: the typed form's usage answers.
        admin = Actor("UADMIN", "ada", "T1", "console", trigger_id="trigger-1")
        deploy = render_text(await handle_command(services, admin, "deploy"))
        assert "`deploy` needs a workspace and a pipeline" in deploy
        assert "/wallaroo deploy WS PIPELINE" in deploy
        assay = render_text(
            await handle_command(services, admin, "assay create housepricedrift housepricepipe")
        )
        assert "needs baseline_start and baseline_end" in assay


def test_suggestions_and_submissions_from_another_team_are_refused(
    drift: Emulator, tmp_path: Path, pipeline: str
) -> None:
    with running_bot(drift, tmp_path, slack_team_ids="T1", slack_app_id="A1") as bot:
        ask(bot, "access grant <@UOPS|ops> operator")
        view = open_form(bot)
        assert suggest(bot, view, DEPLOY_WORKSPACE, "house", "UOPS")  # T1 is served
        workspace, pipeline_id = ids_of(drift, bot, view, pipeline)
        for kind, extra in (
            ("block_suggestion", {"action_id": DEPLOY_WORKSPACE, "value": "house"}),
            ("view_submission", {"trigger_id": f"trigger-{uuid.uuid4().hex}"}),
        ):
            state = {"values": filled(workspace, pipeline_id)}
            payload = {
                "type": kind,
                "user": {"id": "UOPS", "team_id": "T9"},
                "team": {"id": "T9"},
                "api_app_id": "A1",
                "view": {**view, "id": "V1", "state": state},
                **extra,
            }
            assert bot.interact(payload).status_code == 401
        assert requests_posted(bot) == []


def test_the_manifest_names_where_the_selects_load_their_options() -> None:
    manifest = yaml.safe_load((Path(__file__).parents[1] / "slack-manifest.yml").read_text())
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["message_menu_options_url"].endswith("/slack/events")
    assert interactivity["message_menu_options_url"] == interactivity["request_url"]


def test_when_slack_will_not_open_the_form_the_typed_usage_answers(
    drift: Emulator, tmp_path: Path
) -> None:
    slack = FakeSlack(failing={"views.open": "expired_trigger_id"})
    with running_bot(drift, tmp_path, slack=slack) as bot:
        ask(bot, "access grant <@UOPS|ops> operator")
        reply = ask(bot, "deploy", "UOPS")
        assert "`deploy` needs a workspace and a pipeline" in reply
        assert len(slack.wait_for("/api/views.open#failed", 1)) == 1


def test_the_same_text_typed_again_is_answered_again(bot: Bot) -> None:
    view = open_form(bot)
    first = suggest(bot, view, DEPLOY_WORKSPACE, "house", "UOPS")
    assert first and suggest(bot, view, DEPLOY_WORKSPACE, "house", "UOPS") == first
