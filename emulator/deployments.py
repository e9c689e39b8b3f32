"""Deployments: which models a deployment runs, and its status on the emulator's clock."""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from emulator.clock import Clock
from emulator.db import Database


def models_in_definition(definition: dict[str, Any]) -> list[dict[str, Any]]:
    refs = []
    for step in definition.get("steps", []):
        refs.extend(step.get("ModelInference", {}).get("models", []))
    return refs


def _resolved(row: sqlite3.Row) -> dict[str, Any]:
    # model_version_id is only shown in today's status; the seed's shows name, version, sha.
    return {
        "name": row["name"],
        "version": row["model_version"],
        "sha": row["sha"],
        "model_version_id": row["id"],
    }


def resolve_models(
    db: Database, workspace_id: int, refs: list[dict[str, Any]], model_ids: list[int]
) -> tuple[list[dict[str, Any]], str | None]:
    """The exact model versions to run, and an error if one cannot be found in the workspace.

    A missing model does not refuse the deploy: as on a real instance, the engine fails to start.
    """
    resolved: list[dict[str, Any]] = []
    for model_pk in model_ids:
        row = db.one(
            "SELECT m.name, v.id, v.model_version, v.sha FROM models m JOIN model_versions v"
            " ON v.models_pk_id = m.id WHERE m.id = ? AND m.workspace_id = ?"
            " ORDER BY v.id DESC LIMIT 1",
            (model_pk, workspace_id),
        )
        if row is None:
            return resolved, f"model id {model_pk} not found in workspace {workspace_id}"
        resolved.append(_resolved(row))
    for ref in refs:
        sql = (
            "SELECT m.name, v.id, v.model_version, v.sha FROM models m JOIN model_versions v"
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
        resolved.append(_resolved(row))
    return resolved, None


# Cached: the status poller asks for the same few deployments all day.
@functools.lru_cache(maxsize=4096)
def pod_name(prefix: str, deployment_id: int) -> str:
    digest = hashlib.sha1(f"{prefix}{deployment_id}".encode()).hexdigest()
    return f"{prefix}-{digest[:9]}-{digest[9:14]}"


def _ip(deployment_id: int, offset: int) -> str:
    return f"10.244.{(deployment_id // 250) % 250}.{deployment_id % 250 + offset}"


@dataclass(frozen=True)
class DeploymentHealth:
    """Where a deployment is on its start-up, and what its engine pod shows for it."""

    status: str  # Running | Starting | Error
    engine_status: str  # the pod's phase: Running | Pending | Failed
    engine_reason: str | None
    engine_details: list[str]


def deployment_health(
    deployment: sqlite3.Row, clock: Clock, startup_seconds: float, startup_error_seconds: float
) -> DeploymentHealth:
    age = clock.now() - deployment["started_at"]
    if deployment["error"]:
        return DeploymentHealth("Error", "Failed", "ModelNotFound", [deployment["error"]])
    if age < min(startup_error_seconds, startup_seconds):
        return DeploymentHealth("Error", "Failed", "CrashLoopBackOff", ["back-off restarting"])
    if age < startup_seconds:
        return DeploymentHealth(
            "Starting", "Pending", None, ["containers with unready status: [engine]"] * 2
        )
    return DeploymentHealth("Running", "Running", None, [])


def render_status(
    deployment: sqlite3.Row,
    pipeline_name: str,
    clock: Clock,
    startup_seconds: float,
    startup_error_seconds: float = 0.0,
) -> dict[str, Any]:
    """The tutorial's status: engines and load balancers with their pod fields flat."""
    dep_id = deployment["id"]
    health = deployment_health(deployment, clock, startup_seconds, startup_error_seconds)
    running = health.status == "Running"
    models = json.loads(deployment["models"]) if running else []
    engine: dict[str, Any] = {
        "ip": _ip(dep_id, 2) if running else None,
        "name": pod_name("engine", dep_id),
        "status": health.engine_status,
        "reason": health.engine_reason,
        "details": health.engine_details,
        "pipeline_statuses": None,
        "model_statuses": None,
    }
    if running:
        engine["pipeline_statuses"] = {"pipelines": [{"id": pipeline_name, "status": "Running"}]}
        engine["model_statuses"] = {
            "models": [
                {"name": m["name"], "version": m["version"], "sha": m["sha"], "status": "Running"}
                for m in models
            ]
        }
    load_balancer = {
        "ip": _ip(dep_id, 3),
        "name": pod_name("engine-lb", dep_id),
        "status": "Running",
        "reason": None,
        "details": [],
    }
    return {
        "status": health.status,
        "details": [],
        "engines": [engine],
        "engine_lbs": [load_balancer],
        "sidekicks": [],
    }


def render_status_today(
    deployment: sqlite3.Row,
    pipeline_name: str,
    pipeline_version: str,
    clock: Clock,
    startup_seconds: float,
    startup_error_seconds: float = 0.0,
) -> dict[str, Any]:
    """Today's status as real instances answer it (2025-05 and 2026-01 answers recorded in
    Wallaroo's tutorials): the tutorial's flat pods, plus the running pipeline's version UUID
    and each model's `model_version_id`. (The 2026 spec's `info`-nested pods and `helm` list
    appear in no recorded answer, and Wallaroo's own SDK reads an engine's `status` flat.)"""
    status = render_status(deployment, pipeline_name, clock, startup_seconds, startup_error_seconds)
    (engine,) = status["engines"]
    if engine["pipeline_statuses"] is not None:
        for pipeline in engine["pipeline_statuses"]["pipelines"]:
            pipeline["version"] = pipeline_version
        version_ids = [m.get("model_version_id") for m in json.loads(deployment["models"])]
        for model, version_id in zip(engine["model_statuses"]["models"], version_ids, strict=True):
            model["model_version_id"] = version_id
    return status
