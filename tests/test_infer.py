"""`infer WS PIPELINE DATA` through the router against the emulator over real HTTP, on today's
API (pandas records) and the tutorial's (`{"tensor": [[...]]}`): the table, the version, every
refusal in one line, roles, escaping, and what the emulator received."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from bot.services import open_services
from handlers.commands.router import handle_command
from handlers.context import Services
from storage.audit import recent_entries
from tests.helpers.commands import ADMIN, VIEWER, say
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.inference import deployed_demo_pipeline, features, records
from tests.helpers.slack_bot import running_bot

api_mode = both_api_modes
WS = "housepricedrift"


@pytest.fixture
def demo(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    emulator = start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)
    deployed_demo_pipeline(emulator, "fresh")
    return emulator


@pytest.fixture
async def services(demo: Emulator, tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(demo.bot_settings(tmp_path)) as opened:
        yield opened


def live_version(demo: Emulator, name: str) -> str:
    """The UUID of the pipeline version deployed as `name` (both modes' listings)."""
    listed = demo.admin().ok(
        "pipelines/list_pipelines", {"workspace_id": demo.demo["workspace_id"]} if demo.demo else {}
    )["pipelines"]
    (item,) = [i for i in listed if i["pipeline"]["name"] == name]
    version = item.get("pipeline_version") or item["pipeline"]["pipeline_versions"][0]
    return str(version["version"])


async def test_infer_answers_a_table_the_version_and_the_time(
    services: Services, demo: Emulator, api_mode: str
) -> None:
    text = await say(services, f"infer {WS} fresh {records(0.1, 0.2)}")
    assert "fresh: 2 rows inferred" in text
    # The demo's model answers 12.732 for a row of 0.1s and 12.464 for 0.2s (see the emulator).
    assert "12.732" in text and "12.464" in text
    assert "Answered in" in text and " ms" in text and "No check failures" in text
    if api_mode == "current":  # today's records name the pipeline version that answered
        assert live_version(demo, "fresh") in text
    else:  # the tutorial's name the model only
        assert "model housepricemodel" in text
    assert demo.calls_to("/v1/api/pipelines/infer/fresh-2/fresh") == 1


@pytest.mark.parametrize(
    "data",
    [
        json.dumps({"tensor": [features(0.1), features(0.2)]}),  # the tutorial's
        json.dumps([{"tensor": features(0.1)}, {"tensor": features(0.2)}]),  # pandas records
        "```" + json.dumps({"tensor": [features(0.1), features(0.2)]}) + "```",  # pasted in code
    ],
)
async def test_every_form_of_data_gives_the_same_rows(services: Services, data: str) -> None:
    text = await say(services, f"infer {WS} fresh {data}")
    assert "2 rows inferred" in text and "12.732" in text and "12.464" in text


async def test_curly_quotes_from_slack_clients_are_read_as_json(services: Services) -> None:
    data = records(0.1).replace('"', "\u201c", 1).replace('"', "\u201d", 1)
    assert "\u201c" in data
    assert "1 row inferred" in await say(services, f"infer {WS} fresh {data}")


async def test_ten_rows_then_a_count(services: Services) -> None:
    text = await say(services, f"infer {WS} fresh {records(*[0.1] * 12)}")
    assert "12 rows inferred" in text and "and 2 more rows" in text
    assert "\n10 " in text and "\n11 " not in text  # the table's row numbers stop at 10


async def test_bad_json_says_where(services: Services, demo: Emulator) -> None:
    text = await say(services, f'infer {WS} fresh [{{"tensor": [1.0, 2.0}}]')
    assert "DATA is not valid JSON" in text and "at character 22" in text
    assert demo.calls_to("/v1/api/pipelines/infer/fresh-2/fresh") == 0


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("", "`infer` needs DATA"),
        ("[]", "DATA has no rows"),
        ("[1, 2]", "item 1 is not an object"),
        ('{"a": [1], "b": [1, 2]}', "columns differ in length"),
        ('"text"', "JSON but not rows"),
    ],
)
async def test_data_that_is_not_rows_is_one_clear_line(
    services: Services, data: str, expected: str
) -> None:
    assert expected in await say(services, f"infer {WS} fresh {data}".strip())


async def test_a_pipeline_not_deployed_suggests_deploy(services: Services, demo: Emulator) -> None:
    demo.new_demo_pipeline("idle")
    text = await say(services, f"infer {WS} idle {records(0.1)}")
    assert "idle is not deployed" in text and f"/wallaroo deploy {WS} idle" in text


async def test_a_shape_the_model_refuses_gives_wallaroos_reason(services: Services) -> None:
    text = await say(services, f'infer {WS} fresh [{{"tensor": [1.0, 2.0]}}]')
    assert "fresh refused the data" in text
    assert "17" in text  # Wallaroo's reason: the model takes 17 values a row


async def test_a_starting_deployment_is_not_ready(services: Services, demo: Emulator) -> None:
    demo.control("faults", {"path_prefix": "/v1/api/pipelines/infer", "error_rate": 1.0})
    text = await say(services, f"infer {WS} fresh {records(0.1)}")
    assert "fresh could not answer (HTTP 503)" in text and f"/wallaroo status {WS} fresh" in text


async def test_wallaroo_unreachable_for_the_inference(services: Services, demo: Emulator) -> None:
    await say(services, f"pipelines {WS}")  # logged in and looked up before the slowdown
    services.wallaroo._http.timeout = httpx.Timeout(0.3)  # a slow gateway, without waiting 10 s
    demo.control("faults", {"path_prefix": "/v1/api/pipelines/infer", "latency_ms": 1500})
    text = await say(services, f"infer {WS} fresh {records(0.1)}")
    assert "could not be reached for the inference" in text
    assert f"/wallaroo logs {WS} fresh 1" in text  # how to tell whether it ran
    assert demo.calls_to("/v1/api/pipelines/infer/fresh-2/fresh") == 1  # never retried


async def test_a_viewer_cannot_infer(services: Services, demo: Emulator) -> None:
    text = await say(services, f"infer {WS} fresh {records(0.1)}", VIEWER)
    assert "operator" in text
    assert demo.calls_to("/v1/api/pipelines/infer/fresh-2/fresh") == 0


async def test_slack_escaped_data_is_decoded_and_echoes_are_escaped(services: Services) -> None:
    # Slack sends a typed `<` as `&lt;`: JSON holding it is read, and what the reply echoes of
    # it is escaped again, so `<!channel>` can never become a ping.
    reply = await handle_command(services, ADMIN, f"infer {WS} fresh [{{&lt;!channel&gt;}}]")
    sent = json.dumps(reply.to_slack())
    assert "DATA is not valid JSON" in sent
    assert "<!channel>" not in sent and "&lt;!channel&gt;" in sent


async def test_every_inference_is_audited_as_a_write(services: Services) -> None:
    await say(services, f"infer {WS} fresh {records(0.1)}")
    async with services.sessions() as session:
        rows = await recent_entries(session, 5)
    outcomes = [(row.action, row.outcome) for row in rows if row.area == "inference"]
    assert ("infer", "ok") in outcomes and ("infer", "intent") in outcomes


def test_infer_then_logs_over_signed_slack_requests(
    start_emulator: Callable[..., Emulator], api_mode: str, tmp_path: Path
) -> None:
    emulator = start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)
    deployed_demo_pipeline(emulator, "fresh")
    with running_bot(emulator, tmp_path) as bot:
        response, key = bot.command(f"infer {WS} fresh {records(0.1)}")
        assert response.status_code == 200 and "12.732" in json.dumps(bot.reply_to(key))
        _, key = bot.command(f"logs {WS} fresh 1", user="UVIEWER")
        assert "12.732" in json.dumps(bot.reply_to(key))
        # Slack sends typed `<`, `>` and `&` escaped: decoded for JSON, escaped again in echoes.
        _, key = bot.command(f"infer {WS} fresh {records(0.1)} &lt;!here&gt; &amp;")
        sent = json.dumps(bot.reply_to(key))
        assert "DATA is not valid JSON: extra data" in sent
        assert "&lt;!here&gt; &amp;" in sent and "<!here>" not in sent
        _, key = bot.command(f"infer {WS} fresh {records(0.1)}", user="UVIEWER")
        assert "operator" in json.dumps(bot.reply_to(key))
