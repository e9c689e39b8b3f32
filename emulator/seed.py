"""Demo data: a house-price model, its pipeline serving live traffic, and assays that notice drift.

Workspace `housepricedrift`, model `housepricemodel` (a real ONNX regression made here),
pipeline `housepricepipe` deployed, clients sending it about a request a minute (emulator/
traffic.py: 30 days already answered by the model, 15 more answered live by whatever is deployed
when the clock reaches them), and the active assay `example assay` on input 0 0 (warning 0.05,
alert 0.1) with the first day as its baseline; in the "current" API mode also its assays v2 twin,
which scores the same windows on v2's five quantile bins (no outlier bins, as real v2 assays bin)
and so alerts on the same days. Two stories (EmulatorConfig.demo_story):

- "input-drift": the requests' feature 0 drifts from today's midnight (UTC, on the emulator's
  clock). The 29 daily windows already complete score Ok; moving the clock a day brings the
  Alert results in, whatever model answers, as input drift does.
- "bad-release": the inputs stay steady; at start-up version 2 of the model (the same regression
  with a units bug: its prices come out 1.25 times too high) is uploaded, put in a new pipeline
  version and deployed, after 30 days served by version 1. The days are counted from that
  release, so the first window after it is wholly the bad version's: `price assay` (output 0 0;
  v2 twin on out.variable 0) alerts a day later and is Ok again the first whole window after a
  rollback to version 1, while `example assay` stays Ok: inputs steady, predictions moved.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI

from emulator.clock import iso
from emulator.demo_assays import (
    ASSAY,
    DAY_MS,
    MODEL,
    PIPELINE,
    PRICE_ASSAY,
    WORKSPACE,
    assay_request,
    demo_assay,
    demo_assay_v2,
)
from emulator.onnx_models import linear_regression_onnx
from emulator.state import EmulatorState
from emulator.traffic import INPUT_SHIFT, plan_requests

__all__ = [
    "ASSAY",
    "DAYS_AFTER",
    "DAYS_BEFORE",
    "DAY_MS",
    "DRIFT_SHIFT",
    "FEATURES",
    "MODEL",
    "PIPELINE",
    "PRICE_ASSAY",
    "RECORDS_PER_DAY",
    "WORKSPACE",
    "assay_request",
    "demo_assay",
    "demo_assay_v2",
    "seed_demo",
]

FEATURES = 17
DAYS_BEFORE, DAYS_AFTER = 30, 15
RECORDS_PER_DAY = 1440
DRIFT_SHIFT = INPUT_SHIFT
# The bad release's units bug: every price it predicts is this many times the true one.
BAD_RELEASE_SCALE = 1.25
TRAFFIC_SEED = 2022
HOUR_MS = 3_600_000


def seed_demo(app: FastAPI, state: EmulatorState) -> dict[str, Any]:
    """Create the demo through the emulator's own API; returns the ids it made."""
    return asyncio.run(_seed(app, state))


async def _seed(app: FastAPI, state: EmulatorState) -> dict[str, Any]:
    release = state.config.demo_story == "bad-release"
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        api = await _Api.connect(http, state)
        workspace = await api.call("workspaces/create", {"workspace_name": WORKSPACE})
        workspace_id = workspace["workspace_id"]
        model_id, step = await api.upload(workspace_id, linear_regression_onnx(FEATURES, seed=7))
        pipeline = await api.create_pipeline(workspace_id, step)
        deployment = await api.deploy(pipeline)

        now_ms = state.clock.now_ms()
        # The release story counts its days from the release, so that whole windows after it
        # are the bad version's; the input-drift story from today's midnight, where it drifts.
        drift_starts = now_ms if release else now_ms - now_ms % DAY_MS
        first_day = drift_starts - DAYS_BEFORE * DAY_MS
        plan = plan_requests(
            first_day,
            DAYS_BEFORE + DAYS_AFTER,
            RECORDS_PER_DAY,
            FEATURES,
            TRAFFIC_SEED,
            None if release else drift_starts,
        )
        # The first version has served since the first day: made before it (so `versions`
        # tells the story), it answered the days before start-up (its deployment named in
        # their records); from now on whatever is deployed and Running answers, starting with
        # the deployment just made (tests rely on it starting now).
        _backdate(state, workspace_id, pipeline, (first_day - HOUR_MS) / 1000)
        state.traffic.start(PIPELINE, pipeline["pipeline_pk_id"], plan)
        ids: dict[str, Any] = {}
        if release:
            bad_model = linear_regression_onnx(FEATURES, seed=7, scale=BAD_RELEASE_SCALE)
            _, bad_step = await api.upload(workspace_id, bad_model)
            bad = await api.create_pipeline(workspace_id, bad_step)
            await api.deploy(bad)
            ids |= {
                "release_ms": now_ms,
                "bad_model_version": bad_step["version"],
                "first_version_pk_id": pipeline["pipeline_variant_pk_id"],
            }
            ids |= await _assays(api, state, workspace_id, pipeline, first_day, PRICE_ASSAY)
        assays = await _assays(api, state, workspace_id, pipeline, first_day, ASSAY)
    return {
        **ids,
        **assays,
        "workspace_id": workspace_id,
        "model_id": model_id,
        "pipeline_id": pipeline["pipeline_pk_id"],
        "deployment_id": deployment["id"],
        "deploy_id": PIPELINE,
        "drift_starts_ms": drift_starts,
    }


def _backdate(state: EmulatorState, workspace_id: int, pipeline: dict[str, Any], at: float) -> None:
    """Make the workspace, model, pipeline and its first version as of `at`."""
    made = iso(at)
    db = state.db
    with db.transaction():
        db.execute("UPDATE workspaces SET created_at = ? WHERE id = ?", (made, workspace_id))
        db.execute(
            "UPDATE models SET created_at = ?, updated_at = ? WHERE workspace_id = ?",
            (made, made, workspace_id),
        )
        db.execute(
            "UPDATE model_versions SET created_at = ? WHERE models_pk_id IN"
            " (SELECT id FROM models WHERE workspace_id = ?)",
            (made, workspace_id),
        )
        db.execute(
            "UPDATE pipelines SET created_at = ?, updated_at = ? WHERE id = ?",
            (made, made, pipeline["pipeline_pk_id"]),
        )
        db.execute(
            "UPDATE pipeline_versions SET created_at = ? WHERE id = ?",
            (made, pipeline["pipeline_variant_pk_id"]),
        )


async def _assays(
    api: _Api,
    state: EmulatorState,
    workspace_id: int,
    pipeline: dict[str, Any],
    first_day: int,
    name: str,
) -> dict[str, Any]:
    """The assay `name` (and its v2 twin in the current mode): the ids under their keys."""
    prices = name == PRICE_ASSAY
    key = "price_assay" if prices else "assay"
    pipeline_id = pipeline["pipeline_pk_id"]
    iopath = "output 0 0" if prices else "input 0 0"
    body = demo_assay(workspace_id, pipeline_id, first_day, name=name, iopath=iopath)
    ids = {f"{key}_id": (await api.call("assays/create", body))["assay_id"]}
    if state.current_api:
        field = "out.variable" if prices else "in.tensor"
        body = demo_assay_v2(workspace_id, pipeline_id, first_day, name=name, field=field)
        ids[f"{key}_v2_id"] = await api.call("assays/schedule", body, version=2)
    return ids


class _Api:
    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}

    @classmethod
    async def connect(cls, http: httpx.AsyncClient, state: EmulatorState) -> _Api:
        token = await http.post(
            "/auth/realms/master/protocol/openid-connect/token",
            data={"grant_type": "client_credentials"},
            auth=(state.config.client_id, state.config.client_secret),
        )
        return cls(http, token.json()["access_token"])

    async def call(self, path: str, body: dict[str, Any], version: int = 1) -> Any:
        response = await self.http.post(f"/v{version}/api/{path}", json=body, headers=self.headers)
        if response.status_code != 200:
            raise RuntimeError(f"seeding {path} failed: {response.text}")
        return response.json()

    async def upload(self, workspace_id: int, model_bytes: bytes) -> tuple[int, dict[str, str]]:
        """A new version of the demo's model: the model's id and the step naming the version."""
        upload = await self.http.post(
            "/v1/api/models/upload",
            headers=self.headers,
            data={"name": MODEL, "visibility": "public", "workspace_id": str(workspace_id)},
            files={"file": (f"{MODEL}.onnx", model_bytes)},
        )
        if upload.status_code != 200:
            raise RuntimeError(f"seeding models/upload failed: {upload.text}")
        model_id = upload.json()["insert_models"]["returning"][0]["models"][0]["id"]
        versions = (await self.call("models/get", {"id": model_id}))["models"]
        newest = max(versions, key=lambda v: v["id"])
        return model_id, {"name": MODEL, "version": newest["model_version"], "sha": newest["sha"]}

    async def create_pipeline(self, workspace_id: int, step: dict[str, str]) -> dict[str, Any]:
        """A new version of the demo's pipeline running `step` (the pipeline made if new)."""
        definition = {"id": PIPELINE, "steps": [{"ModelInference": {"models": [step]}}]}
        body = {"pipeline_id": PIPELINE, "workspace_id": workspace_id, "definition": definition}
        return await self.call("pipelines/create", body)

    async def deploy(self, pipeline: dict[str, Any]) -> dict[str, Any]:
        return await self.call(
            "pipelines/deploy",
            {
                "deploy_id": PIPELINE,
                "pipeline_id": pipeline["pipeline_pk_id"],
                "pipeline_version_pk_id": pipeline["pipeline_variant_pk_id"],
            },
        )
