"""Assays v2 answers checked against what real instances answered, as recorded in Wallaroo's
public tutorials (WallarooLabs/Wallaroo_Tutorials, wallaroo2025.2_tutorials):
development/mlops-api/Wallaroo-MLOps-Tutorial-Assay-Management-Plus.ipynb (2025-03/04: raw
`/v2/api/assays/get`, `get/:id`, `get_results`, `get_next_run`, `set_active`) and
wallaroo-model-operations-tutorials/observability/model-drift-detection-with-assays (2025-04).

The recorded answers themselves are not copied here: each test states the property it showed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from emulator.seed import DAY_MS, demo_assay_v2
from tests.helpers.emulators import Api, Emulator

KEY = "in.tensor.0"
QUANTILE_5_LABELS = ["< 20%", "20% - 40%", "40% - 60%", "60% - 80%", "> 80%"]
# v2's timestamps: microseconds and "Z" (created_at, updated_at, analyzed_at).
V2_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
# Window bounds and run times: whole seconds and "Z".
RUN_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture(scope="module")
def demo(start_module_emulator: Callable[..., Emulator]) -> Emulator:
    return start_module_emulator(api="current", seed_demo=True, deployment_startup_seconds=0)


def v2(emulator: Emulator) -> Api:
    return Api(emulator.url + "/v2/api/assays", emulator.token(), emulator.http)


def schedule_body(emulator: Emulator, **changes: Any) -> dict[str, Any]:
    ids = emulator.demo
    assert ids is not None
    first_day = ids["drift_starts_ms"] - 30 * DAY_MS
    body = demo_assay_v2(ids["workspace_id"], ids["pipeline_id"], first_day)
    return copy.deepcopy(body) | changes


def test_get_shows_every_field_nulls_included(demo: Emulator) -> None:
    listed = v2(demo).ok("get", {"active": "All"})
    (assay,) = [a for a in listed if a["id"] == demo.demo["assay_v2_id"]]
    assert set(assay) == {
        "id", "name", "scheduling", "baseline", "window", "summarizer", "targeting",
        "created_at", "updated_at", "active",
    }  # fmt: skip
    assert set(assay["scheduling"]) == {"first_run", "end", "run_frequency"}
    assert assay["scheduling"]["end"] is None
    assert set(assay["targeting"]["data_origin"]) == {
        "pipeline_name", "pipeline_id", "workspace_name", "workspace_id", "model_id", "locations"
    }  # fmt: skip
    assert assay["targeting"]["data_origin"]["locations"] is None
    (path,) = assay["targeting"]["iopath"]
    assert set(path) == {"field", "indexes", "thresholds"}
    assert set(path["thresholds"]) == {"warning", "alert"}
    assert set(assay["summarizer"]["UnivariateContinuous"]) == {
        "bin_mode", "aggregation", "metric", "bin_weights"
    }  # fmt: skip
    assert V2_STAMP.match(assay["created_at"]) and V2_STAMP.match(assay["updated_at"])


def test_quantile_baselines_have_n_bins_named_by_percentage(demo: Emulator) -> None:
    assay = v2(demo).ok("get/:id", {"id": demo.demo["assay_v2_id"]})
    summary = assay["baseline"]["Summary"][KEY]
    assert summary["bins"]["mode"] == {"Quantile": 5}
    assert summary["bins"]["labels"] == QUANTILE_5_LABELS
    edges = summary["bins"]["edges"]
    assert len(edges) == 5 and edges[-1] == "INFINITY"
    # The first edge is the 20% quantile, above the minimum: the lowest bin is open below.
    assert summary["statistics"]["min"] < edges[0] < edges[1] < edges[2] < edges[3]
    assert sum(summary["aggregated_values"]) == pytest.approx(1.0)
    assert all(abs(v - 0.2) < 0.01 for v in summary["aggregated_values"])


def test_results_have_the_recorded_fields_and_the_baselines_bins(demo: Emulator) -> None:
    result = v2(demo).ok("get_results", {"id": demo.demo["assay_v2_id"]})[0]
    assert set(result) == {
        "id", "assay_id", "analyzed_at", "elapsed_millis", "scores", "status", "summaries",
        "window_end", "window_start", "created_at", "updated_at", "workspace_id",
        "workspace_name", "pipeline_id", "warning_threshold", "alert_threshold",
    }  # fmt: skip
    assert isinstance(result["id"], int) and isinstance(result["elapsed_millis"], int)
    for stamp in ("analyzed_at", "created_at", "updated_at"):
        assert V2_STAMP.match(result[stamp]), result[stamp]
    assert RUN_TIME.match(result["window_start"]) and RUN_TIME.match(result["window_end"])
    window = result["summaries"][KEY]
    assert window["name"] == KEY and window["bins"]["labels"] == QUANTILE_5_LABELS
    assert window["start"] == result["window_start"] and window["end"] == result["window_end"]
    assert result["scores"][KEY]["bin_index"] is None


def test_a_recorded_summary_baseline_is_taken_and_scored_as_the_instance_did(
    demo: Emulator,
) -> None:
    """A baseline in the recorded answer's shape (five edges ending "INFINITY", percentage
    labels, 0.2 per bin, no start or end). Every demo value falls in its first bin, as every
    value of the recorded window did, so each window must score exactly what that instance
    answered: per-bin PSI 1.2875503299472804 then 0.7193314935522176 four times, 4.16487..."""
    summary = {
        "name": "recorded baseline",
        "bins": {
            "mode": {"Quantile": 5},
            "edges": [100.0, 200.0, 300.0, 400.0, "INFINITY"],
            "labels": QUANTILE_5_LABELS,
        },
        "aggregated_values": [0.2, 0.2, 0.2, 0.2, 0.2],
        "aggregation": "Density",
        "statistics": {"count": 100, "min": 50.0, "max": 500.0, "mean": 250.0, "median": 250.0,
                       "std": 100.0},
        "start": None,
        "end": None,
    }  # fmt: skip
    body = schedule_body(demo, name="recorded", baseline={"Summary": {KEY: summary}})
    body["targeting"]["iopath"][0]["thresholds"] = {"warning": 0.1, "alert": 0.1}
    api = v2(demo)
    assay_id = api.ok("schedule", body)
    results = api.ok("get_results", {"id": assay_id})
    assert results
    for result in results:
        assert result["scores"][KEY]["scores"] == [1.2875503299472804] + [0.7193314935522176] * 4
        assert result["scores"][KEY]["score"] == 4.1648763041561505
        assert result["summaries"][KEY]["aggregated_values"] == [1.0, 0.0, 0.0, 0.0, 0.0]
        assert result["status"] == "Alert"
    stored = api.ok("get/:id", {"id": assay_id})["baseline"]["Summary"][KEY]
    assert stored["bins"] == summary["bins"] and stored["start"] is None
    api.ok("set_active", {"assay_id": assay_id, "active": False})


def test_next_run_names_scheduled_times(demo: Emulator) -> None:
    """last_run is when the latest run was due, not when it was computed."""
    assay_id = demo.demo["assay_v2_id"]
    planned = v2(demo).ok("get_next_run", {"assay_id": assay_id})
    assert set(planned) == {"last_run", "next_run"}
    assert RUN_TIME.match(planned["last_run"]) and RUN_TIME.match(planned["next_run"])
    last, following = (datetime.fromisoformat(planned[k]) for k in ("last_run", "next_run"))
    assert (following - last).total_seconds() == 86400
    latest = v2(demo).ok("get_results", {"id": assay_id})[-1]
    assert planned["last_run"] == latest["window_end"]


def test_set_active_answers_null(demo: Emulator) -> None:
    response = v2(demo).post("set_active", {"assay_id": demo.demo["assay_v2_id"], "active": True})
    assert response.status_code == 200 and response.json() is None
