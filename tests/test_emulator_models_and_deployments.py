"""Model uploads (streamed, hashed, versioned) and the deployment lifecycle on its clock."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from tests.helpers.emulators import Api, Emulator


@pytest.fixture
def admin(emulator: Emulator) -> Api:
    return emulator.admin()


def upload(admin: Api, name: str, data: bytes, workspace_id: int = 1) -> int:
    body = admin.ok(
        "models/upload",
        files={"file": ("model.onnx", data)},
        data={"name": name, "visibility": "private", "workspace_id": str(workspace_id)},
    )
    return body["insert_models"]["returning"][0]["models"][0]["id"]


def test_multipart_upload_stores_the_file_and_its_sha256(
    emulator: Emulator, admin: Api, onnx_bytes: bytes
) -> None:
    model_id = upload(admin, "housepricemodel", onnx_bytes)
    (version,) = admin.ok("models/get", {"id": model_id})["models"]
    assert version["sha"] == hashlib.sha256(onnx_bytes).hexdigest()
    assert version["file_name"] == "model.onnx"
    row = emulator.state.db.one(
        "SELECT file_path FROM model_versions WHERE id = ?", (version["id"],)
    )
    assert Path(row["file_path"]).read_bytes() == onnx_bytes


def test_stream_upload_of_a_large_file_is_hashed_in_chunks(emulator: Emulator, admin: Api) -> None:
    chunk = bytes(range(256)) * 4096  # 1 MiB
    expected = hashlib.sha256(chunk * 24).hexdigest()

    def body():
        for _ in range(24):
            yield chunk

    response = admin.post(
        "models/upload_stream",
        params={"name": "big", "filename": "big.onnx", "visibility": "public", "workspace_id": 1},
        content=body(),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 200, response.text
    model_id = response.json()["insert_models"]["returning"][0]["models"][0]["id"]
    (version,) = admin.ok("models/list_versions", {"model_id": "big", "models_pk_id": model_id})
    assert version["sha"] == expected and version["file_name"] == "big.onnx"
    row = emulator.state.db.one("SELECT size_bytes FROM model_versions")
    assert row["size_bytes"] == 24 * len(chunk)


def test_same_name_adds_a_version(admin: Api, onnx_bytes: bytes) -> None:
    first = upload(admin, "m", onnx_bytes)
    second = upload(admin, "m", onnx_bytes + b"\x00")
    assert first == second
    versions = admin.ok("models/list_versions", {"model_id": "m", "models_pk_id": 0})
    assert len(versions) == 2 and versions[0]["model_version"] != versions[1]["model_version"]
    assert [m["name"] for m in admin.ok("models/list", {"workspace_id": 1})["models"]] == ["m"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "m", "workspace_id": "999"}, "workspace 999 not found"),
        ({"name": "bad name", "workspace_id": "1"}, "name"),
        ({"name": "m", "workspace_id": "1", "visibility": "secret"}, "visibility"),
        ({"name": "m"}, "workspace_id is required"),
        ({"workspace_id": "1"}, "name is required"),
    ],
)
def test_refused_upload_leaves_no_file_and_no_row(
    emulator: Emulator, admin: Api, fields: dict, message: str
) -> None:
    response = admin.post("models/upload", files={"file": ("m.onnx", b"abc")}, data=fields)
    assert response.status_code in (400, 404)
    assert message in response.json()["msg"]
    assert list(emulator.config.model_dir.iterdir()) == []
    assert emulator.state.db.one("SELECT count(*) AS n FROM models")["n"] == 0


def test_empty_upload_is_refused(emulator: Emulator, admin: Api) -> None:
    response = admin.post(
        "models/upload_stream",
        params={"name": "m", "filename": "m.onnx", "workspace_id": 1},
        content=b"",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 400 and "empty" in response.json()["msg"]
    assert list(emulator.config.model_dir.iterdir()) == []


def _pipeline_with_model(admin: Api, onnx_bytes: bytes, version: str | None = None) -> dict:
    model_id = upload(admin, "housepricemodel", onnx_bytes)
    (mv,) = admin.ok("models/get", {"id": model_id})["models"]
    ref = {"name": "housepricemodel", "version": version or mv["model_version"], "sha": mv["sha"]}
    return admin.ok(
        "pipelines/create",
        {
            "pipeline_id": "housepricepipe",
            "workspace_id": 1,
            "definition": {"id": "hp", "steps": [{"ModelInference": {"models": [ref]}}]},
        },
    )


def _status(admin: Api, name: str) -> dict:
    return admin.ok("status/get_deployment", {"name": name})


def test_deployment_starts_then_runs_on_the_emulators_clock(
    emulator: Emulator, admin: Api, onnx_bytes: bytes
) -> None:
    pipeline = _pipeline_with_model(admin, onnx_bytes)
    deployment = admin.ok(
        "pipelines/deploy",
        {
            "deploy_id": "hpdeploy",
            "pipeline_id": pipeline["pipeline_pk_id"],
            "pipeline_version_pk_id": pipeline["pipeline_variant_pk_id"],
        },
    )["id"]
    name = f"hpdeploy-{deployment}"

    starting = _status(admin, name)
    assert starting["status"] == "Starting"
    (engine,) = starting["engines"]
    assert engine["status"] == "Pending" and engine["ip"] is None
    assert "containers with unready status: [engine]" in engine["details"]

    emulator.control("clock", {"advance_seconds": 5})
    running = _status(admin, name)
    assert running["status"] == "Running"
    (engine,) = running["engines"]
    assert engine["pipeline_statuses"] == {
        "pipelines": [{"id": "housepricepipe", "status": "Running"}]
    }
    (model,) = engine["model_statuses"]["models"]
    assert model["name"] == "housepricemodel" and model["status"] == "Running"

    url = admin.ok(
        "admin/get_pipeline_external_url", {"workspace_id": 1, "pipeline_name": "housepricepipe"}
    )["url"]
    assert url == f"{emulator.url}/v1/api/pipelines/infer/{name}/housepricepipe"

    assert (
        admin.ok(
            "pipelines/undeploy",
            {"pipeline_id": pipeline["pipeline_pk_id"], "deployment_id": deployment},
        )
        == {}
    )
    assert admin.post("status/get_deployment", {"name": name}).status_code == 404
    not_deployed = admin.post(
        "admin/get_pipeline_external_url", {"workspace_id": 1, "pipeline_name": "housepricepipe"}
    )
    assert not_deployed.status_code == 404 and "not deployed" in not_deployed.json()["msg"]


def test_pipeline_whose_model_is_missing_ends_in_error(
    emulator: Emulator, admin: Api, onnx_bytes: bytes
) -> None:
    pipeline = _pipeline_with_model(admin, onnx_bytes, version="no-such-version")
    deployment = admin.ok(
        "pipelines/deploy",
        {
            "deploy_id": "broken",
            "pipeline_id": pipeline["pipeline_pk_id"],
            "pipeline_version_pk_id": pipeline["pipeline_variant_pk_id"],
        },
    )["id"]
    emulator.control("clock", {"advance_seconds": 60})
    status = _status(admin, f"broken-{deployment}")
    assert status["status"] == "Error"
    assert (
        "model housepricemodel version no-such-version not found" in status["engines"][0]["details"]
    )


def test_redeploy_keeps_the_deployment_id_and_restarts(
    emulator: Emulator, admin: Api, onnx_bytes: bytes
) -> None:
    pipeline = _pipeline_with_model(admin, onnx_bytes)
    request = {
        "deploy_id": "hp",
        "pipeline_id": pipeline["pipeline_pk_id"],
        "pipeline_version_pk_id": pipeline["pipeline_variant_pk_id"],
    }
    first = admin.ok("pipelines/deploy", request)["id"]
    emulator.control("clock", {"advance_seconds": 10})
    assert _status(admin, f"hp-{first}")["status"] == "Running"
    assert admin.ok("pipelines/deploy", request)["id"] == first
    assert _status(admin, f"hp-{first}")["status"] == "Starting"


def test_create_with_an_existing_name_makes_a_new_version(admin: Api) -> None:
    one = admin.ok("pipelines/create", {"pipeline_id": "p", "workspace_id": 1, "definition": {}})
    two = admin.ok("pipelines/create", {"pipeline_id": "p", "workspace_id": 1, "definition": {}})
    assert one["pipeline_pk_id"] == two["pipeline_pk_id"]
    assert one["pipeline_variant_pk_id"] != two["pipeline_variant_pk_id"]
    assert one["pipeline_variant_version"] != two["pipeline_variant_version"]


def test_copy_with_deploy_starts_a_deployment(admin: Api) -> None:
    source = admin.ok("pipelines/create", {"pipeline_id": "p", "workspace_id": 1, "definition": {}})
    copied = admin.ok(
        "pipelines/copy",
        {
            "name": "p-copy",
            "workspace_id": 1,
            "source_pipeline": source["pipeline_pk_id"],
            "deploy": "pcopy",
        },
    )
    assert copied["deployment"]["deploy_id"] == "pcopy"
    assert _status(admin, f"pcopy-{copied['deployment']['id']}")["status"] == "Starting"
    duplicate = admin.post(
        "pipelines/copy",
        {"name": "p-copy", "workspace_id": 1, "source_pipeline": source["pipeline_pk_id"]},
    )
    assert duplicate.status_code == 400 and "already exists" in duplicate.json()["msg"]


class TestControlApi:
    def test_latency_and_errors_are_injected_per_path_prefix(
        self, emulator: Emulator, admin: Api
    ) -> None:
        emulator.control(
            "faults", {"path_prefix": "/v1/api/features", "error_rate": 1.0, "status": 503}
        )
        failed = admin.post("features/list")
        assert failed.status_code == 503 and failed.json()["code"] == 503
        assert admin.post("workspaces/list").status_code == 200
        emulator.control("faults", {"path_prefix": "/v1/api/workspaces", "latency_ms": 150})
        started = time.perf_counter()
        assert admin.post("workspaces/list").status_code == 200
        assert time.perf_counter() - started >= 0.15
        assert emulator.http.delete(f"{emulator.url}/emulator/faults").json() == {"faults": []}
        assert admin.post("features/list").status_code == 200

    def test_clock_answers_the_new_time(self, emulator: Emulator) -> None:
        first = emulator.control("clock", {"advance_seconds": 0})["now"]
        later = emulator.control("clock", {"advance_seconds": 86400})["now"]
        assert later[:10] > first[:10]

    def test_bad_control_requests_are_400(self, emulator: Emulator) -> None:
        for path, body in [("clock", {"advance_seconds": -1}), ("faults", {"error_rate": 2})]:
            response = emulator.http.post(f"{emulator.url}/emulator/{path}", json=body)
            assert response.status_code == 400

    def test_reset_keeps_only_the_admin_and_the_client(self, emulator: Emulator) -> None:
        admin = emulator.admin()
        admin.ok("users/invite", {"email": "x@example.com"})
        admin.ok("workspaces/create", {"workspace_name": "w"})
        emulator.control("reset")
        admin = emulator.admin()
        users = admin.ok("users/query")["users"]
        assert sorted(u["username"] for u in users.values()) == [
            "admin@wallaroo.example",
            "service-account-api-client",
        ]
        assert [w["id"] for w in admin.ok("workspaces/list")["workspaces"]] == [1]


def test_list_pipelines_answers_the_sdks_shape_and_filters_by_workspace(
    emulator: Emulator, admin: Api
) -> None:
    other = admin.ok("workspaces/create", {"workspace_name": "other"})["workspace_id"]
    admin.ok("pipelines/create", {"pipeline_id": "p1", "workspace_id": 1, "definition": {}})
    admin.ok("pipelines/create", {"pipeline_id": "p2", "workspace_id": other, "definition": {}})
    everything = admin.ok("pipelines/list_pipelines")["pipelines"]
    assert [(p["pipeline"]["name"], p["workspace"]["id"]) for p in everything] == [
        ("p1", 1),
        ("p2", other),
    ]
    assert set(everything[0]) == {"pipeline", "workspace", "plateau_topic"}
    assert set(everything[0]["pipeline"]) == {
        "id",
        "name",
        "created_at",
        "updated_at",
        "pipeline_versions",
        "deployment",
    }
    only = admin.ok("pipelines/list_pipelines", {"workspace_id": other})["pipelines"]
    assert [p["pipeline"]["name"] for p in only] == ["p2"]
    assert admin.post("pipelines/list_pipelines", {"workspace_id": 999}).status_code == 404


def test_listing_shows_versions_newest_first_and_the_live_deployment(
    emulator: Emulator, admin: Api
) -> None:
    first = admin.ok("pipelines/create", {"pipeline_id": "p", "workspace_id": 1, "definition": {}})
    second = admin.ok("pipelines/create", {"pipeline_id": "p", "workspace_id": 1, "definition": {}})

    def listed() -> dict:
        return admin.ok("pipelines/list_pipelines", {"workspace_id": 1})["pipelines"][0]["pipeline"]

    assert [v["id"] for v in listed()["pipeline_versions"]] == [
        second["pipeline_variant_pk_id"],
        first["pipeline_variant_pk_id"],
    ]
    assert listed()["pipeline_versions"][0]["version"] == second["pipeline_variant_version"]
    assert listed()["deployment"] is None
    deployed = admin.ok(
        "pipelines/deploy",
        {
            "deploy_id": "pdeploy",
            "pipeline_id": first["pipeline_pk_id"],
            "pipeline_version_pk_id": first["pipeline_variant_pk_id"],
        },
    )
    assert listed()["deployment"] == {
        "id": deployed["id"],
        "deploy_id": "pdeploy",
        "deployed": True,
        "pipeline_version_id": first["pipeline_variant_pk_id"],
    }
    undeploy = {"pipeline_id": first["pipeline_pk_id"], "deployment_id": deployed["id"]}
    admin.ok("pipelines/undeploy", undeploy)
    assert listed()["deployment"] is None


def test_control_api_counts_the_calls_each_path_received(emulator: Emulator, admin: Api) -> None:
    admin.ok("workspaces/list")
    emulator.control("faults", {"path_prefix": "/v1/api/workspaces/list", "error_rate": 1})
    assert admin.post("workspaces/list").status_code == 503
    counts = emulator.http.get(f"{emulator.url}/emulator/requests").json()["counts"]
    assert counts["/v1/api/workspaces/list"] == 2
    emulator.control("reset")
    assert emulator.http.get(f"{emulator.url}/emulator/requests").json()["counts"] == {}
