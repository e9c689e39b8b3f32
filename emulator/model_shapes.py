"""Models and their versions as the answers show them: the tutorial's flat shapes, and today's
nested `models/list` items (model, configured versions, workspace)."""

from __future__ import annotations

import json
import sqlite3

from emulator.db import Database

# Real instances answer owner_id '""' (a JSON-encoded empty string); the tutorial shows it so.
OWNER_ID = '""'
# The runtime an upload's framework lands on: ONNX and TensorFlow run natively, the rest in a
# Python ("flight") container.
NATIVE_RUNTIMES = {"onnx": "onnx", "tensorflow": "tensorflow", "mlflow": "mlflow"}


def render_model(row: sqlite3.Row) -> dict:
    return {
        "id": row["id"],
        "name": row["name"],
        "owner_id": OWNER_ID,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def render_version(row: sqlite3.Row, model_name: str) -> dict:
    return {
        "sha": row["sha"],
        "models_pk_id": row["models_pk_id"],
        "model_version": row["model_version"],
        "owner_id": OWNER_ID,
        "model_id": model_name,
        "id": row["id"],
        "file_name": row["file_name"],
        "image_path": None,
    }


def version_rows(db: Database, model_pk: int) -> list[sqlite3.Row]:
    return db.all(
        "SELECT v.*, c.framework, c.python_version, c.requirements FROM model_versions v"
        " LEFT JOIN model_conversions c ON c.model_version_id = v.id"
        " WHERE v.models_pk_id = ? ORDER BY v.id",
        (model_pk,),
    )


def versions_of(db: Database, model: sqlite3.Row, *, with_status: bool = False) -> list[dict]:
    """The tutorial's version items; today's list_versions adds each one's `status`."""
    rows = version_rows(db, model["id"])
    if not with_status:
        return [render_version(r, model["name"]) for r in rows]
    # Uploads convert at once here, so every version is ready.
    return [{**render_version(r, model["name"]), "status": "ready"} for r in rows]


def render_workspace(row: sqlite3.Row) -> dict:
    """Today's Workspace object, from a row with the workspace's columns prefixed `workspace_`."""
    return {
        "id": row["workspace_id"],
        "name": row["workspace_name"],
        "archived": bool(row["workspace_archived"]),
        "created_at": row["workspace_created_at"],
        "created_by": row["workspace_created_by"],
    }


WORKSPACE_COLUMNS = (
    "w.name AS workspace_name, w.archived AS workspace_archived,"
    " w.created_at AS workspace_created_at, w.created_by AS workspace_created_by"
)


def render_configured_version(row: sqlite3.Row, model: sqlite3.Row) -> dict:
    """One `{model_version, config}` pair of today's models/list."""
    framework = row["framework"]
    conversion = None
    if framework is not None:
        conversion = {"framework": framework, "requirements": json.loads(row["requirements"])}
        if row["python_version"] is not None:
            conversion["python_version"] = row["python_version"]
    return {
        "model_version": {
            "id": row["id"],
            "name": model["name"],
            "visibility": model["visibility"],
            "workspace_id": model["workspace_id"],
            "status": "ready",
            "file_info": {
                "version": row["model_version"],
                "sha": row["sha"],
                "file_name": row["file_name"],
                "size": row["size_bytes"],
            },
            "conversion": conversion,
            "image_path": None,
            "created_at": row["created_at"],
            "created_by": model["owner_id"],
        },
        # The MLOps API has no call that sets a model config: one default config per version.
        "config": {
            "id": row["id"],
            "model_version_id": row["id"],
            "runtime": NATIVE_RUNTIMES.get(framework or "onnx", "flight"),
            "tensor_fields": None,
            "filter_threshold": None,
        },
    }


def render_listing_item(db: Database, model: sqlite3.Row) -> dict:
    """Today's models/list item, from a models row joined with WORKSPACE_COLUMNS."""
    return {
        "model": {
            "id": model["id"],
            "name": model["name"],
            "owner_id": OWNER_ID,
            "workspace_id": model["workspace_id"],
            "created_at": model["created_at"],
            "updated_at": model["updated_at"],
        },
        "model_versions": [
            render_configured_version(r, model) for r in version_rows(db, model["id"])
        ],
        "workspace": render_workspace(model),
    }
