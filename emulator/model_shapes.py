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
        "group_id": None,  # recorded answers (2026-01) show it, null
    }


WORKSPACE_COLUMNS = (
    "w.name AS workspace_name, w.archived AS workspace_archived,"
    " w.created_at AS workspace_created_at, w.created_by AS workspace_created_by"
)


# What today's instances fill in for a version uploaded without conversion settings (every
# recorded one has a conversion object; 3.8 is the version all of them show).
DEFAULT_PYTHON = "3.8"
# The release the emulator's "current" mode stands for, shown as a version's
# `created_on_version` (recorded answers: "2025.1.2", "2025.2.1").
CURRENT_RELEASE = "2025.2.1"
# A config's fields beyond the tutorial's four, all null unless set (2026-01 recorded answers).
CONFIG_EXTRAS = (
    "input_schema", "output_schema", "batch_config", "dynamic_batching_config",
    "continuous_batching_config", "queue_depth", "sidekick_uri", "openai",
)  # fmt: skip


def _conversion(row: sqlite3.Row) -> dict:
    framework = row["framework"] or "onnx"
    requirements = json.loads(row["requirements"]) if row["requirements"] else []
    return {
        "python_version": row["python_version"] or DEFAULT_PYTHON,
        "requirements": requirements,
        "framework": framework,
        "framework_config": None,
    }


def render_configured_version(row: sqlite3.Row, model: sqlite3.Row, deployed: bool) -> dict:
    """One `{model_version, config}` pair of today's models/list, with the fields recorded
    answers (Wallaroo_Tutorials' Model-Management notebook, 2026-01) show."""
    return {
        "model_version": {
            "name": model["name"],
            "visibility": model["visibility"],
            "workspace_id": model["workspace_id"],
            "conversion": _conversion(row),
            "id": row["id"],
            "image_path": None,
            "status": "ready",  # uploads convert at once here
            "task_id": None,
            "file_info": {
                "version": row["model_version"],
                "sha": row["sha"],
                "file_name": row["file_name"],
                "size": row["size_bytes"],
            },
            "created_on_version": CURRENT_RELEASE,
            "created_by": model["owner_id"],
            "created_at": row["created_at"],
            "deployed": deployed,
            "error_summary": None,
        },
        # The MLOps API has no call that sets a model config: one default config per version.
        "config": {
            "id": row["id"],
            "model_version_id": row["id"],
            "runtime": NATIVE_RUNTIMES.get(row["framework"] or "onnx", "flight"),
            "filter_threshold": None,
            "tensor_fields": None,
            **dict.fromkeys(CONFIG_EXTRAS),
        },
    }


def deployed_version_ids(db: Database) -> set[int]:
    """Model version ids some active deployment runs."""
    ids: set[int] = set()
    for row in db.all("SELECT models FROM deployments WHERE active = 1"):
        ids.update(m.get("model_version_id") for m in json.loads(row["models"]))
    return ids


def render_listing_item(db: Database, model: sqlite3.Row, deployed: set[int]) -> dict:
    """Today's models/list item, from a models row joined with WORKSPACE_COLUMNS; versions
    newest first, as recorded answers list them."""
    return {
        "model": {
            "id": model["id"],
            "name": model["name"],
            "owner_id": OWNER_ID,
            "created_at": model["created_at"],
            "updated_at": model["updated_at"],
            "workspace_id": model["workspace_id"],
        },
        "model_versions": [
            render_configured_version(r, model, r["id"] in deployed)
            for r in reversed(version_rows(db, model["id"]))
        ],
        "workspace": render_workspace(model),
    }
