"""Demo data: a house-price model whose first feature drifts, and an assay that notices.

Workspace `housepricedrift`, model `housepricemodel` (a real ONNX regression made here),
pipeline `housepricepipe` deployed, 45 days of inference logs, and the active assay
`example assay` (warning 0.05, alert 0.1) with the first day as its baseline; in the "current"
API mode also its assays v2 twin, which scores the same windows on v2's five quantile bins (no
outlier bins, as real v2 assays bin) and so alerts on the same days.

The logs run from 30 days before today's midnight (UTC, on the emulator's clock) to 15 days after
it, and feature 0 drifts from today's midnight on: the 29 daily windows already complete score
Ok, and moving the clock forward by a day or more brings the Alert results in, as they would arrive
from a live deployment.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import numpy as np
import onnxruntime
from fastapi import FastAPI

from emulator.assays.config import format_time_z
from emulator.inference_logs import LogColumns
from emulator.onnx_models import linear_regression_onnx
from emulator.state import EmulatorState

WORKSPACE, MODEL, PIPELINE, ASSAY = (
    "housepricedrift",
    "housepricemodel",
    "housepricepipe",
    "example assay",
)
FEATURES = 17
DAYS_BEFORE, DAYS_AFTER = 30, 15
RECORDS_PER_DAY = 1440
DRIFT_SHIFT = 1.5  # standard deviations added to feature 0 once the drift begins
DAY_MS = 86_400_000


def seed_demo(app: FastAPI, state: EmulatorState) -> dict[str, Any]:
    """Create the demo through the emulator's own API; returns the ids it made."""
    return asyncio.run(_seed(app, state))


async def _seed(app: FastAPI, state: EmulatorState) -> dict[str, Any]:
    model_bytes = linear_regression_onnx(FEATURES, seed=7)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        token = (
            await http.post(
                "/auth/realms/master/protocol/openid-connect/token",
                data={"grant_type": "client_credentials"},
                auth=(state.config.client_id, state.config.client_secret),
            )
        ).json()["access_token"]
        api = _Api(http, token)
        workspace = await api.call("workspaces/create", {"workspace_name": WORKSPACE})
        workspace_id = workspace["workspace_id"]
        upload = await http.post(
            "/v1/api/models/upload",
            headers=api.headers,
            data={"name": MODEL, "visibility": "public", "workspace_id": str(workspace_id)},
            files={"file": (f"{MODEL}.onnx", model_bytes)},
        )
        model_id = upload.json()["insert_models"]["returning"][0]["models"][0]["id"]
        (version,) = (await api.call("models/get", {"id": model_id}))["models"]
        step = {"name": MODEL, "version": version["model_version"], "sha": version["sha"]}
        pipeline = await api.call(
            "pipelines/create",
            {
                "pipeline_id": PIPELINE,
                "workspace_id": workspace_id,
                "definition": {"id": PIPELINE, "steps": [{"ModelInference": {"models": [step]}}]},
            },
        )
        deployment = await api.call(
            "pipelines/deploy",
            {
                "deploy_id": PIPELINE,
                "pipeline_id": pipeline["pipeline_pk_id"],
                "pipeline_version_pk_id": pipeline["pipeline_variant_pk_id"],
            },
        )

        first_day = _midnight_ms(state.clock.now_ms()) - DAYS_BEFORE * DAY_MS
        _load_logs(state, model_bytes, step, first_day)
        assay = await api.call(
            "assays/create", demo_assay(workspace_id, pipeline["pipeline_pk_id"], first_day)
        )
        ids: dict[str, Any] = {}
        if state.config.api == "current":
            ids["assay_v2_id"] = await api.call(
                "assays/schedule",
                demo_assay_v2(workspace_id, pipeline["pipeline_pk_id"], first_day),
                version=2,
            )
    return {
        **ids,
        "workspace_id": workspace_id,
        "model_id": model_id,
        "pipeline_id": pipeline["pipeline_pk_id"],
        "deployment_id": deployment["id"],
        "deploy_id": PIPELINE,
        "assay_id": assay["assay_id"],
        "drift_starts_ms": first_day + DAYS_BEFORE * DAY_MS,
    }


def demo_assay(workspace_id: int, pipeline_id: int, first_day_ms: int) -> dict[str, Any]:
    return assay_request(
        name=ASSAY,
        workspace_id=workspace_id,
        pipeline_id=pipeline_id,
        pipeline=PIPELINE,
        model=MODEL,
        baseline_start_ms=first_day_ms,
        baseline_end_ms=first_day_ms + DAY_MS,
    )


def demo_assay_v2(workspace_id: int, pipeline_id: int, first_day_ms: int) -> dict[str, Any]:
    """The v2 twin of demo_assay: the same baseline day, daily windows from the day after it
    (the first run ends the first window), input feature 0, PSI on 5 quantile bins."""
    return {
        "name": ASSAY,
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
                    "field": "in.tensor",
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
) -> dict[str, Any]:
    """A daily PSI assay on input 0 0, in the tutorial's request shape."""
    return {
        "name": name,
        "pipeline_id": pipeline_id,
        "pipeline_name": pipeline,
        "active": True,
        "status": "created",
        "iopath": "input 0 0",
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


class _Api:
    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, path: str, body: dict[str, Any], version: int = 1) -> Any:
        response = await self.http.post(f"/v{version}/api/{path}", json=body, headers=self.headers)
        if response.status_code != 200:
            raise RuntimeError(f"seeding {path} failed: {response.text}")
        return response.json()


def _midnight_ms(now_ms: int) -> int:
    return now_ms - now_ms % DAY_MS


def _load_logs(
    state: EmulatorState, model_bytes: bytes, step: dict[str, str], first_day_ms: int
) -> None:
    rng = np.random.default_rng(2022)
    days = DAYS_BEFORE + DAYS_AFTER
    n = days * RECORDS_PER_DAY
    times = first_day_ms + np.sort(rng.integers(0, days * DAY_MS, n))
    inputs = rng.normal(size=(n, FEATURES))
    drifting = times >= first_day_ms + DAYS_BEFORE * DAY_MS
    inputs[drifting, 0] += DRIFT_SHIFT
    session = onnxruntime.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    (prediction,) = session.run(None, {"float_input": inputs.astype(np.float32)})
    log = state.logs.pipeline(PIPELINE)
    code = log.model_code(step["name"], step["version"])
    log.append(
        LogColumns(
            times.astype(np.int64),
            inputs,
            [np.asarray(prediction, np.float64).reshape(n, 1)],
            rng.integers(90_000, 180_000, n).astype(np.int64),
            np.full(n, code, np.int32),
        )
    )
