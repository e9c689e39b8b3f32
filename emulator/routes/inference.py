"""The external inference URL of a deployed pipeline: run its model, log every row."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import numpy as np
from fastapi import APIRouter, Request

from emulator.access import workspace_for
from emulator.errors import ApiError, bad_request, not_found
from emulator.identity import context
from emulator.inference_logs import LogColumns
from emulator.model_runner import parse_tensor

router = APIRouter(prefix="/v1/api/pipelines/infer")


@router.post("/{deployment_name}/{pipeline_name}")
async def infer(deployment_name: str, pipeline_name: str, request: Request) -> list[dict]:
    state, caller = context(request)
    deploy_id, _, number = deployment_name.rpartition("-")
    row = state.db.one(
        "SELECT d.*, p.name AS pipeline_name, p.workspace_id FROM deployments d"
        " JOIN pipelines p ON p.id = d.pipeline_id"
        " WHERE d.id = ? AND d.deploy_id = ? AND d.active = 1 AND p.name = ?",
        (int(number) if number.isdigit() else -1, deploy_id, pipeline_name),
    )
    if row is None:
        raise not_found(f"pipeline {pipeline_name} is not deployed as {deployment_name}")
    workspace_for(state.db, caller, row["workspace_id"])
    if row["error"]:
        raise ApiError(503, f"the deployment failed to start: {row['error']}")
    if state.clock.now() - row["started_at"] < state.config.deployment_startup_seconds:
        raise ApiError(503, "the deployment is still starting; try again once it is Running")
    models = json.loads(row["models"])
    if not models:
        raise bad_request(f"pipeline {pipeline_name} has no model step to run")
    model = models[0]
    version = state.db.one(
        "SELECT file_path FROM model_versions WHERE model_version = ?", (model["version"],)
    )
    try:
        tensor = parse_tensor(await request.json())
    except json.JSONDecodeError as exc:
        raise bad_request(f"the body is not valid JSON: {exc.msg}") from exc

    started = time.perf_counter_ns()
    outputs = await asyncio.to_thread(
        state.models.run, model["sha"], Path(version["file_path"]), tensor
    )
    elapsed = time.perf_counter_ns() - started
    now_ms = state.clock.now_ms()

    log = state.logs.pipeline(pipeline_name)
    code = log.model_code(model["name"], model["version"])
    rows = len(tensor)
    log.append(
        LogColumns(
            np.full(rows, now_ms, np.int64),
            tensor,
            outputs,
            np.full(rows, elapsed // rows, np.int64),
            np.full(rows, code, np.int32),
        )
    )
    return [
        {
            "model_name": model["name"],
            "model_version": model["version"],
            "pipeline_name": pipeline_name,
            "outputs": [
                {"Float": {"v": 1, "dim": list(o.shape), "data": o.ravel().tolist()}}
                for o in outputs
            ],
            "elapsed": elapsed,
            "time": now_ms,
            "original_data": {"tensor": tensor.tolist()},
            "check_failures": [],
            "shadow_data": {},
        }
    ]
