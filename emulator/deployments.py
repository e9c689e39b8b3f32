"""Deployments: which models a deployment runs, and its status on the emulator's clock."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from emulator.clock import Clock
from emulator.db import Database


def models_in_definition(definition: dict[str, Any]) -> list[dict[str, Any]]:
    refs = []
    for step in definition.get("steps", []):
        refs.extend(step.get("ModelInference", {}).get("models", []))
    return refs


def resolve_models(
    db: Database, workspace_id: int, refs: list[dict[str, Any]], model_ids: list[int]
) -> tuple[list[dict[str, str]], str | None]:
    """The exact model versions to run, and an error if one cannot be found in the workspace.

    A missing model does not refuse the deploy: as on a real instance, the engine fails to start.
    """
    resolved: list[dict[str, str]] = []
    for model_pk in model_ids:
        row = db.one(
            "SELECT m.name, v.model_version, v.sha FROM models m JOIN model_versions v"
            " ON v.models_pk_id = m.id WHERE m.id = ? AND m.workspace_id = ?"
            " ORDER BY v.id DESC LIMIT 1",
            (model_pk, workspace_id),
        )
        if row is None:
            return resolved, f"model id {model_pk} not found in workspace {workspace_id}"
        resolved.append({"name": row["name"], "version": row["model_version"], "sha": row["sha"]})
    for ref in refs:
        sql = (
            "SELECT m.name, v.model_version, v.sha FROM models m JOIN model_versions v"
            " ON v.models_pk_id = m.id WHERE m.workspace_id = ? AND m.name = ?"
        )
        params: list[Any] = [workspace_id, ref.get("name")]
        for column, key in (("v.model_version", "version"), ("v.sha", "sha")):
            if ref.get(key):
                sql += f" AND {column} = ?"
                params.append(ref[key])
        row = db.one(sql + " ORDER BY v.id DESC LIMIT 1", params)
        if row is None:
            version = ref.get("version") or "latest"
            return resolved, f"model {ref.get('name')} version {version} not found"
        resolved.append({"name": row["name"], "version": row["model_version"], "sha": row["sha"]})
    return resolved, None


def _pod_name(prefix: str, deployment_id: int) -> str:
    digest = hashlib.sha1(f"{prefix}{deployment_id}".encode()).hexdigest()
    return f"{prefix}-{digest[:9]}-{digest[9:14]}"


def _ip(deployment_id: int, offset: int) -> str:
    return f"10.244.{(deployment_id // 250) % 250}.{deployment_id % 250 + offset}"


def render_status(
    deployment: sqlite3.Row,
    pipeline_name: str,
    clock: Clock,
    startup_seconds: float,
    startup_error_seconds: float = 0.0,
) -> dict[str, Any]:
    dep_id = deployment["id"]
    engine: dict[str, Any] = {
        "ip": None,
        "name": _pod_name("engine", dep_id),
        "status": "Pending",
        "reason": None,
        "details": [],
        "pipeline_statuses": None,
        "model_statuses": None,
    }
    load_balancer = {
        "ip": _ip(dep_id, 3),
        "name": _pod_name("engine-lb", dep_id),
        "status": "Running",
        "reason": None,
        "details": [],
    }
    models = json.loads(deployment["models"])
    age = clock.now() - deployment["started_at"]
    if deployment["error"]:
        status = "Error"
        engine.update(status="Failed", reason="ModelNotFound", details=[deployment["error"]])
    elif age < min(startup_error_seconds, startup_seconds):
        status = "Error"
        engine.update(status="Failed", reason="CrashLoopBackOff", details=["back-off restarting"])
    elif age < startup_seconds:
        status = "Starting"
        engine["details"] = ["containers with unready status: [engine]"] * 2
    else:
        status = "Running"
        engine.update(
            ip=_ip(dep_id, 2),
            status="Running",
            pipeline_statuses={"pipelines": [{"id": pipeline_name, "status": "Running"}]},
            model_statuses={"models": [{**m, "status": "Running"} for m in models]},
        )
    return {
        "status": status,
        "details": [],
        "engines": [engine],
        "engine_lbs": [load_balancer],
        "sidekicks": [],
    }
