"""`model upload` when things go wrong or are refused (both API modes): what Wallaroo's SDK
refuses is refused before any byte moves; an upload Wallaroo refuses is said; one it never
answers (a 5xx, a timeout) is looked for before the reply says it may still appear, and found
when Wallaroo stored it after all; a slow answer is waited for; a slow chat does not hold up
the upload; and the upload goes where the SDK sends it, with no probing write first."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import handlers.commands.model_upload as model_upload
from emulator.faults import Fault
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
from tests.helpers.slack_bot import Bot, running_bot

api_mode = both_api_modes
UPLOAD_PATHS = ("/v1/api/models/upload", "/v1/api/models/upload_stream")
PROBE = "/v1/api/models/upload_and_convert"
LOOKUP = "/v1/api/models/list_versions"


@pytest.fixture(scope="module")
def drift(start_module_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_module_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture
def bot(drift: Emulator, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(drift, tmp_path, **ADMINS) as started:
        yield started


@pytest.fixture
def faults(drift: Emulator) -> Iterator[Callable[[Fault], None]]:
    drift.state.faults.forget_calls()
    yield drift.state.faults.add
    drift.state.faults.clear()


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return linear_regression_onnx(n_features=11, seed=3)


def uploads_received(drift: Emulator) -> int:
    return sum(drift.state.faults.received[path] for path in UPLOAD_PATHS)


@pytest.mark.parametrize(
    ("name", "framework", "said"),
    [
        ("9-starts-with-a-digit", "onnx", "not a model name Wallaroo takes"),
        ("ends-with-a-dash-", "onnx", "not a model name Wallaroo takes"),
        ("m" * 64, "onnx", "under 64 characters"),
        ("fine-name", "sklearn", "needs their input and output schemas"),
        ("fine-name", "python", "needs their input and output schemas"),
        ("fine-name", "onxx", "Did you mean `framework=onnx`?"),
    ],
)
def test_what_the_sdk_refuses_is_refused_before_anything_moves(
    drift: Emulator, bot: Bot, faults: object, name: str, framework: str, said: str
) -> None:
    file_id = bot.slack.add_file(FakeFile("m.onnx", b"x" * 100))
    reply = ask(bot, f"model upload {WS} {name} {file_id} framework={framework}")
    assert said in reply, reply
    assert not bot.slack.api_calls("files.info")  # not even looked at
    assert uploads_received(drift) == 0 and versions(drift, name) == []
    assert audited(bot, f"model upload {WS} {name}", "invalid")


def test_an_upload_wallaroo_refuses_is_said_and_nothing_is_stored(
    drift: Emulator, bot: Bot, faults: Callable[[Fault], None], model_bytes: bytes
) -> None:
    faults(Fault("/v1/api/models/upload", error_rate=1.0, status=400))
    file_id = bot.slack.add_file(FakeFile("m.onnx", model_bytes))
    name = model_name()
    reply = ask(bot, f"model upload {WS} {name} {file_id}")
    assert "Wallaroo refused" in reply and "injected fault" in reply, reply
    assert versions(drift, name) == []
    assert "failed" in progress_texts(bot.slack)[-1]
    assert audited(bot, f"model upload {WS} {name}", "error")


def test_an_upload_answered_5xx_after_wallaroo_stored_it_is_found_and_reported(
    drift: Emulator, bot: Bot, faults: Callable[[Fault], None], model_bytes: bytes
) -> None:
    # A gateway timing out on a backend that did the work: the version is there after all.
    faults(Fault("/v1/api/models/upload", error_rate=1.0, status=504, after_effect=True))
    file_id = bot.slack.add_file(FakeFile("m.onnx", model_bytes))
    name = model_name()
    reply = ask(bot, f"model upload {WS} {name} {file_id}")
    (stored,) = versions(drift, name)
    assert "Uploaded model" in reply and stored["model_version"] in reply, reply
    assert hashlib.sha256(model_bytes).hexdigest() in reply
    assert uploads_received(drift) == 1  # sent once: never retried
    texts = progress_texts(bot.slack)
    assert any("looking for the new version" in t for t in texts) and "ready" in texts[-1]


def test_an_upload_never_answered_says_it_may_still_appear(
    drift: Emulator,
    bot: Bot,
    faults: Callable[[Fault], None],
    model_bytes: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(model_upload, "UNKNOWN_FATE_SECONDS", 1.5)
    faults(Fault("/v1/api/models/upload", error_rate=1.0, status=503))
    file_id = bot.slack.add_file(FakeFile("m.onnx", model_bytes))
    name = model_name()
    reply = ask(bot, f"model upload {WS} {name} {file_id}")
    assert "did not answer" in reply and "may still appear" in reply, reply
    assert "nothing was stored" not in reply and "before uploading again" in reply
    assert uploads_received(drift) == 1 and versions(drift, name) == []
    assert "may still appear" in progress_texts(bot.slack)[-1]
    assert audited(bot, f"model upload {WS} {name}", "error")


def test_a_slow_answer_to_an_upload_is_waited_for(
    drift: Emulator, bot: Bot, faults: Callable[[Fault], None], model_bytes: bytes
) -> None:
    # Past the 10 s every other call may take: Wallaroo stores a big file before answering.
    faults(Fault("/v1/api/models/upload", latency_ms=11_000))
    file_id = bot.slack.add_file(FakeFile("m.onnx", model_bytes))
    name = model_name()
    reply = ask(bot, f"model upload {WS} {name} {file_id}")
    assert "Uploaded model" in reply, reply
    assert len(versions(drift, name)) == 1 and uploads_received(drift) == 1


def test_the_upload_goes_where_the_sdk_sends_it_with_no_probe(
    drift: Emulator, bot: Bot, faults: object, model_bytes: bytes, api_mode: str
) -> None:
    file_id = bot.slack.add_file(FakeFile("m.onnx", model_bytes))
    name = model_name()
    assert "Uploaded model" in ask(bot, f"model upload {WS} {name} {file_id} framework=onnx")
    received = drift.state.faults.received
    assert received[PROBE] == 0  # the old probe POSTed {} to this write endpoint
    expected = "/v1/api/models/upload" if api_mode == "current" else "/v1/api/models/upload_stream"
    assert received[expected] == 1 and uploads_received(drift) == 1
    if api_mode == "current":
        (stored,) = drift.state.db.all(
            "SELECT c.framework FROM model_conversions c JOIN model_versions v"
            " ON v.id = c.model_version_id JOIN models m ON m.id = v.models_pk_id"
            " WHERE m.name = ?",
            (name,),
        )
        assert stored["framework"] == "onnx"


def test_a_slow_uploading_edit_does_not_hold_up_the_uploads_end(
    drift: Emulator, bot: Bot, faults: object, model_bytes: bytes
) -> None:
    """The "uploading" edit is rate limited (~3 s of retries); the upload's answer, and the
    version lookup after it, must not wait for it."""
    bot.slack.rate_limited["chat.update"] = 3
    seen: dict[str, int] = {}
    record = bot.slack.record
    lock = threading.Lock()

    def noting(path: str, body: dict) -> None:
        if path == "/api/chat.update" and "uploading" in str(body.get("text")):
            with lock:
                seen.setdefault("lookups", drift.state.faults.received[LOOKUP])
        record(path, body)

    bot.slack.record = noting  # type: ignore[method-assign]
    file_id = bot.slack.add_file(FakeFile("m.onnx", model_bytes))
    name = model_name()
    assert "Uploaded model" in ask(bot, f"model upload {WS} {name} {file_id}")
    assert len(bot.slack.api_calls("chat.update")) >= 2  # uploading, then ready
    # When the edit landed, the bot had already had Wallaroo's answer and gone on to look up
    # the new version.
    assert seen["lookups"] >= 1, seen


def test_an_instance_with_no_pipeline_is_told_apart_by_reads_only(
    start_emulator: Callable[..., Emulator], api_mode: str, tmp_path: Path, model_bytes: bytes
) -> None:
    """With no pipeline to ask for its versions, a model listing tells the API apart."""
    fresh = start_emulator(api=api_mode)
    fresh.admin().ok("workspaces/create", {"workspace_name": "fresh"})
    with running_bot(fresh, tmp_path, **ADMINS) as bot:
        file_id = bot.slack.add_file(FakeFile("m.onnx", model_bytes))
        reply = ask(bot, f"model upload fresh first-model {file_id}")
        assert "Uploaded model" in reply, reply
    received = fresh.state.faults.received
    assert received["/v1/api/models/list"] >= 1 and received[PROBE] == 0
    assert received["/v1/api/pipelines/list_pipeline_versions"] == 0  # none to ask about
    expected = "/v1/api/models/upload" if api_mode == "current" else "/v1/api/models/upload_stream"
    assert received[expected] == 1
