"""pipelines/create, copy (the tutorial's; gone from today's API), deploy, undeploy."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, StrictInt, StrictStr

from emulator.access import pipeline_for, require_valid_name, workspace_for
from emulator.clock import iso
from emulator.deployments import models_in_definition, resolve_models
from emulator.errors import bad_request, not_found
from emulator.identity import CurrentUser, context
from emulator.state import EmulatorState, seed_api_only

router = APIRouter(prefix="/v1/api/pipelines")


class CreatePipeline(BaseModel):
    pipeline_id: StrictStr
    workspace_id: StrictInt
    definition: dict[str, Any] | StrictStr = {}


class CopyPipeline(BaseModel):
    name: StrictStr
    workspace_id: StrictInt
    source_pipeline: StrictInt
    deploy: StrictStr | None = None
    engine_config: dict[str, Any] | StrictStr | None = None
    pipeline_version: StrictStr | None = None


class ModelRef(BaseModel):
    name: StrictStr
    version: StrictStr | None = None
    sha: StrictStr | None = None


class DeployPipeline(BaseModel):
    deploy_id: StrictStr
    pipeline_id: StrictInt
    # The tutorial names the version by its integer pk; today's body may name its UUID instead.
    pipeline_version_pk_id: StrictInt | None = None
    pipeline_version: StrictStr | None = None
    engine_config: dict[str, Any] | StrictStr | None = None
    model_configs: list[StrictInt] | None = None
    model_ids: list[StrictInt] | None = None
    models: list[ModelRef] | None = None


class UndeployPipeline(BaseModel):
    pipeline_id: StrictInt
    deployment_id: StrictInt


def parse_definition(definition: dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(definition, str):
        try:
            definition = json.loads(definition) if definition.strip() else {}
        except json.JSONDecodeError as exc:
            raise bad_request(f"definition is not valid JSON: {exc.msg}") from exc
    if not isinstance(definition, dict):
        raise bad_request('definition must be a JSON object, e.g. {} or {"steps": [...]}')
    steps = definition.get("steps", [])
    if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
        raise bad_request("definition.steps must be a list of step objects")
    for ref in models_in_definition(definition):
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
            raise bad_request("each ModelInference model needs a string name")
    return definition


def _add_version(state: EmulatorState, pipeline_id: int, definition: dict, version: str) -> int:
    return state.db.insert(
        "INSERT INTO pipeline_versions (pipeline_id, version, definition, created_at)"
        " VALUES (?, ?, ?, ?)",
        (pipeline_id, version, json.dumps(definition), iso(state.clock.now())),
    )


def _new_pipeline(state: EmulatorState, caller: CurrentUser, workspace_id: int, name: str) -> int:
    now = iso(state.clock.now())
    return state.db.insert(
        "INSERT INTO pipelines (workspace_id, name, owner_id, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (workspace_id, name, caller.id, now, now),
    )


@router.post("/create")
async def create_pipeline(body: CreatePipeline, request: Request) -> dict:
    state, caller = context(request)
    db = state.db
    workspace_for(db, caller, body.workspace_id)
    require_valid_name("pipeline_id", body.pipeline_id)
    definition = parse_definition(body.definition)
    version = str(uuid.uuid4())
    with db.transaction():
        existing = db.one(
            "SELECT id FROM pipelines WHERE workspace_id = ? AND name = ?",
            (body.workspace_id, body.pipeline_id),
        )
        if existing is None:
            pipeline_id = _new_pipeline(state, caller, body.workspace_id, body.pipeline_id)
        else:
            pipeline_id = existing["id"]
            db.execute(
                "UPDATE pipelines SET updated_at = ? WHERE id = ?",
                (iso(state.clock.now()), pipeline_id),
            )
        variant_id = _add_version(state, pipeline_id, definition, version)
    return {
        "pipeline_pk_id": pipeline_id,
        "pipeline_variant_pk_id": variant_id,
        "pipeline_variant_version": version,
    }


def _start_deployment(
    state: EmulatorState,
    pipeline: sqlite3.Row,
    version: sqlite3.Row,
    deploy_id: str,
    refs: list[dict[str, Any]],
    model_ids: list[int],
    engine_config: Any,
) -> int:
    """Deploy (or redeploy) a pipeline version; call inside a transaction."""
    db = state.db
    # The requests served so far were answered by what ran until now.
    state.traffic.catch_up(pipeline["name"])
    if not refs and not model_ids:
        refs = models_in_definition(json.loads(version["definition"]))
    models, error = resolve_models(db, pipeline["workspace_id"], refs, model_ids)
    values = (
        deploy_id,
        version["id"],
        state.clock.now(),
        json.dumps(models),
        error,
        json.dumps(engine_config) if engine_config is not None else None,
    )
    active = db.one(
        "SELECT id FROM deployments WHERE pipeline_id = ? AND active = 1", (pipeline["id"],)
    )
    if active is not None:
        # Deploying a deployed pipeline restarts it in place under the same deployment id.
        db.execute(
            "UPDATE deployments SET deploy_id = ?, pipeline_version_id = ?, started_at = ?,"
            " models = ?, error = ?, engine_config = ? WHERE id = ?",
            (*values, active["id"]),
        )
        return active["id"]
    return db.insert(
        "INSERT INTO deployments (deploy_id, pipeline_version_id, started_at, models, error,"
        " engine_config, pipeline_id, active) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
        (*values, pipeline["id"]),
    )


@router.post("/copy", dependencies=[Depends(seed_api_only)])
async def copy_pipeline(body: CopyPipeline, request: Request) -> dict:
    state, caller = context(request)
    db = state.db
    workspace_for(db, caller, body.workspace_id)
    require_valid_name("name", body.name)
    if body.deploy is not None:
        require_valid_name("deploy", body.deploy)
    source = pipeline_for(db, caller, body.source_pipeline)
    if source["workspace_id"] != body.workspace_id:
        raise not_found(
            f"pipeline {body.source_pipeline} not found in workspace {body.workspace_id}"
        )
    if db.one(
        "SELECT 1 FROM pipelines WHERE workspace_id = ? AND name = ?",
        (body.workspace_id, body.name),
    ):
        raise bad_request(f"a pipeline named {body.name} already exists in this workspace")
    if body.pipeline_version and db.one(
        "SELECT 1 FROM pipeline_versions WHERE version = ?", (body.pipeline_version,)
    ):
        raise bad_request(f"pipeline_version {body.pipeline_version} already exists")
    latest = db.one(
        "SELECT definition FROM pipeline_versions WHERE pipeline_id = ? ORDER BY id DESC LIMIT 1",
        (source["id"],),
    )
    definition = json.loads(latest["definition"]) if latest else {}
    deployment = None
    with db.transaction():
        pipeline_id = _new_pipeline(state, caller, body.workspace_id, body.name)
        variant_id = _add_version(
            state, pipeline_id, definition, body.pipeline_version or str(uuid.uuid4())
        )
        if body.deploy is not None:
            pipeline = db.one("SELECT * FROM pipelines WHERE id = ?", (pipeline_id,))
            version = db.one("SELECT * FROM pipeline_versions WHERE id = ?", (variant_id,))
            dep_id = _start_deployment(
                state, pipeline, version, body.deploy, [], [], body.engine_config
            )
            deployment = {"id": dep_id, "deploy_id": body.deploy}
    return {
        "pipeline_pk_id": pipeline_id,
        "pipeline_variant_pk_id": variant_id,
        "pipeline_version": body.pipeline_version,
        "deployment": deployment,
    }


def _version_to_deploy(state: EmulatorState, body: DeployPipeline) -> sqlite3.Row:
    """The pipeline version the body names: by pk (both modes) or, today, by UUID."""
    by_uuid = body.pipeline_version if state.current_api else None
    version = None
    if body.pipeline_version_pk_id is not None:
        version = state.db.one(
            "SELECT * FROM pipeline_versions WHERE id = ? AND pipeline_id = ?",
            (body.pipeline_version_pk_id, body.pipeline_id),
        )
        if version is None:
            raise not_found(
                f"pipeline version {body.pipeline_version_pk_id} not found"
                f" for pipeline {body.pipeline_id}"
            )
    if by_uuid is not None:
        try:
            uuid.UUID(by_uuid)
        except ValueError as exc:
            raise bad_request(f"pipeline_version {by_uuid!r} is not a UUID") from exc
        named = state.db.one(
            "SELECT * FROM pipeline_versions WHERE version = ? AND pipeline_id = ?",
            (by_uuid, body.pipeline_id),
        )
        if named is None:
            raise not_found(f"pipeline_version {by_uuid} not found for pipeline {body.pipeline_id}")
        if version is not None and version["id"] != named["id"]:
            raise bad_request("pipeline_version and pipeline_version_pk_id name different versions")
        version = named
    assert version is not None
    return version


@router.post("/deploy")
async def deploy_pipeline(body: DeployPipeline, request: Request) -> dict:
    state, caller = context(request)
    db = state.db
    if body.pipeline_version_pk_id is None:
        # Checked first, as a missing field is when the body model requires it.
        if not state.current_api:
            raise bad_request("pipeline_version_pk_id is required")
        if body.pipeline_version is None:
            raise bad_request("pipeline_version (a UUID) or pipeline_version_pk_id is required")
    require_valid_name("deploy_id", body.deploy_id)
    pipeline = pipeline_for(db, caller, body.pipeline_id)
    version = _version_to_deploy(state, body)
    refs = [m.model_dump() for m in body.models or []]
    with db.transaction():
        deployment_id = _start_deployment(
            state,
            pipeline,
            version,
            body.deploy_id,
            refs,
            body.model_ids or [],
            body.engine_config,
        )
    return {"id": deployment_id}


@router.post("/undeploy")
async def undeploy_pipeline(body: UndeployPipeline, request: Request) -> dict:
    state, caller = context(request)
    db = state.db
    pipeline = pipeline_for(db, caller, body.pipeline_id)
    deployment = db.one(
        "SELECT id FROM deployments WHERE id = ? AND pipeline_id = ?",
        (body.deployment_id, body.pipeline_id),
    )
    if deployment is None:
        raise not_found(
            f"deployment {body.deployment_id} not found for pipeline {body.pipeline_id}"
        )
    state.traffic.catch_up(pipeline["name"])
    db.execute("UPDATE deployments SET active = 0 WHERE id = ?", (body.deployment_id,))
    return {}
