"""Today's pipelines in `current` mode: listings with one version object, the versions and
by-name calls, deploying by version UUID, copy gone, and the nested deployment status; the seed
keeps the tutorial's (and its own listing extension)."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers.emulator_setup import (
    PIPELINE,
    create_pipeline,
    deploy_running,
    upload_model,
)
from tests.helpers.emulators import Api, Emulator


def test_list_pipelines_has_one_version_object_and_the_deployment(
    emulator: Emulator, admin: Api, onnx_bytes: bytes
) -> None:
    deployed = deploy_running(emulator, admin, onnx_bytes)
    (item,) = admin.ok("pipelines/list_pipelines", {"workspace_id": 1})["pipelines"]
    assert set(item["pipeline"]) == {"id", "name", "created_at", "updated_at"}
    assert item["pipeline_version"]["id"] == PIPELINE
    assert item["pipeline_version"]["version"] == deployed.version
    assert item["pipeline_version"]["workspace_id"] == 1
    assert item["pipeline_version"]["steps"]["steps"][0]["ModelInference"]
    assert item["deployment"] == {
        "id": deployed.deployment_id,
        "deploy_id": PIPELINE,
        "deployed": True,
        "maximum_replicas": 1,
        "prewarmed_replicas": 0,
    }
    assert item["workspace"]["id"] == 1 and item["plateau_topic"]
    admin.ok(
        "pipelines/undeploy",
        {"pipeline_id": deployed.pipeline_id, "deployment_id": deployed.deployment_id},
    )
    (after,) = admin.ok("pipelines/list_pipelines", {})["pipelines"]
    assert after["deployment"]["deployed"] is False


def test_seed_list_pipelines_keeps_its_versions_list(seed: Emulator, onnx_bytes: bytes) -> None:
    admin = seed.admin()
    deployed = deploy_running(seed, admin, onnx_bytes)
    (item,) = admin.ok("pipelines/list_pipelines", {"workspace_id": 1})["pipelines"]
    assert [v["version"] for v in item["pipeline"]["pipeline_versions"]] == [deployed.version]
    assert item["pipeline"]["deployment"]["pipeline_version_id"] == deployed.version_pk
    assert "pipeline_version" not in item
    for path in ("list_pipeline_versions", "get_pipeline_by_name"):
        body = {"pipeline_id": PIPELINE, "pipeline_name": PIPELINE, "workspace_id": 1}
        assert admin.post(f"pipelines/{path}", body).status_code == 404


def test_versions_newest_first_with_the_deployment_on_the_deployed_one(
    emulator: Emulator, admin: Api, onnx_bytes: bytes
) -> None:
    deployed = deploy_running(emulator, admin, onnx_bytes)
    newer = create_pipeline(admin, deployed.model_id)["pipeline_variant_version"]
    body = {"pipeline_id": PIPELINE, "workspace_id": 1}
    items = admin.ok("pipelines/list_pipeline_versions", body)["pipeline_versions"]
    assert [i["pipeline_version"]["version"] for i in items] == [newer, deployed.version]
    assert "deployment" not in items[0] and items[1]["deployment"]["id"] == deployed.deployment_id
    assert items[0]["pipeline"]["name"] == PIPELINE
    unknown = admin.post("pipelines/list_pipeline_versions", {**body, "pipeline_id": "ghost"})
    assert unknown.status_code == 404 and "ghost" in unknown.json()["msg"]


def test_get_pipeline_by_name(admin: Api) -> None:
    created = admin.ok("pipelines/create", {"pipeline_id": "p", "workspace_id": 1})
    got = admin.ok("pipelines/get_pipeline_by_name", {"pipeline_name": "p", "workspace_id": 1})
    assert set(got) == {"pipeline", "workspace", "plateau_topic"}
    assert got["pipeline"]["id"] == created["pipeline_pk_id"] and got["workspace"]["id"] == 1
    missing = admin.post(
        "pipelines/get_pipeline_by_name", {"pipeline_name": "q", "workspace_id": 1}
    )
    assert missing.status_code == 404
    assert admin.post("pipelines/get_pipeline_by_name", {"workspace_id": 1}).status_code == 400


def test_deploy_by_version_uuid(emulator: Emulator, admin: Api) -> None:
    created = admin.ok("pipelines/create", {"pipeline_id": "p", "workspace_id": 1})
    body = {"deploy_id": "p", "pipeline_id": created["pipeline_pk_id"]}
    version = created["pipeline_variant_version"]
    deployed = admin.ok("pipelines/deploy", {**body, "pipeline_version": version})
    assert set(deployed) == {"id"}
    row = emulator.state.db.one("SELECT pipeline_version_id FROM deployments")
    assert row["pipeline_version_id"] == created["pipeline_variant_pk_id"]


@pytest.mark.parametrize(
    ("extra", "status", "words"),
    [
        ({}, 400, "pipeline_version"),
        ({"pipeline_version": "not-a-uuid"}, 400, "pipeline_version 'not-a-uuid' is not a UUID"),
        ({"pipeline_version": str(uuid.uuid4())}, 404, "pipeline_version"),
        ({"pipeline_version": None, "pipeline_version_pk_id": 999}, 404, "999"),
    ],
)
def test_bad_version_to_deploy_deploys_nothing(
    emulator: Emulator, admin: Api, extra: dict, status: int, words: str
) -> None:
    created = admin.ok("pipelines/create", {"pipeline_id": "p", "workspace_id": 1})
    body = {"deploy_id": "p", "pipeline_id": created["pipeline_pk_id"], **extra}
    answer = admin.post("pipelines/deploy", body)
    assert answer.status_code == status and words in answer.json()["msg"]
    assert answer.json()["code"] == status
    assert emulator.state.db.one("SELECT count(*) AS n FROM deployments")["n"] == 0


def test_seed_deploy_still_needs_the_pk(seed: Emulator) -> None:
    admin = seed.admin()
    created = admin.ok("pipelines/create", {"pipeline_id": "p", "workspace_id": 1})
    answer = admin.post(
        "pipelines/deploy",
        {
            "deploy_id": "p",
            "pipeline_id": created["pipeline_pk_id"],
            "pipeline_version": created["pipeline_variant_version"],
        },
    )
    assert answer.status_code == 400 and "pipeline_version_pk_id is required" in answer.text


def test_copy_is_gone_from_todays_api(admin: Api) -> None:
    created = admin.ok("pipelines/create", {"pipeline_id": "p", "workspace_id": 1})
    answer = admin.post(
        "pipelines/copy",
        {"name": "c", "workspace_id": 1, "source_pipeline": created["pipeline_pk_id"]},
    )
    assert answer.status_code == 404 and answer.json() == {"msg": "Not Found", "code": 404}
    assert len(admin.ok("pipelines/list_pipelines", {})["pipelines"]) == 1


def test_status_is_flat_with_versions_as_real_instances_answer(
    emulator: Emulator, admin: Api, onnx_bytes: bytes
) -> None:
    """Real answers (Wallaroo_Tutorials infer-api.ipynb, 2026-01; model-drift-detection, 2025-05)
    keep each pod's fields flat and add the pipeline's version and the models' version ids; the
    2026 spec's `info` nesting and `helm` list appear in none of them."""
    model_id = upload_model(admin, onnx_bytes)
    created = create_pipeline(admin, model_id)
    deployment = admin.ok(
        "pipelines/deploy",
        {
            "deploy_id": PIPELINE,
            "pipeline_id": created["pipeline_pk_id"],
            "pipeline_version": created["pipeline_variant_version"],
        },
    )["id"]
    name = f"{PIPELINE}-{deployment}"
    starting = admin.ok("status/get_deployment", {"name": name})
    assert starting["status"] == "Starting" and "helm" not in starting
    (engine,) = starting["engines"]
    assert engine["status"] == "Pending" and engine["ip"] is None
    assert "info" not in engine and engine["pipeline_statuses"] is None

    emulator.control("clock", {"advance_seconds": 10})
    running = admin.ok("status/get_deployment", {"name": name})
    assert set(running) == {"status", "details", "engines", "engine_lbs", "sidekicks"}
    (engine,) = running["engines"]
    assert set(engine) == {
        "ip", "name", "status", "reason", "details", "pipeline_statuses", "model_statuses"
    }  # fmt: skip
    assert engine["status"] == "Running" and engine["ip"] and engine["reason"] is None
    (pipeline,) = engine["pipeline_statuses"]["pipelines"]
    assert pipeline == {
        "id": PIPELINE,
        "status": "Running",
        "version": created["pipeline_variant_version"],
    }
    (model,) = engine["model_statuses"]["models"]
    version_pk = admin.ok("models/get", {"id": model_id})["models"][0]["id"]
    assert set(model) == {"name", "version", "sha", "status", "model_version_id"}
    assert model["model_version_id"] == version_pk and model["status"] == "Running"
    (load_balancer,) = running["engine_lbs"]
    assert set(load_balancer) == {"ip", "name", "status", "reason", "details"}
    assert running["sidekicks"] == []


def test_seed_status_stays_flat(seed: Emulator, onnx_bytes: bytes) -> None:
    admin = seed.admin()
    deployed = deploy_running(seed, admin, onnx_bytes)
    status = admin.ok("status/get_deployment", {"name": deployed.name})
    assert "helm" not in status
    (engine,) = status["engines"]
    assert engine["status"] == "Running" and "info" not in engine
    assert engine["pipeline_statuses"] == {"pipelines": [{"id": PIPELINE, "status": "Running"}]}
    (model,) = engine["model_statuses"]["models"]
    assert set(model) == {"name", "version", "sha", "status"}
