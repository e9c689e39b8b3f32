"""What REAL Wallaroo instances answered for assays (2023 v1; 2025 v2, as recorded in Wallaroo's
public tutorials), parsed as the client parses it and, served over HTTP by a recorded-answer
server, carried through `assay results` and the drift alert. The v2 answers hold nulls where the
emulator gives values, a score keyed without an index, a `-06:00` offset, and come out of order."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import delete

from bot.services import open_services
from bot.wallaroo.assay_models import AssayResultList
from bot.wallaroo.assay_v2_models import AssayResultV2List, AssayV2
from bot.wallaroo.drift import from_v1, from_v2
from bot.wallaroo.models import parse_response
from handlers.alerting.assays import check_assay
from handlers.commands.assay_lookup import found_v2
from handlers.commands.assay_runs import baseline_rows
from storage.alerts import AssayCursor, assay_subject, get_cursor, open_episode
from storage.watches import list_subscriptions
from tests.helpers.commands import say
from tests.helpers.recorded_wallaroo import RecordedServers

ASSAY_ID = "0a8f6c2e-5b1d-4e3a-9c7f-2d4b6e8a1c3f"
KEY = "out.Model_Confidence_Level"  # iopath indexes null: keyed WITHOUT an index
LABELS = ["< 20%", "20% - 40%", "40% - 60%", "60% - 80%", "> 80%"]
BINS = {"mode": {"Quantile": 5}, "edges": [0.61, 0.68, 0.74, 0.81, "INFINITY"], "labels": LABELS}
STATS = {"count": 1000, "min": 0.52, "max": 0.97, "mean": 0.74, "median": 0.74, "std": 0.09}

ASSAY = {
    "id": ASSAY_ID,
    "name": "confidence drift",
    "active": True,
    "created_at": "2025-03-28T19:21:04.513474Z",
    "updated_at": "2025-03-28T19:21:04.513474Z",
    "baseline": {
        "Summary": {
            KEY: {
                "name": KEY,
                "bins": BINS,
                "aggregated_values": [0.2, 0.2, 0.2, 0.2, 0.2],
                "aggregation": "Density",
                "statistics": STATS,
                "start": None,
                "end": None,
            }
        }
    },
    "scheduling": {
        "first_run": "2025-03-28T13:00:00-06:00",
        "end": None,
        "run_frequency": {"SimpleRunFrequency": {"quantity": 1, "unit": "Hour"}},
    },
    "summarizer": {
        "UnivariateContinuous": {
            "bin_mode": {"Quantile": 5},
            "aggregation": "Density",
            "metric": "PSI",
            "bin_weights": None,
        }
    },
    "targeting": {
        "data_origin": {
            "pipeline_name": "llm-classifier-pipe",
            "pipeline_id": 3,
            "workspace_name": "llm-ws",
            "workspace_id": 9,
            "model_id": "llm-classifier",  # a model NAME
            "locations": None,
        },
        "iopath": [{"field": KEY, "indexes": None, "thresholds": {"warning": None, "alert": 0.25}}],
    },
    "window": {"width": {"seconds": 3600}},
}


def result(result_id: int, hour: int, status: str, score: float, values: list[float]) -> dict:
    start, end = f"2025-03-28T{hour:02d}:00:00Z", f"2025-03-28T{hour + 1:02d}:00:00Z"
    zero_stats = {k: 0.0 for k in STATS} if not any(values) else STATS
    return {
        "id": result_id,  # an INT, not a UUID
        "assay_id": ASSAY_ID,
        "analyzed_at": f"2025-03-28T{hour + 1:02d}:00:03.104212Z",
        "elapsed_millis": 41,
        "window_start": start,
        "window_end": end,
        "created_at": f"2025-03-28T{hour + 1:02d}:00:03.104212Z",
        "updated_at": f"2025-03-28T{hour + 1:02d}:00:03.104212Z",
        "pipeline_id": 3,
        "workspace_id": 9,
        "workspace_name": "llm-ws",
        "warning_threshold": None,
        "alert_threshold": 0.25,
        "status": status,
        "scores": {KEY: {"score": score, "scores": [score / 5] * 5, "bin_index": None}},
        "summaries": {
            KEY: {
                "name": KEY,
                "bins": BINS,
                "aggregated_values": values,
                "aggregation": "Density",
                "statistics": zero_stats,  # an empty window's are all 0.0
                "start": start,
                "end": end,
            }
        },
    }


# As recorded: not in window order. The latest window (20:00) is an Alert; the last item an Ok.
RESULTS = [
    result(212, 20, "Alert", 4.16, [1.0, 0.0, 0.0, 0.0, 0.0]),
    result(210, 18, "Ok", 0.01, [0.19, 0.21, 0.2, 0.2, 0.2]),
    result(211, 19, "Ok", 0.0, [0.0, 0.0, 0.0, 0.0, 0.0]),
]


def test_a_recorded_v2_assay_with_nulls_reads_and_shows_its_baseline() -> None:
    assay = parse_response(AssayV2, ASSAY, "v2/api/assays/get/:id")
    assert assay.path.key == KEY and assay.targeting.data_origin.locations is None
    assert assay.targeting.data_origin.model_id == "llm-classifier"
    summary = assay.baseline_summary()
    assert summary is not None and summary.bins.edges[-1] == "INFINITY"
    assert summary.start is None and summary.end is None


async def test_a_summary_baseline_without_start_or_end_renders(recorded: RecordedServers) -> None:
    _, client = await recorded.start({})
    rows = await baseline_rows(client, found_v2(parse_response(AssayV2, ASSAY, "x")))
    assert rows[0] == "1000 records from ? to ?"
    assert rows[-1] == "bins &lt; 20%, 20% - 40%, 40% - 60%, 60% - 80%, &gt; 80%"  # escaped


def test_recorded_results_read_with_five_bins_and_an_unindexed_key() -> None:
    assay = parse_response(AssayV2, ASSAY, "x")
    results = parse_response(AssayResultV2List, RESULTS, "v2/api/assays/get_results").root
    assert [r.id for r in results] == [212, 210, 211]
    views = [from_v2(r, assay) for r in results]
    assert all(v is not None for v in views)
    alert = views[0]
    assert alert is not None and (alert.status, alert.score) == ("Alert", 4.16)
    assert alert.bin_names == LABELS and len(alert.baseline_values) == 5
    assert alert.window_values == [1.0, 0.0, 0.0, 0.0, 0.0]
    empty = views[2]
    assert empty is not None and empty.window_values == [0.0] * 5


def test_a_v1_result_whose_infinite_edge_is_null() -> None:
    summary = {
        **STATS,
        "edges": [0.61, 0.68, 0.74, 0.81, None],
        "edge_names": ["left_outlier", "q_20", "q_40", "q_60", "q_80", "right_outlier"],
        "aggregated_values": [0.0, 0.2, 0.2, 0.2, 0.2, 0.2],
        "aggregation": "Density",
        "start": "2023-05-17T16:00:00Z",
        "end": "2023-05-17T17:00:00Z",
    }
    item = {
        "assay_id": 2,
        "name": "api assay",
        "created_at": 1684340137841,
        "elapsed_millis": 61,
        "pipeline_id": 4,
        "pipeline_name": "apipipeline",
        "iopath": "output dense_2 0",
        "baseline_summary": summary,
        "window_summary": summary,
        "warning_threshold": None,
        "alert_threshold": 0.25,
        "score": 0.0,
        "scores": [0.0] * 6,
        "index": None,
        "summarizer_meta": '{"type":"UnivariateContinuous","bin_mode":"Quantile","num_bins":5}',
        "status": "Ok",
    }
    (parsed,) = parse_response(AssayResultList, [item], "assays/get_results").root
    assert parsed.baseline_summary.edges[-1] is None
    view = from_v1(parsed, 2, "assays/get_results")
    assert view.bin_names[-1] == "right_outlier" and view.window_start == "2023-05-17T16:00:00Z"


# --- over HTTP: the client, `assay results`, the drift alert, preview -----------------------


@pytest.fixture
async def recorded() -> AsyncIterator[RecordedServers]:
    async with RecordedServers() as servers:
        yield servers


def v2_answers() -> dict[str, Any]:
    return {
        "/v2/api/assays/get": [ASSAY],
        "/v2/api/assays/get/:id": ASSAY,
        "/v2/api/assays/get_results": RESULTS,
        "/v2/api/assays/get_next_run": {"last_run": "2025-03-28T21:00:00Z", "next_run": None},
        "/v2/api/assays/preview": [{**r, "status": None} for r in copy.deepcopy(RESULTS)],
    }


async def test_results_come_oldest_first_whatever_order_they_were_answered_in(
    recorded: RecordedServers,
) -> None:
    _, client = await recorded.start(v2_answers())
    stored = await client.get_assay_v2_results(ASSAY_ID)
    assert [r.id for r in stored] == [210, 211, 212]
    drift = await client.drift_results(ASSAY_ID)
    assert [d.window_start for d in drift] == [f"2025-03-28T{h}:00:00Z" for h in (18, 19, 20)]
    # Offsets are compared as instants: 13:30-06:00 is 19:30Z, after 19:00Z.
    shifted = copy.deepcopy(RESULTS)
    shifted[1]["window_start"], shifted[1]["window_end"] = (
        "2025-03-28T13:30:00-06:00",
        "2025-03-28T14:30:00-06:00",
    )
    _, client = await recorded.start(v2_answers() | {"/v2/api/assays/get_results": shifted})
    assert [r.id for r in await client.get_assay_v2_results(ASSAY_ID)] == [211, 210, 212]


async def test_assay_results_and_the_alert_take_the_latest_window_by_its_start(
    recorded: RecordedServers, tmp_path: Path
) -> None:
    server, _ = await recorded.start(v2_answers())
    async with open_services(server.bot_settings(tmp_path)) as services:
        reply = await say(services, f"assay results {ASSAY_ID[:8]}")
        rows = [line for line in reply.splitlines() if "score" in line]
        assert len(rows) == 3 and "2025-03-28 20:00 UTC" in rows[0] and "Alert" in rows[0]
        assert "will go to" in await say(services, f"subscribe assay {ASSAY_ID[:8]} #alerts")
        latest = "2025-03-28T20:00:00Z"
        async with services.sessions() as session:
            (subscription,) = await list_subscriptions(session)
            # Subscribing starts after the latest result: the 20:00 one, not the last item.
            assert await get_cursor(session, ASSAY_ID) == latest
        assert await check_assay(services, subscription, latest, None) == 0
        # One stored without a cursor (before issue 16) starts from that result instead.
        async with services.sessions() as session:
            await session.exec(delete(AssayCursor))
            await session.commit()
        assert await check_assay(services, subscription, None, None) == 1
        async with services.sessions() as session:
            episode = await open_episode(session, assay_subject(ASSAY_ID))
        assert episode is not None and episode.severity == "Alert"
        assert episode.latest_window == "2025-03-28T20:00:00Z"


async def test_preview_sends_no_name_and_orders_what_it_gets(recorded: RecordedServers) -> None:
    server, client = await recorded.start(v2_answers())
    assay = parse_response(AssayV2, ASSAY, "x")
    start, end = datetime(2025, 3, 28, 18, tzinfo=UTC), datetime(2025, 3, 28, 21, tzinfo=UTC)
    previews = await client.preview_assay_v2(assay, start, end)
    assert [p.id for p in previews] == [210, 211, 212]
    (body,) = server.sent["/v2/api/assays/preview"]
    assert "name" not in body and body["targeting"] == ASSAY["targeting"]
    assert body["preview_start"] == "2025-03-28T18:00:00+00:00"
