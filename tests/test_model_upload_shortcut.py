"""The "Upload to Wallaroo" message shortcut end to end: a signed message_action payload opens
the modal (views.open on the fake Slack), a signed view_submission runs the streamed upload
into the emulator (both API modes), refusals and form errors said and audited."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from emulator.onnx_models import linear_regression_onnx
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.fake_slack import FakeFile
from tests.helpers.model_uploads import (
    ADMINS,
    WS,
    ask,
    audited,
    model_name,
    progress_texts,
    versions,
)
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import Bot, running_bot

api_mode = both_api_modes


@pytest.fixture(scope="module")
def drift(start_module_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_module_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture
def bot(drift: Emulator, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(drift, tmp_path, **ADMINS) as started:
        yield started


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    # A real ONNX model, different from the demo's, so its sha is its own.
    return linear_regression_onnx(n_features=17, seed=7)


def shortcut(bot: Bot, message: dict, user: str = "UADMIN") -> str:
    """Use "Upload to Wallaroo" on `message` in C1; answers the response key."""
    key = uuid.uuid4().hex
    payload = {
        "type": "message_action",
        "callback_id": "upload_model",
        "trigger_id": f"trigger-{key}",
        "response_url": f"{bot.slack_url}/respond/{key}",
        "user": {"id": user, "name": user.lower()},
        "team": {"id": "T1", "domain": "example"},
        "channel": {"id": "C1", "name": "ml-ops"},
        "api_app_id": "A1",
        "message_ts": "1700000001.000100",
        "message": {"type": "message", "ts": "1700000001.000100", **message},
    }
    assert bot.interact(payload).status_code == 200
    return key


def submit(bot: Bot, view: dict, values: dict[str, str], user: str = "UADMIN") -> dict:
    """Submit the upload modal `view` (as views.open got it) with these values; the HTTP
    answer's JSON (empty when the modal closes)."""
    inputs = {
        ("upload_workspace", "workspace"): values["workspace"],
        ("upload_name", "name"): values["name"],
        ("upload_framework", "framework"): values["framework"],
    }
    state = {
        block: {action: {"type": "plain_text_input", "value": value}}
        for (block, action), value in inputs.items()
    }
    if view["blocks"][1]["element"]["type"] == "static_select":
        chosen = values["workspace"]
        state["upload_workspace"]["workspace"] = {
            "type": "static_select",
            "selected_option": {"text": {"type": "plain_text", "text": chosen}, "value": chosen},
        }
    payload = {
        "type": "view_submission",
        "user": {"id": user, "username": user.lower(), "team_id": "T1"},
        "team": {"id": "T1", "domain": "example"},
        "api_app_id": "A1",
        "trigger_id": f"trigger-{uuid.uuid4().hex}",
        "view": {**view, "id": "V1", "state": {"values": state}},
    }
    response = bot.interact(payload)
    assert response.status_code == 200
    return response.json() if response.content else {}


def opened_view(bot: Bot) -> dict:
    (call,) = bot.slack.wait_for("/api/views.open", 1)
    view = call.body["view"]
    return json.loads(view) if isinstance(view, str) else view


def test_the_shortcut_opens_a_modal_and_its_submission_uploads(
    drift: Emulator, bot: Bot, model_bytes: bytes
) -> None:
    file_id = bot.slack.add_file(FakeFile("from-shortcut.onnx", model_bytes))
    shortcut(bot, {"files": [{"id": file_id, "name": "from-shortcut.onnx"}]})
    view = opened_view(bot)
    assert view["callback_id"] == "upload_model_view"
    # The workspaces come from Wallaroo, the name from the file.
    options = [o["value"] for o in view["blocks"][1]["element"]["options"]]
    assert WS in options
    assert view["blocks"][2]["element"]["initial_value"] == "from-shortcut"
    name = model_name()
    assert submit(bot, view, {"workspace": WS, "name": name, "framework": "onnx"}) == {}
    (told,) = bot.slack.wait_for("/api/chat.postEphemeral", 1, timeout=30)
    assert "Uploaded model" in str(told.body.get("text")), told.body
    (stored,) = versions(drift, name)
    assert stored["sha"] == hashlib.sha256(model_bytes).hexdigest()
    progress = progress_texts(bot.slack)
    assert "ready" in progress[-1]
    posted = [b for b in bot.slack.api_calls("chat.postMessage") if "Uploading" in str(b["text"])]
    assert [b["channel"] for b in posted] == ["C1"]  # the channel of the message
    pipeline = f"p{uuid.uuid4().hex[:8]}"
    created = ask(bot, f"pipeline create {WS} {pipeline} {name}")
    assert "rror" not in created and pipeline in created, created
    assert audited(bot, f"[shortcut] upload_model {file_id}", "ok")
    row = audited(bot, f"[modal] model upload {WS} {name}", "ok")
    assert "intent #" in row.target  # the outcome row of an intent written first


def test_the_modal_names_what_is_missing(drift: Emulator, bot: Bot, model_bytes: bytes) -> None:
    file_id = bot.slack.add_file(FakeFile("m.onnx", model_bytes))
    shortcut(bot, {"files": [{"id": file_id, "name": "m.onnx"}]})
    answer = submit(bot, opened_view(bot), {"workspace": WS, "name": "", "framework": "onnx"})
    assert answer["response_action"] == "errors"
    assert "upload_name" in answer["errors"]


def test_the_shortcut_refuses_a_viewer_and_a_message_without_a_file(
    drift: Emulator, bot: Bot
) -> None:
    file_id = bot.slack.add_file(FakeFile("m.onnx", b"abc"))
    key = shortcut(bot, {"files": [{"id": file_id, "name": "m.onnx"}]}, user="UVIEWER")
    assert "operator" in json.dumps(bot.reply_to(key))
    key = shortcut(bot, {"text": "no file here"})
    assert "carries no file" in json.dumps(bot.reply_to(key))
    assert not bot.slack.api_calls("views.open")
    assert audited(bot, f"[shortcut] upload_model {file_id}", "refused")
    assert audited(bot, "[shortcut] upload_model (no file)", "invalid")


def test_a_viewer_submitting_the_modal_is_refused(
    drift: Emulator, bot: Bot, model_bytes: bytes
) -> None:
    file_id = bot.slack.add_file(FakeFile("m.onnx", model_bytes))
    shortcut(bot, {"files": [{"id": file_id, "name": "m.onnx"}]})
    name = model_name()
    answer = submit(
        bot, opened_view(bot), {"workspace": WS, "name": name, "framework": "onnx"}, "UVIEWER"
    )
    assert "operator" in answer["errors"]["upload_name"]
    assert versions(drift, name) == []


def test_a_modal_slack_will_not_open_is_said_and_audited_as_such(drift: Emulator, bot: Bot) -> None:
    bot.slack.failing["views.open"] = "expired_trigger_id"  # the trigger's 3 s ran out
    file_id = bot.slack.add_file(FakeFile("m.onnx", b"abc"))
    key = shortcut(bot, {"files": [{"id": file_id, "name": "m.onnx"}]})
    reply = json.dumps(bot.reply_to(key))
    assert "would not open the upload form" in reply, reply
    assert audited(bot, f"[shortcut] upload_model {file_id}", "error")


def test_a_shortcut_where_the_bot_may_not_post_reports_by_direct_message(
    drift: Emulator, bot: Bot, model_bytes: bytes
) -> None:
    file_id = bot.slack.add_file(FakeFile("dm.onnx", model_bytes))
    shortcut(bot, {"files": [{"id": file_id, "name": "dm.onnx"}]})
    view = opened_view(bot)
    bot.slack.channel_errors["C1"] = "not_in_channel"  # e.g. a channel the bot is not in
    name = model_name()
    assert submit(bot, view, {"workspace": WS, "name": name, "framework": "onnx"}) == {}
    wait_until(lambda: any("Uploaded model" in str(b.get("text")) for b in dms(bot)), timeout=30)
    assert len(versions(drift, name)) == 1
    progress = [b for b in dms(bot) if "Uploading" in str(b.get("text"))]
    assert progress, "the progress message went nowhere"
    edits = [b for b in bot.slack.api_calls("chat.update") if "Uploading" in str(b["text"])]
    assert edits and all(b["channel"] == progress[0]["channel"] for b in edits)
    assert "ready" in str(edits[-1]["text"])


def dms(bot: Bot) -> list[dict]:
    return [b for b in bot.slack.api_calls("chat.postMessage") if b.get("channel") == "UADMIN"]


@pytest.mark.parametrize(
    ("values", "block", "said"),
    [
        ({"name": "9lives", "framework": "onnx"}, "upload_name", "not a model name"),
        ({"name": "fine", "framework": "pytorch"}, "upload_framework", "schemas"),
        ({"name": "fine", "framework": "onnix"}, "upload_framework", "framework=onnx"),
    ],
)
def test_the_modal_says_what_the_sdk_would_refuse(
    drift: Emulator, bot: Bot, values: dict, block: str, said: str
) -> None:
    file_id = bot.slack.add_file(FakeFile("m.onnx", b"abc"))
    shortcut(bot, {"files": [{"id": file_id, "name": "m.onnx"}]})
    answer = submit(bot, opened_view(bot), {"workspace": WS, **values})
    assert answer["response_action"] == "errors" and said in answer["errors"][block], answer
    assert not bot.slack.api_calls("files.info")


def test_a_form_whose_channel_was_altered_is_refused(drift: Emulator, bot: Bot) -> None:
    file_id = bot.slack.add_file(FakeFile("m.onnx", b"abc"))
    shortcut(bot, {"files": [{"id": file_id, "name": "m.onnx"}]})
    view = opened_view(bot)
    forged = {**view, "private_metadata": json.dumps({"file": file_id, "channel": "#general!"})}
    answer = submit(bot, forged, {"workspace": WS, "name": "fine", "framework": "onnx"})
    assert answer["response_action"] == "errors" and "names no file" in json.dumps(answer)
