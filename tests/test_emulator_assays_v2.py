"""Assays v2 on the emulator (`/v2/api/assays/*`, "current" API mode), over real HTTP with the
demo data: scheduling, listing, results per completed window as the clock moves, and scores
equal to v1's for the same windows and bins. Shapes real instances answered (recorded in
Wallaroo_Tutorials, 2025) are pinned in test_emulator_assays_v2_real.py."""

from __future__ import annotations

import copy
import itertools
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from emulator.assays.config import format_time_z
from emulator.seed import DAY_MS, demo_assay_v2
from tests.helpers.emulators import Api, Emulator

KEY = "in.tensor.0"
EVER = {"start": "2000-01-01T00:00:00+00:00", "end": "2100-01-01T00:00:00+00:00"}
V2_CALLS = ("schedule", "get", "get/:id", "get_results", "set_active", "get_next_run", "preview")


def v2(emulator: Emulator) -> Api:
    return Api(emulator.url + "/v2/api/assays", emulator.token(), emulator.http)


def v1(emulator: Emulator) -> Api:
    return emulator.api()


def first_day(emulator: Emulator) -> int:
    assert emulator.demo is not None
    return emulator.demo["drift_starts_ms"] - 30 * DAY_MS


def schedule_body(emulator: Emulator, **changes: Any) -> dict[str, Any]:
    ids = emulator.demo
    assert ids is not None
    body = demo_assay_v2(ids["workspace_id"], ids["pipeline_id"], first_day(emulator))
    return copy.deepcopy(body) | changes


def univariate(**changes: Any) -> dict[str, Any]:
    settings = {"aggregation": "Density", "bin_mode": {"Quantile": 5}, "metric": "PSI"}
    return {"summarizer": {"UnivariateContinuous": settings | changes}}


@pytest.fixture(scope="module")
def demo(start_module_emulator: Callable[..., Emulator]) -> Emulator:
    return start_module_emulator(api="current", seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture
def fresh_demo(start_emulator: Callable[..., Emulator]) -> Emulator:
    """A demo of its own, for tests that move the clock or change assays."""
    return start_emulator(api="current", seed_demo=True, deployment_startup_seconds=0)


def test_seed_mode_has_no_assays_v2(start_emulator: Callable[..., Emulator]) -> None:
    seed = start_emulator(api="seed")
    api = v2(seed)
    for call in V2_CALLS:
        response = api.post(call, {})
        assert response.status_code == 404, (call, response.text)
        assert response.json()["msg"] == "Not Found"


def test_v2_calls_need_a_bearer_token(demo: Emulator) -> None:
    response = demo.http.post(demo.url + "/v2/api/assays/get", json={"active": "All"})
    assert response.status_code == 401


def test_schedule_answers_a_uuid_and_get_lists_the_assay(fresh_demo: Emulator) -> None:
    api = v2(fresh_demo)
    assay_id = api.ok("schedule", schedule_body(fresh_demo, name="second"))
    assert isinstance(assay_id, str) and str(uuid.UUID(assay_id)) == assay_id
    listed = {a["id"]: a for a in api.ok("get", {"active": "All"})}
    assert set(listed) == {assay_id, fresh_demo.demo["assay_v2_id"]}
    assay = listed[assay_id]
    assert assay["name"] == "second" and assay["active"] is True
    datetime.fromisoformat(assay["created_at"]) and datetime.fromisoformat(assay["updated_at"])
    # A Static baseline is stored as the summary it was computed into.
    (summary,) = assay["baseline"]["Summary"].values()
    assert summary["name"] == KEY and summary["bins"]["edges"][-1] == "INFINITY"
    assert summary["statistics"]["count"] > 1000
    targeting = schedule_body(fresh_demo)["targeting"]
    # What was not given comes back as null, as a real instance's `get` shows it.
    targeting["data_origin"]["locations"] = None
    assert assay["targeting"] == targeting
    assert assay["scheduling"]["end"] is None
    assert api.ok("get/:id", {"id": assay_id}) == assay

    assert api.ok("set_active", {"assay_id": assay_id, "active": False}) is None
    assert [a["id"] for a in api.ok("get", {"active": "InactiveOnly"})] == [assay_id]
    assert assay_id not in [a["id"] for a in api.ok("get", {"active": "ActiveOnly"})]
    assert api.ok("get", {"active": "All", "pipeline_name": "otherpipe"}) == []
    assert len(api.ok("get", {"active": "All", "workspace_id": fresh_demo.demo["workspace_id"]}))


def test_results_come_one_per_completed_window_as_the_clock_moves(fresh_demo: Emulator) -> None:
    assay_id = fresh_demo.demo["assay_v2_id"]
    results = v2(fresh_demo).ok("get_results", {"id": assay_id})
    # Baseline day 1, then days 2..30 have ended: 29 windows, all before the drift.
    assert len(results) == 29
    assert {r["status"] for r in results} == {"Ok"}
    ends = [datetime.fromisoformat(r["window_end"]) for r in results]
    assert all((b - a).total_seconds() == 86400 for a, b in itertools.pairwise(ends))
    assert results[0]["window_start"] == format_time_z(first_day(fresh_demo) + DAY_MS)

    fresh_demo.control("clock", {"advance_seconds": 86400})
    results = v2(fresh_demo).ok("get_results", {"id": assay_id})
    assert len(results) == 30 and results[-1]["status"] == "Alert"
    assert results[-1]["scores"][KEY]["score"] > results[-1]["alert_threshold"] == 0.1
    fresh_demo.control("clock", {"advance_seconds": 2 * 86400 + 3600})
    assert len(v2(fresh_demo).ok("get_results", {"id": assay_id})) == 32

    # start/end select by window END, start inclusive and end exclusive.
    last_end = results[-1]["window_end"]
    only_last = v2(fresh_demo).ok(
        "get_results", {"id": assay_id, "start": last_end, "end": last_end}
    )
    assert only_last == []
    window = {
        "id": assay_id,
        "start": last_end,
        "end": format_time_z(fresh_demo.demo["drift_starts_ms"] + 2 * DAY_MS),
    }
    assert [r["window_end"] for r in v2(fresh_demo).ok("get_results", window)] == [last_end]


def test_result_shape(demo: Emulator) -> None:
    result = v2(demo).ok("get_results", {"id": demo.demo["assay_v2_id"]})[-1]
    assert {
        "id", "assay_id", "analyzed_at", "elapsed_millis", "window_start", "window_end",
        "created_at", "updated_at", "pipeline_id", "workspace_id", "workspace_name",
        "alert_threshold", "warning_threshold", "status", "scores", "summaries",
    } == set(result)  # fmt: skip
    assert isinstance(result["id"], int) and result["workspace_name"] == "housepricedrift"
    assert set(result["scores"][KEY]) == {"score", "scores", "bin_index"}
    summary = result["summaries"][KEY]
    assert set(summary) == {
        "name", "bins", "aggregated_values", "aggregation", "statistics", "start", "end"
    }  # fmt: skip
    assert summary["bins"]["mode"] == {"Quantile": 5}
    assert summary["bins"]["labels"] == ["< 20%", "20% - 40%", "40% - 60%", "60% - 80%", "> 80%"]
    assert len(summary["bins"]["edges"]) == 5 and summary["bins"]["edges"][-1] == "INFINITY"
    assert len(summary["aggregated_values"]) == len(result["scores"][KEY]["scores"]) == 5
    assert set(summary["statistics"]) == {"count", "min", "max", "mean", "median", "std"}


def test_v2_scores_equal_v1s_on_the_same_bins(fresh_demo: Emulator) -> None:
    """{"QuantileWithExplicitOutliers": 5} bins as v1's Quantile 5 with its outlier bins, so it
    scores every window exactly as the v1 demo assay does."""
    fresh_demo.control("clock", {"advance_seconds": 86400})
    body = schedule_body(fresh_demo, name="explicit outliers")
    body |= univariate(bin_mode={"QuantileWithExplicitOutliers": 5})
    api = v2(fresh_demo)
    v2_results = api.ok("get_results", {"id": api.ok("schedule", body)})
    v1_results = v1(fresh_demo).ok("assays/get_assay_results", {"assay_id": 1, **EVER})
    assert len(v1_results) == len(v2_results) == 30
    for old, new in zip(v1_results, v2_results, strict=True):
        assert datetime.fromisoformat(old["window_start"]) == datetime.fromisoformat(
            new["window_start"]
        )
        assert new["scores"][KEY]["score"] == pytest.approx(old["score"], abs=1e-12)
        assert new["scores"][KEY]["scores"] == pytest.approx(old["scores"], abs=1e-12)
        assert new["status"] == old["status"]
        assert new["summaries"][KEY]["bins"]["labels"] == old["baseline_summary"]["edge_names"]
    assert v1_results[-1]["status"] == v2_results[-1]["status"] == "Alert"


def test_the_demos_v2_assay_alerts_on_the_same_days_as_v1s(fresh_demo: Emulator) -> None:
    """The seeded twin bins as real v2 assays do ({"Quantile": 5}: five bins, no outlier bins),
    so its scores differ from v1's, but not its verdicts."""
    fresh_demo.control("clock", {"advance_seconds": 86400})
    v2_results = v2(fresh_demo).ok("get_results", {"id": fresh_demo.demo["assay_v2_id"]})
    v1_results = v1(fresh_demo).ok("assays/get_assay_results", {"assay_id": 1, **EVER})
    assert [r["status"] for r in v2_results] == [r["status"] for r in v1_results]
    assert [r["status"] for r in v2_results] == ["Ok"] * 29 + ["Alert"]


def test_a_summary_baseline_scores_as_the_range_it_was_computed_from(demo: Emulator) -> None:
    api = v2(demo)
    seeded = api.ok("get/:id", {"id": demo.demo["assay_v2_id"]})
    copy_id = api.ok("schedule", schedule_body(demo, name="copy", baseline=seeded["baseline"]))
    ours = api.ok("get_results", {"id": copy_id})
    theirs = api.ok("get_results", {"id": demo.demo["assay_v2_id"]})
    assert [r["scores"] for r in ours] == [r["scores"] for r in theirs]
    api.ok("set_active", {"assay_id": copy_id, "active": False})


def test_next_run_and_pausing(fresh_demo: Emulator) -> None:
    api, assay_id = v2(fresh_demo), fresh_demo.demo["assay_v2_id"]
    midnight = fresh_demo.demo["drift_starts_ms"] + DAY_MS
    planned = api.ok("get_next_run", {"assay_id": assay_id})
    assert datetime.fromisoformat(planned["next_run"]).timestamp() * 1000 == midnight
    assert planned["last_run"] is not None

    assert api.ok("set_active", {"assay_id": assay_id, "active": False}) is None
    assert api.ok("get_next_run", {"assay_id": assay_id})["next_run"] is None
    fresh_demo.control("clock", {"advance_seconds": 2 * 86400})
    api = v2(fresh_demo)
    api.ok("set_active", {"assay_id": assay_id, "active": True})
    # The windows that ended while paused are skipped, as v1 does.
    assert len(api.ok("get_results", {"id": assay_id})) == 29
    resumed = api.ok("get_next_run", {"assay_id": assay_id})
    assert datetime.fromisoformat(resumed["next_run"]).timestamp() * 1000 == midnight + 2 * DAY_MS


@pytest.mark.parametrize("named", [False, True], ids=["spec-body-without-name", "with-name"])
def test_preview_scores_without_storing(fresh_demo: Emulator, named: bool) -> None:
    demo = fresh_demo
    # The demo's records are served live, so the days previewed must have passed.
    demo.control("clock", {"advance_seconds": 3 * 86400})
    api = v2(demo)
    before = api.ok("get", {"active": "All"})
    drift = demo.demo["drift_starts_ms"]
    body = schedule_body(
        demo,
        preview_start=format_time_z(drift - 2 * DAY_MS),
        preview_end=format_time_z(drift + 3 * DAY_MS),
    )
    # The spec's PreviewBody has no name and Wallaroo's SDK sends none; a sent one is ignored.
    if named:
        body["name"] = "preview"
    else:
        body.pop("name")
    previews = api.ok("preview", body)
    assert [p["window_end"] for p in previews] == [
        format_time_z(drift + k * DAY_MS) for k in range(-1, 4)
    ]
    assert [p["status"] for p in previews] == ["Ok", "Ok", "Alert", "Alert", "Alert"]
    assert all(isinstance(p["id"], int) and p["workspace_name"] for p in previews)
    assert api.ok("get", {"active": "All"}) == before


def test_preview_baseline_binning(demo: Emulator) -> None:
    body = schedule_body(demo)
    answer = v2(demo).ok(
        "preview_baseline_binning",
        {k: body[k] for k in ("baseline", "summarizer", "targeting")},
    )
    seeded = v2(demo).ok("get/:id", {"id": demo.demo["assay_v2_id"]})
    assert answer == seeded["baseline"]["Summary"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scheduling": None}, "scheduling"),
        ({"window": {"width": {"seconds": 0}}}, "window.width.seconds"),
        ({"baseline": {"Rolling": {}}}, "baseline"),
        ({"baseline": {"Static": ["yesterday", "today"]}}, "baseline.Static.0"),
        (
            {"scheduling": {"first_run": "2024-01-01T00:00:00Z", "run_frequency": {"Cron": "*"}}},
            "scheduling.run_frequency",
        ),
        (
            univariate(bin_mode="None"),
            "summarizer.UnivariateContinuous.bin_mode",
        ),
        (
            univariate(metric="Vibes"),
            "summarizer.UnivariateContinuous.metric",
        ),
    ],
)  # fmt: skip
def test_bad_schedules_are_400_naming_the_field(
    demo: Emulator, change: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in (schedule_body(demo) | change).items() if v is not None}
    response = v2(demo).post("schedule", body)
    assert response.status_code == 400, response.text
    assert field in response.json()["msg"]


def test_bad_targeting_is_400(demo: Emulator) -> None:
    body = schedule_body(demo)
    body["targeting"]["iopath"][0]["field"] = "tensor"
    response = v2(demo).post("schedule", body)
    assert response.status_code == 400 and "targeting.iopath.0.field" in response.json()["msg"]
    body = schedule_body(demo)
    body["targeting"]["data_origin"]["pipeline_name"] = "otherpipe"
    response = v2(demo).post("schedule", body)
    assert response.status_code == 400 and "pipeline_name" in response.json()["msg"]


def test_unknown_assays_are_404(demo: Emulator) -> None:
    response = v2(demo).post("get_results", {"id": str(uuid.uuid4())})
    assert response.status_code == 404 and "not found" in response.json()["msg"]
