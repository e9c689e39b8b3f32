"""Pipelines as the listing calls show them: the seed's `list_pipelines` (this emulator's own
extension, with its `pipeline_versions` list) and today's items (`pipeline`, `workspace`,
`plateau_topic`, and one `pipeline_version` and `deployment`)."""

from __future__ import annotations

import json
import sqlite3

from emulator.db import Database
from emulator.model_shapes import WORKSPACE_COLUMNS, render_workspace

PIPELINE_SQL = (
    f"SELECT p.*, {WORKSPACE_COLUMNS} FROM pipelines p JOIN workspaces w ON w.id = p.workspace_id"
)


def plateau_topic(pipeline_id: int) -> str:
    return f"pipeline-{pipeline_id}-inference"


def _pipeline_fields(row: sqlite3.Row) -> dict:
    """The pipeline object both modes share: `{id, name, created_at, updated_at}`."""
    return {
        "id": row["id"],
        "name": row["name"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def render_seed_listing(db: Database, row: sqlite3.Row) -> dict:
    """A pipeline as the seed emulator lists it: its versions newest first (with their
    definitions) and its live deployment naming the version it runs by pk, which is what a
    client needs to deploy, undeploy, roll back or follow it."""
    versions = db.all(
        "SELECT id, version, created_at, definition FROM pipeline_versions"
        " WHERE pipeline_id = ? ORDER BY id DESC",
        (row["id"],),
    )
    deployment = db.one(
        "SELECT id, deploy_id, pipeline_version_id FROM deployments"
        " WHERE pipeline_id = ? AND active = 1",
        (row["id"],),
    )
    return {
        "pipeline": {
            **_pipeline_fields(row),
            # Each with its definition (as pipelines/create took it): what it runs.
            "pipeline_versions": [
                {**dict(v), "definition": json.loads(v["definition"])} for v in versions
            ],
            "deployment": None
            if deployment is None
            else {
                "id": deployment["id"],
                "deploy_id": deployment["deploy_id"],
                "deployed": True,
                "pipeline_version_id": deployment["pipeline_version_id"],
            },
        },
        "workspace": {
            "id": row["workspace_id"],
            "name": row["workspace_name"],
            "archived": bool(row["workspace_archived"]),
            "created_by": row["workspace_created_by"],
            "group_id": str(row["workspace_id"]),
            "created_at": row["workspace_created_at"],
        },
        "plateau_topic": plateau_topic(row["id"]),
    }


def render_pipeline_today(row: sqlite3.Row) -> dict:
    """Today's `{pipeline, workspace, plateau_topic}` (get_pipeline_by_name's whole answer)."""
    return {
        "pipeline": _pipeline_fields(row),
        "workspace": render_workspace(row),
        "plateau_topic": plateau_topic(row["id"]),
    }


def render_version_today(pipeline: sqlite3.Row, version: sqlite3.Row) -> dict:
    """Today's LegacyPipelineVersion: `id` is the pipeline's name, `version` the UUID."""
    return {
        "id": pipeline["name"],
        "version": version["version"],
        "workspace_id": pipeline["workspace_id"],
        "created_at": version["created_at"],
        "created_by": pipeline["owner_id"],
        # The spec types `steps` as an object: the version's definition, `{"steps": [...]}`.
        "steps": json.loads(version["definition"]),
    }


def render_deployment_today(deployment: sqlite3.Row) -> dict:
    """The spec names only the replica counts; Wallaroo's SDK also reads id, deploy_id and
    deployed. An undeployed pipeline keeps its last deployment, `deployed: false`."""
    return {
        "id": deployment["id"],
        "deploy_id": deployment["deploy_id"],
        "deployed": bool(deployment["active"]),
        "maximum_replicas": 1,
        "prewarmed_replicas": 0,
    }


def latest_deployment(db: Database, pipeline_id: int) -> sqlite3.Row | None:
    return db.one(
        "SELECT id, deploy_id, active, pipeline_version_id FROM deployments"
        " WHERE pipeline_id = ? ORDER BY active DESC, id DESC LIMIT 1",
        (pipeline_id,),
    )


def render_listing_today(db: Database, row: sqlite3.Row) -> dict:
    """Today's list_pipelines item: the pipeline's newest version and its deployment."""
    item = render_pipeline_today(row)
    version = db.one(
        "SELECT * FROM pipeline_versions WHERE pipeline_id = ? ORDER BY id DESC LIMIT 1",
        (row["id"],),
    )
    if version is not None:
        item["pipeline_version"] = render_version_today(row, version)
    deployment = latest_deployment(db, row["id"])
    if deployment is not None:
        item["deployment"] = render_deployment_today(deployment)
    return item


def render_versions_today(db: Database, row: sqlite3.Row) -> list[dict]:
    """list_pipeline_versions' items, newest first (as the SDK orders versions); the
    deployment appears on the version it runs."""
    deployment = latest_deployment(db, row["id"])
    items = []
    for version in db.all(
        "SELECT * FROM pipeline_versions WHERE pipeline_id = ? ORDER BY id DESC", (row["id"],)
    ):
        item = {
            **render_pipeline_today(row),
            "pipeline_version": render_version_today(row, version),
        }
        if deployment is not None and deployment["pipeline_version_id"] == version["id"]:
            item["deployment"] = render_deployment_today(deployment)
        items.append(item)
    return items
