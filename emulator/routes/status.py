"""status/get_deployment, admin/get_pipeline_external_url, features/list."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, StrictInt, StrictStr, ValidationError

from emulator.access import workspace_for
from emulator.deployments import render_status, render_status_today
from emulator.errors import bad_request, describe_errors, not_found
from emulator.identity import context

router = APIRouter(prefix="/v1/api")


class DeploymentName(BaseModel):
    name: StrictStr


class ExternalUrl(BaseModel):
    workspace_id: StrictInt
    pipeline_name: StrictStr


_NAME_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": DeploymentName.model_json_schema()}},
    }
}


@router.post("/status/get_deployment", openapi_extra=_NAME_BODY)
async def get_deployment(request: Request) -> JSONResponse:
    """The hottest call (pollers ask it for every deployment), so it skips FastAPI's generic
    body handling (pydantic parses the raw JSON in one pass, with the same 400s) and sends
    its answer as built, without a response-model pass."""
    try:
        body = DeploymentName.model_validate_json(await request.body())
    except ValidationError as exc:
        raise bad_request(describe_errors(exc.errors())) from exc
    state, caller = context(request)
    deploy_id, _, number = body.name.rpartition("-")
    if not deploy_id or not number.isdigit():
        raise not_found(f"deployment {body.name!r} not found: expected <deploy_id>-<id>")
    row = state.db.one(
        "SELECT d.*, p.name AS pipeline_name, p.workspace_id, v.version AS pipeline_version"
        " FROM deployments d JOIN pipelines p ON p.id = d.pipeline_id"
        " JOIN pipeline_versions v ON v.id = d.pipeline_version_id"
        " WHERE d.id = ? AND d.deploy_id = ? AND d.active = 1",
        (int(number), deploy_id),
    )
    if row is None:
        raise not_found(f"deployment {body.name} not found")
    workspace_for(state.db, caller, row["workspace_id"])
    config = state.config
    timing = (
        state.clock,
        config.deployment_startup_seconds,
        config.deployment_startup_error_seconds,
    )
    if state.current_api:
        status = render_status_today(row, row["pipeline_name"], row["pipeline_version"], *timing)
    else:
        status = render_status(row, row["pipeline_name"], *timing)
    return JSONResponse(status)


@router.post("/admin/get_pipeline_external_url")
async def get_pipeline_external_url(body: ExternalUrl, request: Request) -> dict:
    state, caller = context(request)
    workspace_for(state.db, caller, body.workspace_id)
    row = state.db.one(
        "SELECT d.id, d.deploy_id FROM pipelines p JOIN deployments d ON d.pipeline_id = p.id"
        " WHERE p.workspace_id = ? AND p.name = ? AND d.active = 1",
        (body.workspace_id, body.pipeline_name),
    )
    if row is None:
        exists = state.db.one(
            "SELECT 1 FROM pipelines WHERE workspace_id = ? AND name = ?",
            (body.workspace_id, body.pipeline_name),
        )
        what = "is not deployed" if exists else "not found"
        raise not_found(f"pipeline {body.pipeline_name} {what}")
    base = str(request.base_url).rstrip("/")
    path = f"/v1/api/pipelines/infer/{row['deploy_id']}-{row['id']}/{body.pipeline_name}"
    return {"url": base + path}


@router.post("/features/list")
async def list_features(request: Request) -> dict:
    state, _ = context(request)
    return {
        "features": {"plateau": "true"},
        "name": state.config.instance_name,
        "is_auth_enabled": True,
    }
