"""v1 assays in the emulator's "current" API mode (today's paths and shapes), over real HTTP;
"seed" mode keeps the tutorial's (tests/test_emulator_assays.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from emulator.assays.config import format_time_z
from emulator.seed import DAY_MS, MODEL, PIPELINE
from tests.helpers.emulators import Emulator

EVER = {"start": "2000-01-01T00:00:00+00:00", "end": "2100-01-01T00:00:00+00:00"}
SUMMARIZER = {
    "type": "UnivariateContinuous",
    "bin_mode": "Quantile",
    "aggregation": "Density",
    "metric": "PSI",
    "num_bins": 5,
}


@pytest.fixture(scope="module")
def demo(start_module_emulator: Callable[..., Emulator]) -> Emulator:
    return start_module_emulator(api="current", seed_demo=True, deployment_startup_seconds=0)


def window(emulator: Emulator, **changes: Any) -> dict[str, Any]:
    assert emulator.demo is not None
    return {
        "path": "input tensor 0",
        "pipeline_name": PIPELINE,
        "width": "24 hours",
        "workspace_id": emulator.demo["workspace_id"],
        "model_name": MODEL,
    } | changes


def todays_assay(emulator: Emulator, baseline: dict[str, Any], name: str) -> dict[str, Any]:
    assert emulator.demo is not None
    return {
        "name": name,
        "pipeline_id": emulator.demo["pipeline_id"],
        "pipeline_name": PIPELINE,
        "active": True,
        "status": "created",
        "baseline": baseline,
        "window": window(emulator),
        "summarizer": SUMMARIZER,
        "warning_threshold": 0.05,
        "alert_threshold": 0.1,
        "created_at": "2024-06-01T00:00:00+00:00",
        "workspace_id": emulator.demo["workspace_id"],
    }


def fixed_window(emulator: Emulator) -> dict[str, Any]:
    assert emulator.demo is not None
    start = format_time_z(emulator.demo["drift_starts_ms"] - 30 * DAY_MS)
    return {"calculated": {"fixed_window": window(emulator, start=start)}}


def test_get_assay_results_needs_start_and_end(demo: Emulator) -> None:
    api = demo.admin()
    for missing in ("start", "end"):
        body = {"assay_id": 1, **EVER}
        del body[missing]
        response = api.post("assays/get_assay_results", body)
        assert response.status_code == 400
        assert response.json()["msg"] == f"{missing} is required"


def test_results_in_todays_shape(demo: Emulator) -> None:
    results = demo.admin().ok("assays/get_assay_results", {"assay_id": 1, **EVER})
    assert len(results) == 29
    result = results[-1]
    assert set(result) == {
        "id", "assay_id", "window_start", "analyzed_at", "elapsed_millis", "pipeline_id",
        "workspace_id", "workspace_name", "baseline_summary", "window_summary",
        "warning_threshold", "alert_threshold", "score", "scores", "bin_index", "summarizer",
        "status", "created_at",
    }  # fmt: skip
    assert datetime.fromisoformat(result["created_at"]).utcoffset() is not None
    assert result["summarizer"]["bin_mode"] == "Quantile" and result["bin_index"] is None
    assert result["workspace_name"] == "housepricedrift"
    window_start = datetime.fromisoformat(results[1]["window_start"])
    later = {"assay_id": 1, "start": results[1]["window_start"], "end": EVER["end"]}
    found = demo.admin().ok("assays/get_assay_results", later)
    assert len(found) == 28 and datetime.fromisoformat(found[0]["window_start"]) == window_start


def test_the_tutorials_calls_are_gone(demo: Emulator) -> None:
    api = demo.admin()
    for path in ("assays/get_results", "assays/run_interactive_baseline"):
        response = api.post(path, {"assay_id": 1})
        assert response.status_code == 404 and response.json()["msg"] == "Not Found"


def test_todays_calls_are_absent_in_seed_mode(start_emulator: Callable[..., Emulator]) -> None:
    api = start_emulator(api="seed").admin()
    for path in ("assays/get_assay_results", "assays/summarize", "assays/get_assay_by_id"):
        response = api.post(path, {"assay_id": 1, **EVER})
        assert response.status_code == 404 and response.json()["msg"] == "Not Found"


def test_create_in_todays_shape_scores_as_the_tutorials(demo: Emulator) -> None:
    api = demo.admin()
    created = api.ok("assays/create", todays_assay(demo, fixed_window(demo), "today's"))
    listed = {a["id"]: a for a in api.ok("assays/list", {"pipeline_id": demo.demo["pipeline_id"]})}
    item = listed[created["assay_id"]]
    assert item["window"]["path"] == "input tensor 0" and item["workspace_name"]
    assert item["baseline"] == fixed_window(demo)
    ours = api.ok("assays/get_assay_results", {"assay_id": created["assay_id"], **EVER})
    tutorials = api.ok("assays/get_assay_results", {"assay_id": 1, **EVER})
    assert [r["score"] for r in ours] == [r["score"] for r in tutorials]
    assert api.ok("assays/get_assay_by_id", {"id": created["assay_id"]})["name"] == "today's"
    api.ok("assays/set_active", {"id": created["assay_id"], "active": False})


def test_summarize_then_a_static_baseline(demo: Emulator) -> None:
    api = demo.admin()
    fixed = fixed_window(demo)["calculated"]
    summary = api.ok("assays/summarize", {"summarizer": SUMMARIZER, "baseline": fixed})
    tutorials = api.ok("assays/get_assay_results", {"assay_id": 1, **EVER})
    assert summary == tutorials[0]["baseline_summary"]
    body = todays_assay(demo, {"static": summary}, "static")
    interactive = api.ok("assays/run_interactive", body)
    assert [r["score"] for r in interactive] == [r["score"] for r in tutorials]
    assert interactive[0]["id"] is None and interactive[0]["workspace_id"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"created_at": None}, "created_at"),
        ({"window": {"path": "input tensor 0"}}, "window.pipeline_name"),
        ({"window": None}, "window"),
        ({"baseline": {"calculated": {"sliding_window": {}}}}, "baseline"),
    ],
)
def test_bad_todays_bodies_are_400_naming_the_field(
    demo: Emulator, change: dict[str, Any], field: str
) -> None:
    body = {
        k: v
        for k, v in (todays_assay(demo, fixed_window(demo), "bad") | change).items()
        if v is not None
    }
    response = demo.admin().post("assays/create", body)
    assert response.status_code == 400, response.text
    assert field in response.json()["msg"]


def test_list_without_a_pipeline(demo: Emulator) -> None:
    api = demo.admin()
    everything = api.ok("assays/list", {})
    in_workspace = api.ok("assays/list", {"workspace_name": "housepricedrift"})
    assert 1 in [a["id"] for a in everything] and everything == in_workspace
