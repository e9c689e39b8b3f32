"""`logs WS PIPELINE [N] [since=DURATION] [page N]` against the emulator on both API modes
(today's pipelines/get_logs and its cursor; the tutorial's records through assays/get_baseline):
the inference just made, N, since=, paging, refusals, roles and escaping."""

from __future__ import annotations

import importlib
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.services import open_services
from bot.wallaroo.inference_rows import InferenceRow, rows_of
from handlers.context import Services
from handlers.render.inference_tables import InferSummary, infer_reply, logs_reply
from tests.helpers.clients import ClientUnderTest
from tests.helpers.commands import VIEWER, say
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.inference import deployed_demo_pipeline, features, records
from tests.helpers.wallaroo_spec import PACKAGE, generated_client

api_mode = both_api_modes
WS = "housepricedrift"
# The demo's model's answers for rows of 0.1s, 0.2s and 0.3s.
ANSWERS = {0.1: "12.732", 0.2: "12.464", 0.3: "12.196"}


@pytest.fixture
def demo(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    emulator = start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)
    deployed_demo_pipeline(emulator, "fresh")
    return emulator


@pytest.fixture
async def services(demo: Emulator, tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(demo.bot_settings(tmp_path)) as opened:
        yield opened


async def infer_one_by_one(services: Services, demo: Emulator, *values: float) -> None:
    """One inference per value, a second apart on the emulator's clock (so newest is clear)."""
    for value in values:
        assert "1 row inferred" in await say(services, f"infer {WS} fresh {records(value)}")
        demo.control("clock", {"advance_seconds": 1})


def order_of(text: str) -> list[float]:
    """The values whose answers the reply shows, in the order it shows them."""
    found = [(text.index(answer), value) for value, answer in ANSWERS.items() if answer in text]
    return [value for _, value in sorted(found)]


async def test_logs_shows_the_inference_just_made(services: Services, demo: Emulator) -> None:
    assert "No inference records for fresh." in await say(services, f"logs {WS} fresh")
    await infer_one_by_one(services, demo, 0.1)
    text = await say(services, f"logs {WS} fresh")
    assert "fresh: newest inference records" in text
    assert ANSWERS[0.1] in text and "tensor=[0.1, 0.1" in text  # inputs by the column sent, cut
    assert "time (UTC)" in text and "check failures" in text


async def test_n_and_paging_newest_first(services: Services, demo: Emulator) -> None:
    await infer_one_by_one(services, demo, 0.1, 0.2, 0.3)
    assert order_of(await say(services, f"logs {WS} fresh")) == [0.3, 0.2, 0.1]
    first = await say(services, f"logs {WS} fresh 2")
    assert order_of(first) == [0.3, 0.2]
    assert f"older: `/wallaroo logs {WS} fresh 2 page 2`" in first
    second = await say(services, f"logs {WS} fresh 2 page 2")
    assert order_of(second) == [0.1] and "older:" not in second
    past = await say(services, f"logs {WS} fresh 2 page 3")
    assert "No records on page 3" in past and f"logs {WS} fresh 2 page 1" in past


async def test_since_leaves_older_records_out(services: Services, demo: Emulator) -> None:
    # Two hours ago, in the tutorial's record shape (what the control API bulk-loads).
    two_hours_ago = int(time.time() * 1000) - 2 * 3600 * 1000
    old = {
        "time": two_hours_ago,
        "model_name": "housepricemodel",
        "model_version": "old",
        "pipeline_name": "fresh",
        "original_data": {"tensor": [features(0.3)]},
        "outputs": [{"Float": {"v": 1, "dim": [1, 1], "data": [12.196]}}],
        "elapsed": 1000,
        "check_failures": [],
    }
    demo.control("logs", {"pipeline_name": "fresh", "records": [old]})
    await infer_one_by_one(services, demo, 0.1)
    recent = await say(services, f"logs {WS} fresh since=1h")
    assert order_of(recent) == [0.1]
    assert order_of(await say(services, f"logs {WS} fresh since=3h")) == [0.1, 0.3]
    assert order_of(await say(services, f"logs {WS} fresh 1 since=3h page 2")) == [0.3]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("500", "at most 100 records"),
        ("0", "use a whole number above 0"),
        ("since=yesterday", "is not a duration"),
        ("since=0m", "is not a duration"),
        ("ten", "is not a count, since=DURATION or page N"),
        ("page x", "is not a page number"),
    ],
)
async def test_bad_options_are_one_clear_line(
    services: Services, options: str, expected: str
) -> None:
    assert expected in await say(services, f"logs {WS} fresh {options}")


async def test_unknown_pipeline_gets_a_suggestion(services: Services) -> None:
    assert "fresh" in await say(services, f"logs {WS} fresj")


async def test_a_viewer_may_read_logs(services: Services, demo: Emulator) -> None:
    await infer_one_by_one(services, demo, 0.2)
    assert ANSWERS[0.2] in await say(services, f"logs {WS} fresh", VIEWER)


def test_hostile_values_in_records_are_escaped() -> None:
    # No emulator answer carries text in a record (its bulk load keeps numbers only), so the
    # rendering is checked on its own: a value from Wallaroo can never ping, link or end the
    # code block early.
    hostile = "<!channel> & <https://evil.example|click> ```"
    row = InferenceRow(
        time_ms=int(time.time() * 1000),
        inputs={"text": [hostile]},
        outputs={"label": hostile},
        check_failures=[hostile],
        pipeline_version=hostile,
        model=hostile,
    )
    for reply in (
        logs_reply("fresh", [row], empty="none", notes=[]),
        infer_reply(InferSummary("fresh", [row], 3.0)),
    ):
        sent = json.dumps(reply.to_slack())
        assert "<!channel>" not in sent and "<https://evil" not in sent
        assert "&lt;!channel&gt; &amp;" in sent
        for block in reply.to_slack()["blocks"]:  # fences only around a whole table
            shown = json.dumps(block)
            table = block["type"] == "section" and block["text"]["text"].startswith("```")
            assert shown.count("```") == (2 if table else 0)


@pytest.fixture
def today(start_emulator: Callable[..., Emulator]) -> Emulator:
    return start_emulator(api="current", seed_demo=True, deployment_startup_seconds=0)


async def test_get_logs_bodies_fit_wallaroos_spec_and_page_by_cursor(
    today: Emulator, make_client: Callable[..., ClientUnderTest]
) -> None:
    """The bodies the bot sends to pipelines/get_logs parse as the generated client's body model
    (public wheel), and page 2 is the first page's cursor, not a re-read."""
    assert today.demo is not None
    under_test = make_client(
        today, username=today.config.admin_email, password=today.config.admin_password
    )
    sent: list[dict] = []

    async def note(request: httpx.Request) -> None:
        if request.url.path.endswith("/pipelines/get_logs"):
            sent.append(json.loads(request.content))

    under_test.http.event_hooks["request"].append(note)
    client, workspace_id = under_test.client, today.demo["workspace_id"]
    listing = await client.find_listed_pipeline(workspace_id, today.demo["pipeline_id"])
    assert listing is not None
    now = datetime.now(UTC)
    first = await client.pipeline_logs(workspace_id, listing, count=2, now=now)
    second = await client.pipeline_logs(
        workspace_id, listing, count=2, skip=2, since=now - timedelta(days=40), now=now
    )
    assert len(first.records) == len(second.records) == 2 and first.more and second.more
    assert [r.time for r in first.records] == sorted((r.time for r in first.records), reverse=True)
    assert first.records[-1].time >= second.records[0].time  # page 2 follows page 1
    generated_client()
    body_model = importlib.import_module(f"{PACKAGE}.models.pipelines_get_logs_body")
    for body in sent:
        parsed = body_model.PipelinesGetLogsBody.from_dict(body)
        assert parsed.additional_properties == {}, body
    assert len(sent) == 3 and "cursor" in sent[2] and sent[1]["page_size"] == 2


def bulk(demo: Emulator, total: int, seconds: float) -> None:
    """`total` records over the last `seconds`, oldest first; record i answers output=i."""
    now_ms, step = int(time.time() * 1000), seconds * 1000 / total
    rows = [
        {
            "time": int(now_ms - seconds * 1000 + i * step),
            "model_name": "housepricemodel",
            "model_version": "bulk",
            "pipeline_name": "fresh",
            "original_data": {"tensor": [features(0.1)]},
            "outputs": [{"Float": {"v": 1, "dim": [1, 1], "data": [float(i)]}}],
            "elapsed": 1000,
            "check_failures": [],
        }
        for i in range(total)
    ]
    demo.control("logs", {"pipeline_name": "fresh", "records": rows})


def outputs_in(text: str) -> list[int]:
    return [int(found) for found in re.findall(r"(?:output|variable)=(\d+)", text)]


async def test_more_than_a_listing_holds_in_the_newest_minute(
    services: Services, demo: Emulator
) -> None:
    # The tutorial's listing answers 1000 records at most, in no promised order: a full one is
    # read again narrower, so the newest are the newest and no page skips or repeats one.
    bulk(demo, 2500, 30)
    assert outputs_in(await say(services, f"logs {WS} fresh 1", VIEWER)) == [2499]
    shown = []
    for page in range(1, 27):
        shown += outputs_in(await say(services, f"logs {WS} fresh 100 page {page}", VIEWER))
    assert shown == list(range(2499, -1, -1))
    assert "older:" not in await say(services, f"logs {WS} fresh 100 page 25", VIEWER)


@pytest.mark.parametrize("since", ["999999d", "366d", "53w"])
async def test_since_further_back_than_a_year_is_refused(services: Services, since: str) -> None:
    text = await say(services, f"logs {WS} fresh since={since}", VIEWER)
    assert f"since=`{since}` is more than a year: give at most `365d`" in text
    assert "No inference records" in await say(services, f"logs {WS} fresh since=365d")


async def test_pages_past_the_depth_are_refused_and_not_offered(
    services: Services, demo: Emulator
) -> None:
    text = await say(services, f"logs {WS} fresh 100 page 1000", VIEWER)
    assert "`logs` goes back 10,000 records: page 1000 of 100 is past that" in text
    assert "page 100 is the last one" in text
    bulk(demo, 10_010, 3600)
    last = await say(services, f"logs {WS} fresh 10 page 1000", VIEWER)
    assert outputs_in(last) == list(range(19, 9, -1))
    assert "older ones are past the 10,000 records" in last and "page 1001" not in last


async def test_stepping_over_pages_reads_them_a_thousand_at_a_time(
    today: Emulator, make_client: Callable[..., ClientUnderTest]
) -> None:
    """Page 13 of 100 steps over 1200 records in calls of at most 1000 (the cursor is all it
    keeps of them), and is the same records a walk page by page reaches."""
    created = deployed_demo_pipeline(today, "fresh")
    bulk(today, 1500, 60)
    under_test = make_client(
        today, username=today.config.admin_email, password=today.config.admin_password
    )
    sent: list[dict] = []

    async def note(request: httpx.Request) -> None:
        if request.url.path.endswith("/pipelines/get_logs"):
            sent.append(json.loads(request.content))

    under_test.http.event_hooks["request"].append(note)
    client, workspace_id = under_test.client, today.demo["workspace_id"]
    listing = await client.find_listed_pipeline(workspace_id, created["pipeline_pk_id"])
    assert listing is not None
    page = await client.pipeline_logs(
        workspace_id, listing, count=100, skip=1200, now=datetime.now(UTC)
    )
    assert [s["page_size"] for s in sent] == [1000, 200, 100]
    shown = [int(row.outputs["variable"][0]) for row in rows_of(page.records)]
    assert shown == list(range(299, 199, -1))
