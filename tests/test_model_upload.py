"""`model upload` end to end: a file shared in the fake Slack, a signed `/wallaroo` command into
the real /slack/events, the bytes streamed through the bot into the emulator (both API modes),
one progress message edited along the way, and every refusal said and audited."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.chat.slack_files import file_id_in
from emulator.onnx_models import linear_regression_onnx
from handlers.commands.arguments_wallaroo import ModelUpload
from handlers.commands.grammar import Command, ParseError, parse_command
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.fake_slack import FakeFile, FakeSlack
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


def test_upload_from_a_slack_file_link_then_a_pipeline_runs_it(
    drift: Emulator, bot: Bot, model_bytes: bytes
) -> None:
    file_id = bot.slack.add_file(FakeFile("house-model.onnx", model_bytes))
    name = model_name()
    reply = ask(bot, f"model upload {WS} {name} {bot.slack.file_link(file_id)}")
    sha = hashlib.sha256(model_bytes).hexdigest()
    assert "Uploaded model" in reply and name in reply, reply
    assert sha in reply
    (stored,) = versions(drift, name)
    assert stored["sha"] == sha and stored["size_bytes"] == len(model_bytes)
    assert stored["file_name"] == "house-model.onnx"
    assert Path(stored["file_path"]).read_bytes() == model_bytes
    # One message, posted once and edited: ending ready with the version and the sha.
    texts = progress_texts(bot.slack)
    assert len([t for t in texts if "downloading 0" in t]) == 1
    assert "ready" in texts[-1] and stored["model_version"] in texts[-1], texts
    assert sha[:12] in texts[-1]
    # The download carried the bot token (the fake refuses others) and was read once.
    assert len(bot.slack.api_calls("files.info")) == 1
    assert len([c for c in bot.slack.calls if c.path == f"/files-pri/{file_id}"]) == 1
    pipeline = f"p{uuid.uuid4().hex[:8]}"
    created = ask(bot, f"pipeline create {WS} {pipeline} {name}")
    assert "rror" not in created and pipeline in created, created


def test_a_bare_file_id_works_too(drift: Emulator, bot: Bot, model_bytes: bytes) -> None:
    file_id = bot.slack.add_file(FakeFile("m.onnx", model_bytes))
    name = model_name()
    reply = ask(bot, f"model upload {WS} {name} {file_id} framework=onnx")
    assert "Uploaded model" in reply, reply
    assert len(versions(drift, name)) == 1


def test_a_file_over_the_limit_is_refused_before_downloading(
    drift: Emulator, tmp_path: Path
) -> None:
    with running_bot(drift, tmp_path, chatops_max_model_bytes=1000, **ADMINS) as bot:
        file_id = bot.slack.add_file(FakeFile("big.onnx", size=5000))
        name = model_name()
        reply = ask(bot, f"model upload {WS} {name} {file_id}")
        assert "CHATOPS_MAX_MODEL_BYTES" in reply and "Nothing was uploaded" in reply, reply
        assert not [c for c in bot.slack.calls if c.path.startswith("/files-pri/")]
        assert versions(drift, name) == []
        row = audited(bot, f"model upload {WS} {name}", "refused")
        assert row.target.startswith(f"model {name} in workspace {WS}"), row.target


def test_a_file_the_bot_cannot_see_says_how_to_share_it(drift: Emulator, bot: Bot) -> None:
    file_id = bot.slack.add_file(FakeFile("secret.onnx", b"x" * 10, shared_with_bot=False))
    name = model_name()
    reply = ask(bot, f"model upload {WS} {name} {bot.slack.file_link(file_id)}")
    assert "cannot see file" in reply and "/invite @wallaroo" in reply, reply
    assert versions(drift, name) == []
    row = audited(bot, f"model upload {WS} {name}", "invalid")
    assert row.target.startswith(f"model {name} in workspace {WS}"), row.target


def test_an_upload_cut_off_halfway_leaves_nothing_and_says_what_wallaroo_has(
    drift: Emulator, bot: Bot
) -> None:
    size = 8 * 1024 * 1024
    file_id = bot.slack.add_file(FakeFile("cut.onnx", size=size, cut_after=size // 2))
    files_before = set(drift.state.model_dir.glob("*.model"))
    name = model_name()
    reply = ask(bot, f"model upload {WS} {name} {file_id}")
    assert "cut off" in reply and "no new version" in reply, reply
    assert versions(drift, name) == []
    # No half file left: the emulator removes it once it sees the connection go.
    wait_until(lambda: set(drift.state.model_dir.glob("*.model")) == files_before, timeout=5)
    assert "failed" in progress_texts(bot.slack)[-1]
    row = audited(bot, f"model upload {WS} {name}", "error")
    assert "cut.onnx" in row.target and name in row.target


def test_a_viewer_may_not_upload(drift: Emulator, bot: Bot, model_bytes: bytes) -> None:
    file_id = bot.slack.add_file(FakeFile("m.onnx", model_bytes))
    reply = ask(bot, f"model upload {WS} {model_name()} {file_id}", user="UVIEWER")
    assert "needs the *operator* role" in reply, reply
    assert not bot.slack.api_calls("files.info")


def test_the_console_uploads_a_local_file(
    drift: Emulator, tmp_path: Path, model_bytes: bytes
) -> None:
    path = tmp_path / "local-model.onnx"
    path.write_bytes(model_bytes)
    name = model_name()
    env = {
        **os.environ,
        "WALLAROO_API_URL": drift.api_url,
        "WALLAROO_TOKEN_URL": drift.token_url,
        "WALLAROO_CLIENT_SECRET": drift.config.client_secret,
        "DATABASE_URL": f"sqlite:///{tmp_path}/console.db",
        "CHATOPS_ADMINS": "UALICE",
    }
    env = {k: v for k, v in env.items() if not k.startswith("SLACK_")}
    commands = f"model upload {WS} {name} {path}\nmodel upload {WS} {name} {tmp_path}/nope\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--as", "UALICE"],
        input=commands, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Uploaded model" in done.stdout and "ready" in done.stdout, done.stdout
    assert "There is no file" in done.stdout
    (stored,) = versions(drift, name)
    assert stored["sha"] == hashlib.sha256(model_bytes).hexdigest()


def test_a_file_that_grows_past_the_limit_while_streaming_is_cut_off(
    drift: Emulator, tmp_path: Path
) -> None:
    limit = 2 * 1024 * 1024
    with running_bot(drift, tmp_path, chatops_max_model_bytes=limit, **ADMINS) as bot:
        # files.info says 1000 bytes; the download goes on for 6 MiB.
        file_id = bot.slack.add_file(FakeFile("liar.onnx", size=6 * 1024 * 1024, listed_size=1000))
        files_before = set(drift.state.model_dir.glob("*.model"))
        name = model_name()
        reply = ask(bot, f"model upload {WS} {name} {file_id}")
        assert "grew past the limit of 2.0 MB" in reply and "no new version" in reply, reply
        assert versions(drift, name) == []
        wait_until(lambda: set(drift.state.model_dir.glob("*.model")) == files_before, timeout=5)


def test_a_download_slack_answers_with_its_sign_in_page_is_refused(
    drift: Emulator, tmp_path: Path, model_bytes: bytes
) -> None:
    slack = FakeSlack(bot_token="xoxb-some-other-token")  # the bot's token may not read files
    with running_bot(drift, tmp_path, slack=slack, **ADMINS) as bot:
        file_id = bot.slack.add_file(FakeFile("m.onnx", model_bytes))
        name = model_name()
        reply = ask(bot, f"model upload {WS} {name} {file_id}")
        assert "web page instead of the file" in reply and "files:read" in reply, reply
        assert versions(drift, name) == []


def test_progress_edits_are_paced(drift: Emulator, bot: Bot) -> None:
    file_id = bot.slack.add_file(FakeFile("paced.onnx", size=64 * 1024 * 1024))
    started = time.monotonic()
    reply = ask(bot, f"model upload {WS} {model_name()} {file_id}")
    elapsed = time.monotonic() - started
    assert "Uploaded model" in reply, reply
    # 64 chunks of 1 MiB: an edit per chunk would be 64; one per 2 s at most, plus each stage.
    downloading = [t for t in progress_texts(bot.slack) if "downloading" in t]
    assert 1 <= len(downloading) <= 2 + elapsed / 2, (len(downloading), elapsed)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("F0123ABCD", "F0123ABCD"),
        ("https://team.slack.com/files/U01ABC/F0123ABCD/model.onnx", "F0123ABCD"),
        ("https://files.slack.com/files-pri/T01ABC-F0123ABCD/download/model.onnx", "F0123ABCD"),
        ("https://team.slack.com/files/U01ABC/F0123ABCD", "F0123ABCD"),
        ("https://example.com/model.onnx", None),
        ("model.onnx", None),
    ],
)
def test_the_file_id_in_a_link_or_id(ref: str, expected: str | None) -> None:
    assert file_id_in(ref) == expected


def test_the_grammar_reads_a_file_link_as_slack_sends_it() -> None:
    link = "<https://team.slack.com/files/U1/F0123ABCD/m.onnx|m.onnx>"
    parsed = parse_command(f"model upload ws mymodel {link} framework=ONNX")
    assert isinstance(parsed, Command) and isinstance(parsed.args, ModelUpload)
    assert parsed.args.file == "https://team.slack.com/files/U1/F0123ABCD/m.onnx"
    assert parsed.args.framework == "onnx"
    refused = parse_command(f"model upload ws mymodel {link} frame=onnx")
    assert isinstance(refused, ParseError) and "framework=onnx" in refused.message


def test_an_uploaded_model_deploys_answers_an_inference_and_shows_in_the_logs(
    drift: Emulator, tmp_path: Path, model_bytes: bytes
) -> None:
    roles = {"chatops_admins": "UADMIN,UAPPROVER", "chatops_deploy_poll_seconds": 0.05}
    with running_bot(drift, tmp_path, **roles) as bot:
        file_id = bot.slack.add_file(FakeFile("chain.onnx", model_bytes))
        name, pipeline = model_name(), f"p{uuid.uuid4().hex[:8]}"
        assert "Uploaded model" in ask(bot, f"model upload {WS} {name} {file_id}")
        assert pipeline in ask(bot, f"pipeline create {WS} {pipeline} {name}")
        asked = ask(bot, f"deploy {WS} {pipeline} try the upload")
        request_id = re.search(r"request \*#(\d+)\*", asked)
        assert request_id, asked
        approved = ask(bot, f"approve {request_id.group(1)}", user="UAPPROVER")
        assert "Approved" in approved, approved
        wait_until(lambda: drift.live_deployment(pipeline) is not None)
        bot.drain()
        data = json.dumps({"tensor": [[1.0] * 17]})
        inferred = ask(bot, f"infer {WS} {pipeline} {data}")
        assert "rror" not in inferred, inferred
        logs = ask(bot, f"logs {WS} {pipeline}")
        assert "inference records (1)" in logs, logs
        # The logged output is the one the inference answered: the uploaded model's.
        logged = re.search(r"(?:variable|output)=(-?\d+\.\d+)", logs)
        assert logged and logged.group(1) in inferred, (logs, inferred)


def test_a_file_name_with_mrkdwn_is_shown_escaped(
    drift: Emulator, bot: Bot, model_bytes: bytes
) -> None:
    file_id = bot.slack.add_file(FakeFile("<!channel> *x*.onnx", model_bytes))
    reply = ask(bot, f"model upload {WS} {model_name()} {file_id}")
    assert "Uploaded model" in reply, reply
    shown = [
        json.dumps(b.get("blocks"))
        for b in [*bot.slack.api_calls("chat.postMessage"), *bot.slack.api_calls("chat.update")]
    ]
    assert shown and all("<!channel>" not in blocks for blocks in shown)
    assert any("&lt;!channel&gt;" in blocks for blocks in shown)
