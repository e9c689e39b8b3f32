"""Assay answers at the parsing layer: v2 assays, results and previews, both v1 result shapes
(the tutorial's `assays/get_results` and today's `assays/get_assay_results`), all turned into
the one view (`DriftResult`) the handlers, alerts and charts read. Payloads are literal, in the
shapes of the spec (shared/reference/wallaroo-api-current.md) and the wheel's models."""

from __future__ import annotations

import copy

import pytest

from bot.wallaroo import WallarooBadResponse
from bot.wallaroo.assay_models import AssayList, AssayResultList
from bot.wallaroo.assay_v2_models import (
    AssayResultV2List,
    AssayV2List,
    DataOrigin,
    NextRun,
    Thresholds,
    data_path,
    schedule_body,
)
from bot.wallaroo.calls import v2_url_beside
from bot.wallaroo.drift import from_v1, from_v2
from bot.wallaroo.models import parse_response
from handlers.commands.assay_create import width_seconds
from handlers.commands.assay_runs import _v2_baseline_rows
from handlers.commands.assays import _v2_row, result_row

ASSAY_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
LABELS = ["left_outlier", "q_20", "q_40", "q_60", "q_80", "right_outlier"]


def series(values: list[float], start: str, end: str, count: int = 1440) -> dict:
    return {
        "name": "out.variable.0",
        "bins": {
            "mode": {"Quantile": 5},
            "edges": [236238.7, 311515.9, 405111.3, 504180.0, 1_001_000.0, "INFINITY"],
            "labels": LABELS,
        },
        "aggregated_values": values,
        "aggregation": "Density",
        "statistics": {
            "count": count,
            "min": 236238.7,
            "max": 1_412_215.3,
            "mean": 513_762.1,
            "median": 448_627.8,
            "std": 241_687.5,
        },
        "start": start,
        "end": end,
    }


BASELINE = [0.0, 0.2, 0.2, 0.2, 0.2, 0.2]
V2_ASSAY = {
    "id": ASSAY_ID,
    "name": "house price drift",
    "active": True,
    "created_at": "2026-01-05T10:00:00.123456Z",
    "updated_at": "2026-01-05T10:00:00.123456Z",
    "baseline": {
        "Summary": {
            "out.variable.0": series(BASELINE, "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z")
        }
    },
    "scheduling": {
        "first_run": "2026-01-03T00:00:00Z",
        "run_frequency": {"SimpleRunFrequency": {"quantity": 1, "unit": "Day"}},
        "end": None,
    },
    "summarizer": {
        "UnivariateContinuous": {
            "aggregation": "Density",
            "bin_mode": {"Quantile": 5},
            "metric": "PSI",
            "bin_weights": None,
        }
    },
    "targeting": {
        "data_origin": {
            "pipeline_id": 4,
            "pipeline_name": "housepricepipe",
            "workspace_id": 5,
            "workspace_name": "housepricedrift",
            "locations": None,
        },
        "iopath": [
            {"field": "out.variable", "indexes": [0], "thresholds": {"alert": 0.25, "warning": 0.1}}
        ],
    },
    "window": {"width": {"seconds": 86400}},
    "some_future_field": {"kept": True},
}
V2_RESULT = {
    "id": 17,
    "assay_id": ASSAY_ID,
    "analyzed_at": "2026-01-04T00:00:05Z",
    "elapsed_millis": 12,
    "window_start": "2026-01-03T00:00:00Z",
    "window_end": "2026-01-04T00:00:00Z",
    "created_at": "2026-01-04T00:00:05Z",
    "updated_at": "2026-01-04T00:00:05Z",
    "pipeline_id": 4,
    "workspace_id": 5,
    "workspace_name": "housepricedrift",
    "status": "Alert",
    "scores": {
        "out.variable.0": {
            "score": 0.4312,
            "scores": [0.0, 0.1, 0.0, 0.0, 0.2, 0.13],
            "bin_index": None,
        }
    },
    "summaries": {
        "out.variable.0": series(
            [0.0, 0.02, 0.15, 0.2, 0.33, 0.3], "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"
        )
    },
}
V1_SUMMARY = {
    "count": 1440,
    "min": 1.0,
    "max": 9.0,
    "mean": 5.0,
    "median": 5.0,
    "std": 2.0,
    "edges": [1.0, 3.0, 5.0, 7.0, 9.0, None],
    "edge_names": LABELS,
    "aggregated_values": BASELINE,
    "aggregation": "Density",
    "start": "2026-01-01T00:00:00Z",
    "end": "2026-01-02T00:00:00Z",
}
V1_WINDOW = V1_SUMMARY | {
    "aggregated_values": [0.0, 0.1, 0.1, 0.2, 0.2, 0.4],
    "start": "2026-01-03T00:00:00Z",
    "end": "2026-01-04T00:00:00Z",
}
TUTORIAL_V1_RESULT = {
    "assay_id": 2,
    "name": "api_assay_test2",
    "created_at": 1643673600000,
    "elapsed_millis": 14,
    "pipeline_id": 4,
    "pipeline_name": "housepricepipe",
    "iopath": "output 0 0",
    "baseline_summary": V1_SUMMARY,
    "window_summary": V1_WINDOW,
    "warning_threshold": 0.05,
    "alert_threshold": 0.1,
    "score": 0.2,
    "scores": [0.0, 0.05, 0.05, 0.0, 0.0, 0.1],
    "index": None,
    "summarizer_meta": '{"type":"UnivariateContinuous","bin_mode":"Quantile"}',
    "status": "Alert",
}
# Today's item: no name, pipeline_name or iopath; bin_index; created_at RFC 3339; summaries
# without their window bounds.
TODAY_V1_RESULT = {
    "id": 31,
    "assay_id": 2,
    "window_start": "2026-01-03T00:00:00Z",
    "analyzed_at": "2026-01-04T00:00:02Z",
    "elapsed_millis": 9,
    "baseline_summary": {k: v for k, v in V1_SUMMARY.items() if k not in ("start", "end")},
    "window_summary": {k: v for k, v in V1_WINDOW.items() if k not in ("start", "end")},
    "alert_threshold": 0.1,
    "score": 0.07,
    "scores": [0.0, 0.02, 0.02, 0.0, 0.0, 0.03],
    "summarizer": {"type": "UnivariateContinuous", "bin_mode": "Quantile", "num_bins": 5},
    "status": "Warning",
    "pipeline_id": 4,
    "workspace_id": 5,
    "workspace_name": "housepricedrift",
    "warning_threshold": 0.05,
    "bin_index": None,
    "created_at": "2026-01-04T00:00:02.52Z",
}


def test_a_v2_assay_and_its_result_read_as_one_view() -> None:
    (assay,) = parse_response(AssayV2List, [V2_ASSAY], "v2/api/assays/get").root
    assert assay.path.key == "out.variable.0" and assay.pipeline_name == "housepricepipe"
    assert assay.model_extra == {"some_future_field": {"kept": True}}
    (result,) = parse_response(AssayResultV2List, [V2_RESULT], "v2/api/assays/get_results").root
    view = from_v2(result, assay)
    assert view is not None
    assert (view.assay_id, view.generation, view.status, view.score) == (
        ASSAY_ID, "v2", "Alert", 0.4312,
    )  # fmt: skip
    assert (view.window_start, view.window_end) == (
        "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z",
    )  # fmt: skip
    # No thresholds in the result: the assay's iopath has them.
    assert (view.warning_threshold, view.alert_threshold) == (0.1, 0.25)
    assert view.bin_names == LABELS and view.baseline_values == BASELINE
    moved = view.moved_bins()
    assert [b.name for b in moved] == ["q_20", "q_80", "right_outlier"]
    assert (moved[0].baseline, moved[0].window) == (0.2, 0.02)
    assert view.assay_name == "house price drift" and view.pipeline_name == "housepricepipe"


def test_a_v2_result_that_failed_to_score_is_left_out_and_a_preview_gets_a_status() -> None:
    (assay,) = AssayV2List.model_validate([V2_ASSAY]).root
    failed = V2_RESULT | {"scores": {"out.variable.0": "no data in window"}, "summaries": None}
    assert from_v2(AssayResultV2List.model_validate([failed]).root[0], assay) is None
    # Previews: no status, no window_start, no thresholds; the score 0.15 is a Warning here.
    preview = {
        k: v for k, v in V2_RESULT.items() if k not in ("status", "window_start", "created_at")
    }
    preview["scores"] = {"out.variable.0": {"score": 0.15, "scores": []}}
    preview["summaries"]["out.variable.0"] = {
        **preview["summaries"]["out.variable.0"], "start": None,
    }  # fmt: skip
    view = from_v2(AssayResultV2List.model_validate([preview]).root[0], assay)
    assert view is not None and view.status == "Warning"
    assert view.started.isoformat() == "2026-01-03T00:00:00+00:00"  # window_end - width


def test_a_v2_result_without_window_end_names_the_field() -> None:
    broken = {k: v for k, v in V2_RESULT.items() if k != "window_end"}
    with pytest.raises(WallarooBadResponse) as caught:
        parse_response(AssayResultV2List, [broken], "v2/api/assays/get_results")
    assert "0.window_end" in str(caught.value) and "v2/api/assays/get_results" in str(caught.value)


def test_a_static_v2_baseline_gives_no_baseline_bins_but_still_a_view() -> None:
    static = copy.deepcopy(V2_ASSAY)
    static["baseline"] = {"Static": ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"]}
    (assay,) = AssayV2List.model_validate([static]).root
    assert assay.baseline_summary() is None
    view = from_v2(AssayResultV2List.model_validate([V2_RESULT]).root[0], assay)
    assert view is not None and view.baseline_values == [] and view.moved_bins() == []


@pytest.mark.parametrize("item", [TUTORIAL_V1_RESULT, TODAY_V1_RESULT], ids=["tutorial", "today"])
def test_both_v1_result_shapes_read_as_one_view(item: dict) -> None:
    (result,) = parse_response(AssayResultList, [item], "assays/get_assay_results").root
    view = from_v1(result, 2, "assays/get_assay_results")
    assert view.assay_id == "2" and view.generation == "v1"
    assert view.window_start == "2026-01-03T00:00:00Z"
    assert view.bin_names == LABELS and view.baseline_values == BASELINE
    assert view.moved_bins()[0].name == "right_outlier"
    assert view.status == item["status"] and view.alert_threshold == 0.1


def test_today_v1_result_without_any_window_start_is_a_clear_error() -> None:
    broken = {k: v for k, v in TODAY_V1_RESULT.items() if k != "window_start"}
    (result,) = AssayResultList.model_validate([broken]).root
    with pytest.raises(WallarooBadResponse) as caught:
        from_v1(result, 2, "assays/get_assay_results")
    assert "window_start" in str(caught.value) and "get_assay_results" in str(caught.value)


def test_today_v1_listing_without_configs_parses() -> None:
    item = {
        "id": 2,
        "name": "a",
        "active": True,
        "status": "created",
        "alert_threshold": 0.1,
        "pipeline_id": 4,
        "pipeline_name": "housepricepipe",
        "next_run": "2026-01-05T00:00:00Z",
        "workspace_id": 5,
        "workspace_name": "housepricedrift",
    }
    (assay,) = AssayList.model_validate([item]).root
    assert assay.workspace_id == 5 and assay.baseline == {} and assay.updated_at is None


def test_next_run_and_urls() -> None:
    assert NextRun.model_validate({"last_run": None}).next_run is None
    assert v2_url_beside("https://w.example.com/v1/api/") == "https://w.example.com/v2/api"


@pytest.mark.parametrize(
    ("iopath", "field", "indexes"),
    [
        ("out.variable.0", "out.variable", [0]),
        ("out.variable", "out.variable", None),
        ("output variable 0", "out.variable", [0]),
        ("input tensor 3", "in.tensor", [3]),
    ],
)
def test_iopaths_convert_like_the_sdk(iopath: str, field: str, indexes: list[int] | None) -> None:
    assert data_path(iopath) == (field, indexes)


def test_the_schedule_body_has_the_spec_shape() -> None:
    origin = DataOrigin(pipeline_id=4, pipeline_name="p", workspace_id=5, workspace_name="w")
    body = schedule_body(
        name="a",
        origin=origin,
        iopath="output variable 0",
        thresholds=Thresholds(alert=0.2, warning=None),
        baseline_start="2026-01-01T00:00:00+00:00",
        baseline_end="2026-01-02T00:00:00+00:00",
        width_seconds=width_seconds("24 hours"),
        first_run="2026-01-03T00:00:00+00:00",
    )
    assert body["baseline"] == {
        "Static": ["2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00"]
    }
    assert body["scheduling"]["run_frequency"] == {
        "SimpleRunFrequency": {"quantity": 1, "unit": "Day"}
    }
    assert body["targeting"]["iopath"] == [
        {"field": "out.variable", "indexes": [0], "thresholds": {"alert": 0.2, "warning": None}}
    ]
    assert body["targeting"]["data_origin"] == {
        "pipeline_id": 4, "pipeline_name": "p", "workspace_id": 5, "workspace_name": "w",
    }  # fmt: skip
    assert body["window"] == {"width": {"seconds": 86400}}
    assert body["summarizer"]["UnivariateContinuous"]["bin_mode"] == {"Quantile": 5}
    with pytest.raises(ValueError):
        width_seconds("soon")


def test_strings_a_server_makes_up_are_escaped_in_replies() -> None:
    # A v2 server (or a proxy in front of it) answering mrkdwn control characters: no reply
    # built from its ids, times or labels may ping a channel or forge a link.
    hostile = "<!channel>"
    assay_raw = copy.deepcopy(V2_ASSAY) | {"id": f"{hostile}-0000-0000"}
    summary = assay_raw["baseline"]["Summary"]["out.variable.0"]
    summary["start"], summary["bins"]["labels"] = hostile, [hostile] * 6
    (assay,) = parse_response(AssayV2List, [assay_raw], "v2/api/assays/get").root
    result_raw = V2_RESULT | {"window_start": f"{hostile}2026-01-03T00:00:00Z"}
    (result,) = parse_response(AssayResultV2List, [result_raw], "v2/api/assays/get_results").root
    view = from_v2(result, assay)
    assert view is not None
    static_raw = copy.deepcopy(V2_ASSAY) | {"baseline": {"Static": [hostile, hostile]}}
    (static,) = parse_response(AssayV2List, [static_raw], "v2/api/assays/get").root
    shown = [
        result_row(view),
        _v2_row(assay, NextRun(last_run=hostile, next_run=hostile)),
        *_v2_baseline_rows(assay),
        *_v2_baseline_rows(static),
    ]
    assert all("<" not in row for row in shown), shown
