"""Every answer of the `current` emulator, parsed by Wallaroo's own OpenAPI-generated client.

The generated client (tests/helpers/wallaroo_spec.py fetches it from PyPI) is what Wallaroo's
SDK runs on a real instance's answers: if it cannot parse ours, the emulator has drifted from
the real spec, and a bot tested against it would be tested against something no user runs.
Calls the generated client lacks or leaves untyped (external inference, `pipelines/get_logs`'
body) are checked against the shapes of wallaroo-api-current.md instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.helpers.emulators import Api, Emulator
from tests.helpers.wallaroo_spec import generated_client, parse_answer

DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def spec() -> Any:
    return generated_client()


@pytest.fixture(scope="module")
def today(start_module_emulator: Callable[..., Emulator]) -> Emulator:
    return start_module_emulator(api="current", seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture(scope="module")
def admin(today: Emulator) -> Api:
    return today.admin()


def answered(admin: Api, call: str, path: str, body: Any = None, status: int = 200, **kw: Any):
    """POST to `path` and parse the answer as the generated client's `call` does."""
    response = admin.post(path, body, **kw)
    assert response.status_code == status, f"{path}: {response.status_code} {response.text}"
    return parse_answer(call, response), response


def test_users_and_workspaces(spec: Any, today: Emulator, admin: Api) -> None:
    workspace_id = today.demo["workspace_id"]
    answered(admin, "workspace/workspaces_list", "workspaces/list", {})
    created, _ = answered(
        admin, "workspace/workspaces_create", "workspaces/create", {"workspace_name": "contract"}
    )
    answered(
        admin,
        "workspace/workspaces_list_users",
        "workspaces/list_users",
        {"workspace_id": workspace_id},
    )
    _invited, raw = answered(
        admin, "user/users_invite", "users/invite", {"email": "contract@example.com"}
    )
    assert set(raw.json()) >= {"id", "password"}
    answered(
        admin,
        "workspace/workspaces_add_user",
        "workspaces/add_user",
        {"email": "contract@example.com", "workspace_id": created.workspace_id},
    )
    answered(admin, "user/users_query", "users/query", {})
    answered(admin, "user/users_deactivate", "users/deactivate", {"email": "contract@example.com"})
    answered(admin, "user/users_activate", "users/activate", {"email": "contract@example.com"})
    answered(
        admin,
        "workspace/workspaces_remove_user",
        "workspaces/remove_user",
        {"email": "contract@example.com", "workspace_id": created.workspace_id},
    )
    answered(admin, "misc/features_list", "features/list", {})


def test_models(spec: Any, today: Emulator, admin: Api, onnx_bytes: bytes) -> None:
    workspace_id, model_id = today.demo["workspace_id"], today.demo["model_id"]
    _listed, raw = answered(
        admin, "model/list_models", "models/list", {"workspace_id": workspace_id}
    )
    assert raw.json()["models"][0]["model"]["id"] == model_id
    answered(admin, "model/v1_model_get_model_by_id", "models/get_by_id", {"id": model_id})
    _got, raw = answered(admin, "model/models_get", "models/get", {"id": model_id})
    answered(
        admin,
        "model/models_list_versions",
        "models/list_versions",
        {"model_id": "housepricemodel", "models_pk_id": model_id},
    )
    answered(admin, "model/v1_model_get_config", "models/get_config_by_id", {"model_id": model_id})
    metadata = {
        "name": "contractmodel",
        "visibility": "private",
        "workspace_id": workspace_id,
        "conversion": {"framework": "onnx", "python_version": "3.8", "requirements": []},
    }
    files = {
        "metadata": (None, json.dumps(metadata), "application/json"),
        "file": ("model.onnx", onnx_bytes, "application/octet-stream"),
    }
    answered(admin, "model/models_upload", "models/upload", files=files)
    metadata["name"] = "contractconverted"
    metadata |= {"input_schema": "c2NoZW1h", "output_schema": "c2NoZW1h"}  # the SDK sends both
    files["metadata"] = (None, json.dumps(metadata), "application/json")
    answered(
        admin,
        "model/models_upload_and_convert",
        "models/upload_and_convert",
        files=files,
        status=202,
    )
    params = {
        "name": "contractstream",
        "visibility": "private",
        "workspace_id": workspace_id,
        "filename": "model.onnx",
    }
    answered(
        admin,
        "model/models_upload_stream",
        "models/upload_stream",
        params=params,
        content=onnx_bytes,
        headers={"Content-Type": "application/octet-stream"},
    )


def test_pipelines_and_deployments(spec: Any, today: Emulator, admin: Api) -> None:
    workspace_id = today.demo["workspace_id"]
    _listed, raw = answered(
        admin,
        "pipelines/list_pipelines",
        "pipelines/list_pipelines",
        {"workspace_id": workspace_id},
    )
    item = raw.json()["pipelines"][0]
    assert "pipeline_versions" not in item["pipeline"], "today's listing has no versions list"
    answered(
        admin,
        "pipelines/get_pipeline_by_name",
        "pipelines/get_pipeline_by_name",
        {"pipeline_name": "housepricepipe", "workspace_id": workspace_id},
    )
    _versions, raw = answered(
        admin,
        "pipelines/list_pipeline_versions",
        "pipelines/list_pipeline_versions",
        {"pipeline_id": "housepricepipe", "workspace_id": workspace_id},
    )
    version = raw.json()["pipeline_versions"][0]["pipeline_version"]["version"]
    created, raw = answered(
        admin,
        "pipelines/pipelines_create",
        "pipelines/create",
        {"pipeline_id": "contractpipe", "workspace_id": workspace_id, "definition": {}},
    )
    _deployed, raw = answered(
        admin,
        "pipelines/pipelines_deploy",
        "pipelines/deploy",
        {
            "deploy_id": "contractpipe",
            "pipeline_id": created.pipeline_pk_id,
            "pipeline_version": created.pipeline_variant_version,
        },
    )
    deployment_id = raw.json()["id"]
    # Not parsed by the generated client: its 2026 models demand pods nested under `info` and a
    # `helm` list, which no recorded answer of a real instance has (2025-05 and 2026-01 answers
    # in Wallaroo's tutorials are flat, and Wallaroo's SDK reads them flat). Checked against
    # those answers' shape instead.
    status = admin.ok("status/get_deployment", {"name": f"contractpipe-{deployment_id}"})
    assert set(status) == {"status", "details", "engines", "engine_lbs", "sidekicks"}
    assert all({"ip", "name", "status", "reason", "details"} <= set(e) for e in status["engines"])
    answered(
        admin,
        "admin/admin_get_pipeline_external_url",
        "admin/get_pipeline_external_url",
        {"workspace_id": workspace_id, "pipeline_name": "contractpipe"},
    )
    answered(
        admin,
        "pipelines/pipelines_undeploy",
        "pipelines/undeploy",
        {"pipeline_id": created.pipeline_pk_id, "deployment_id": deployment_id},
    )
    assert version, "a listed version has its UUID"


def test_inference_and_logs_have_todays_shapes(today: Emulator, admin: Api) -> None:
    workspace_id = today.demo["workspace_id"]
    url = admin.ok(
        "admin/get_pipeline_external_url",
        {"workspace_id": workspace_id, "pipeline_name": "housepricepipe"},
    )["url"]
    records = [{"tensor": [0.1] * 17}, {"tensor": [0.2] * 17}]
    headers = {
        "Authorization": f"Bearer {admin.token}",
        "Content-Type": "application/json; format=pandas-records",
    }
    response = admin.http.post(url, content=json.dumps(records), headers=headers)
    assert response.status_code == 200, response.text
    rows = response.json()
    assert len(rows) == 2
    for row in rows:
        assert set(row) >= {"time", "in", "out", "check_failures", "metadata"}
        assert set(row["metadata"]) >= {"last_model", "pipeline_version", "elapsed"}
    logs = admin.post(
        "pipelines/get_logs",
        {
            "pipeline_name": "housepricepipe",
            "workspace_id": workspace_id,
            "order": "desc",
            "page_size": 5,
        },
    )
    assert logs.status_code == 200, logs.text
    page = logs.json()
    assert len(page) == 5 and set(page[0]) >= {"time", "in", "out", "check_failures"}
    assert logs.headers.get("x-iteration-cursor")


def test_assays_v1(spec: Any, today: Emulator, admin: Api) -> None:
    assay_id = today.demo["assay_id"]
    answered(admin, "assay/assays_list", "assays/list", {"pipeline_id": today.demo["pipeline_id"]})
    now = datetime.now(UTC)
    window = {
        "assay_id": assay_id,
        "start": (now - timedelta(days=40)).isoformat(),
        "end": (now + timedelta(days=1)).isoformat(),
    }
    _results, raw = answered(
        admin, "assay/assays_get_assay_results", "assays/get_assay_results", window
    )
    assert raw.json(), "the seeded assay has results"
    answered(
        admin, "assay/assays_set_active", "assays/set_active", {"id": assay_id, "active": True}
    )


def test_assays_v2(spec: Any, today: Emulator, admin: Api) -> None:
    assay_id = today.demo["assay_v2_id"]
    v2 = Api(today.url + "/v2/api", admin.token, admin.http)
    _listed, raw = answered(v2, "assays/get", "assays/get", {"active": "All"})
    body = next(a for a in raw.json() if a["id"] == assay_id)
    results, _ = answered(v2, "assays/get_results", "assays/get_results", {"id": assay_id})
    assert results, "the seeded v2 assay has results for its completed windows"
    answered(v2, "assays/get_next_run", "assays/get_next_run", {"assay_id": assay_id})
    answered(v2, "assays/set_active", "assays/set_active", {"assay_id": assay_id, "active": True})
    schedule = {
        key: body[key]
        for key in ("name", "baseline", "scheduling", "summarizer", "targeting", "window")
    }
    schedule["name"] = "contract assay"
    created, _ = answered(v2, "assays/schedule", "assays/schedule", schedule)
    listed, _ = answered(v2, "assays/get", "assays/get", {"active": "All"})
    assert str(created) in {str(assay.id) for assay in listed}
    preview = {
        **schedule,
        "preview_start": body["scheduling"]["first_run"],
        "preview_end": datetime.now(UTC).isoformat(),
    }
    answered(v2, "assays/preview", "assays/preview", preview)


def test_a_wrong_answer_is_caught(spec: Any) -> None:
    """The check itself: a listing missing a required field does not parse."""
    request = httpx.Request("POST", "http://emulator/v1/api/models/list")
    flat = httpx.Response(200, json={"models": [{"id": 1, "name": "m"}]}, request=request)
    with pytest.raises(KeyError):
        parse_answer("model/list_models", flat)
