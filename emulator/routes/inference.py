"""The external inference URL of a deployed pipeline: run its model, log every row.

The seed takes the tutorial's `{"tensor": [[...]]}` and answers `[{outputs, original_data, ...}]`;
today's also takes pandas records keyed by the model's input name and answers one
`{time, in, out, check_failures, metadata}` record per row (emulator/pandas_records.py).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import numpy as np
from fastapi import APIRouter, Request

from emulator.access import workspace_for
from emulator.deployments import pod_name
from emulator.errors import ApiError, bad_request, not_found
from emulator.identity import context
from emulator.inference_logs import LogColumns, Origin
from emulator.model_runner import parse_tensor
from emulator.pandas_records import (
    TENSOR,
    RecordContext,
    is_pandas_records,
    output_names,
    parse_records,
    render_record,
)
from emulator.state import EmulatorState

router = APIRouter(prefix="/v1/api/pipelines/infer")


def _running_deployment(
    state: EmulatorState, deployment_name: str, pipeline_name: str
) -> sqlite3.Row:
    deploy_id, _, number = deployment_name.rpartition("-")
    row = state.db.one(
        "SELECT d.*, p.name AS pipeline_name, p.workspace_id, v.version AS pipeline_version"
        " FROM deployments d JOIN pipelines p ON p.id = d.pipeline_id"
        " JOIN pipeline_versions v ON v.id = d.pipeline_version_id"
        " WHERE d.id = ? AND d.deploy_id = ? AND d.active = 1 AND p.name = ?",
        (int(number) if number.isdigit() else -1, deploy_id, pipeline_name),
    )
    if row is None:
        raise not_found(f"pipeline {pipeline_name} is not deployed as {deployment_name}")
    return row


async def _read_input(
    state: EmulatorState, request: Request, sha: str, path: Path
) -> tuple[np.ndarray, str, list[str]]:
    """The rows to run, the column they came in, and the model's output names (today's)."""
    try:
        body = await request.json()
    except json.JSONDecodeError as exc:
        raise bad_request(f"the body is not valid JSON: {exc.msg}") from exc
    if not state.current_api:
        return parse_tensor(body), TENSOR, []
    model_input, outputs_named = state.models.names(sha, path)
    if is_pandas_records(request.headers.get("content-type")) or isinstance(body, list):
        tensor, column = parse_records(body, model_input)
        return tensor, column, outputs_named
    return parse_tensor(body), TENSOR, outputs_named


@router.post("/{deployment_name}/{pipeline_name}")
async def infer(deployment_name: str, pipeline_name: str, request: Request) -> list[dict]:
    state, caller = context(request)
    row = _running_deployment(state, deployment_name, pipeline_name)
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
    path = Path(version["file_path"])

    reading = time.perf_counter_ns()
    tensor, input_name, outputs_named = await _read_input(state, request, model["sha"], path)
    read_ns = time.perf_counter_ns() - reading

    started = time.perf_counter_ns()
    outputs = await asyncio.to_thread(state.models.run, model["sha"], path, tensor)
    elapsed = time.perf_counter_ns() - started
    now_ms = state.clock.now_ms()

    log = state.logs.pipeline(pipeline_name)
    code = log.model_code(model["name"], model["version"])
    partition = pod_name("engine", row["id"])
    origin = log.origin_code(Origin(row["pipeline_version"], partition, input_name))
    rows = len(tensor)
    log.append(
        LogColumns(
            np.full(rows, now_ms, np.int64),
            tensor,
            outputs,
            np.full(rows, elapsed // rows, np.int64),
            np.full(rows, code, np.int32),
            np.full(rows, origin, np.int32),
        )
    )
    if not state.current_api:
        return _seed_answer(model, pipeline_name, tensor, outputs, elapsed, now_ms)
    record_context = RecordContext(
        input_name,
        output_names(outputs_named, len(outputs)),
        model["name"],
        model["sha"],
        row["pipeline_version"],
        partition,
    )
    return [
        render_record(
            now_ms,
            tensor[i].tolist(),
            [o[i].tolist() for o in outputs],
            [read_ns // rows, elapsed // rows],
            record_context,
        )
        for i in range(rows)
    ]


def _seed_answer(
    model: dict,
    pipeline_name: str,
    tensor: np.ndarray,
    outputs: list[np.ndarray],
    elapsed: int,
    now_ms: int,
) -> list[dict]:
    """The tutorial's answer: one item for the whole tensor."""
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
