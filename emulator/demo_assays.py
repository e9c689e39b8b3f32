"""The demo's assay bodies: the tutorial's assays/create (v1) and today's assays/schedule (v2),
daily PSI windows on 5 quantile bins against a baseline day."""

from __future__ import annotations

from typing import Any

from emulator.assays.config import format_time_z

WORKSPACE, MODEL, PIPELINE = "housepricedrift", "housepricemodel", "housepricepipe"
# The input assay every story has, and the bad-release story's assay of the predictions.
ASSAY, PRICE_ASSAY = "example assay", "price assay"
DAY_MS = 86_400_000


def demo_assay(
    workspace_id: int,
    pipeline_id: int,
    first_day_ms: int,
    name: str = ASSAY,
    iopath: str = "input 0 0",
) -> dict[str, Any]:
    return assay_request(
        name=name,
        iopath=iopath,
        workspace_id=workspace_id,
        pipeline_id=pipeline_id,
        pipeline=PIPELINE,
        model=MODEL,
        baseline_start_ms=first_day_ms,
        baseline_end_ms=first_day_ms + DAY_MS,
    )


def demo_assay_v2(
    workspace_id: int,
    pipeline_id: int,
    first_day_ms: int,
    name: str = ASSAY,
    field: str = "in.tensor",
) -> dict[str, Any]:
    """The v2 twin of demo_assay: the same baseline day, daily windows from the day after it
    (the first run ends the first window), element 0 of `field` (v1's "input 0 0" is
    "in.tensor", "output 0 0" is "out.variable"), PSI on 5 quantile bins."""
    return {
        "name": name,
        "baseline": {"Static": [format_time_z(first_day_ms), format_time_z(first_day_ms + DAY_MS)]},
        "scheduling": {
            "first_run": format_time_z(first_day_ms + 2 * DAY_MS),
            "run_frequency": {"SimpleRunFrequency": {"quantity": 1, "unit": "Day"}},
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
                "pipeline_id": pipeline_id,
                "pipeline_name": PIPELINE,
                "workspace_id": workspace_id,
                "workspace_name": WORKSPACE,
                "model_id": MODEL,
            },
            "iopath": [
                {
                    "field": field,
                    "indexes": [0],
                    "thresholds": {"alert": 0.1, "warning": 0.05},
                }
            ],
        },
        "window": {"width": {"seconds": DAY_MS // 1000}},
    }


def assay_request(
    *,
    name: str,
    workspace_id: int,
    pipeline_id: int,
    pipeline: str,
    model: str,
    baseline_start_ms: int,
    baseline_end_ms: int,
    warning_threshold: float | None = 0.05,
    alert_threshold: float = 0.1,
    iopath: str = "input 0 0",
) -> dict[str, Any]:
    """A daily PSI assay (on input 0 0 unless told), in the tutorial's request shape."""
    return {
        "name": name,
        "pipeline_id": pipeline_id,
        "pipeline_name": pipeline,
        "active": True,
        "status": "created",
        "iopath": iopath,
        "baseline": {
            "Fixed": {
                "pipeline": pipeline,
                "model": model,
                "start_at": format_time_z(baseline_start_ms),
                "end_at": format_time_z(baseline_end_ms),
            }
        },
        "window": {
            "pipeline": pipeline,
            "model": model,
            "width": "24 hours",
            "start": None,
            "interval": None,
        },
        "summarizer": {
            "type": "UnivariateContinuous",
            "bin_mode": "Quantile",
            "aggregation": "Density",
            "metric": "PSI",
            "num_bins": 5,
            "bin_weights": None,
            "bin_width": None,
            "provided_edges": None,
            "add_outlier_edges": True,
        },
        "warning_threshold": warning_threshold,
        "alert_threshold": alert_threshold,
        "run_until": None,
        "workspace_id": workspace_id,
    }
