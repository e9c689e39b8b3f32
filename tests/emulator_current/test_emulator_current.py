"""The emulator in `current` mode answers in today's shapes (models, uploads, users; pipelines
are in test_emulator_current_pipelines.py, inference and logs in ..._inference.py); where it
branches, the seed emulator still answers the tutorial's. And `emulator --api` picks the mode."""

from __future__ import annotations

import json
import uuid

import pytest

from bot.cli import build_parser
from emulator.cli import emulator_config
from tests.helpers.emulator_setup import (
    MODEL,
    deploy_running,
    upload_model,
)
from tests.helpers.emulators import Api, Emulator


def metadata_upload(admin: Api, onnx_bytes: bytes, metadata: dict, path: str = "models/upload"):
    files = {
        "metadata": (None, json.dumps(metadata), "application/json"),
        "file": ("model.onnx", onnx_bytes, "application/octet-stream"),
    }
    return admin.post(path, files=files)


TODAYS_METADATA = {
    "name": "keras-model",
    "visibility": "private",
    "workspace_id": 1,
    "conversion": {"framework": "keras", "python_version": "3.8", "requirements": []},
}


def test_models_list_nests_model_versions_and_workspace(admin: Api, onnx_bytes: bytes) -> None:
    model_id = upload_model(admin, onnx_bytes)
    (item,) = admin.ok("models/list", {"workspace_id": 1})["models"]
    assert item["model"] == {
        "id": model_id,
        "name": MODEL,
        "owner_id": '""',
        "workspace_id": 1,
        "created_at": item["model"]["created_at"],
        "updated_at": item["model"]["updated_at"],
    }
    (configured,) = item["model_versions"]
    version = configured["model_version"]
    assert version["status"] == "ready" and version["workspace_id"] == 1
    assert set(version["file_info"]) == {"version", "sha", "file_name", "size"}
    assert version["file_info"]["size"] == len(onnx_bytes)
    assert configured["config"]["runtime"] == "onnx"
    assert configured["config"]["model_version_id"] == version["id"]
    assert item["workspace"]["id"] == 1 and item["workspace"]["archived"] is False
    # The fields a real 2026-01 answer (Wallaroo_Tutorials, Model-Management notebook) has.
    assert set(version) == {
        "name", "visibility", "workspace_id", "conversion", "id", "image_path", "status",
        "task_id", "file_info", "created_on_version", "created_by", "created_at", "deployed",
        "error_summary",
    }  # fmt: skip
    assert set(version["conversion"]) >= {"python_version", "requirements", "framework"}
    assert version["deployed"] is False and version["error_summary"] is None
    assert set(configured["config"]) == {
        "id", "model_version_id", "runtime", "filter_threshold", "tensor_fields", "input_schema",
        "output_schema", "batch_config", "dynamic_batching_config", "continuous_batching_config",
        "queue_depth", "sidekick_uri", "openai",
    }  # fmt: skip
    assert set(item["workspace"]) == {
        "id", "name", "created_by", "archived", "created_at", "group_id"
    }  # fmt: skip
    by_name = admin.ok("models/list", {"workspace_name": item["workspace"]["name"]})
    assert by_name == {"models": [item]}
    assert admin.post("models/list", {"workspace_name": "nowhere"}).status_code == 404


def test_models_list_shows_versions_newest_first_and_which_is_deployed(
    emulator: Emulator, admin: Api, onnx_bytes: bytes
) -> None:
    """As recorded answers list them (Wallaroo_Tutorials, Model-Management notebook, 2026-01)."""
    deployed = deploy_running(emulator, admin, onnx_bytes)
    newer = upload_model(admin, onnx_bytes)
    assert newer == deployed.model_id  # the same model, a second version
    (item,) = admin.ok("models/list", {"workspace_id": 1})["models"]
    versions = [v["model_version"] for v in item["model_versions"]]
    assert [v["id"] for v in versions] == sorted((v["id"] for v in versions), reverse=True)
    assert [v["deployed"] for v in versions] == [False, True]


def test_seed_models_list_stays_flat(seed: Emulator, onnx_bytes: bytes) -> None:
    admin = seed.admin()
    model_id = upload_model(admin, onnx_bytes)
    (model,) = admin.ok("models/list", {"workspace_id": 1})["models"]
    assert set(model) == {"id", "name", "owner_id", "created_at", "updated_at"}
    assert model["id"] == model_id
    assert "workspace" not in admin.ok("models/get", {"id": model_id})
    listed = admin.ok("models/list_versions", {"model_id": MODEL, "models_pk_id": model_id})
    assert "status" not in listed[0]


def test_get_adds_the_workspace_and_list_versions_the_status(admin: Api, onnx_bytes: bytes) -> None:
    model_id = upload_model(admin, onnx_bytes)
    got = admin.ok("models/get", {"id": model_id})
    assert got["workspace"]["id"] == 1 and got["workspace"]["name"].endswith("Default Workspace")
    (version,) = admin.ok("models/list_versions", {"model_id": MODEL, "models_pk_id": model_id})
    assert (
        version["status"] == "ready"
        and version["model_version"] == got["models"][0]["model_version"]
    )


def test_todays_upload_takes_a_metadata_part_and_keeps_its_conversion(
    admin: Api, onnx_bytes: bytes
) -> None:
    answer = metadata_upload(admin, onnx_bytes, TODAYS_METADATA)
    assert answer.status_code == 200, answer.text
    model_id = answer.json()["insert_models"]["returning"][0]["models"][0]["id"]
    (item,) = admin.ok("models/list", {"workspace_id": 1})["models"]
    (configured,) = item["model_versions"]
    assert item["model"]["id"] == model_id
    # Kept as given, plus the `framework_config` every recorded answer shows (null here).
    conversion = TODAYS_METADATA["conversion"] | {"framework_config": None}
    assert configured["model_version"]["conversion"] == conversion
    assert configured["config"]["runtime"] == "flight"  # keras runs in a Python container


def test_upload_and_convert_answers_202(emulator: Emulator, admin: Api, onnx_bytes: bytes) -> None:
    # Conversion needs the model's schemas (base64 Arrow), as Wallaroo's SDK always sends.
    schemas = {"input_schema": "c2NoZW1h", "output_schema": "c2NoZW1h"}
    answer = metadata_upload(
        admin, onnx_bytes, TODAYS_METADATA | schemas, "models/upload_and_convert"
    )
    assert answer.status_code == 202, answer.text
    model_id = answer.json()["insert_models"]["returning"][0]["models"][0]["id"]
    assert admin.ok("models/get", {"id": model_id})["name"] == "keras-model"


def test_upload_and_convert_is_unknown_to_the_seed(seed: Emulator, onnx_bytes: bytes) -> None:
    answer = metadata_upload(seed.admin(), onnx_bytes, TODAYS_METADATA, "models/upload_and_convert")
    assert answer.status_code == 404 and answer.json() == {"msg": "Not Found", "code": 404}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"conversion": None}, "metadata.conversion"),
        ({"workspace_id": "1"}, "metadata.workspace_id"),
        ({"conversion": {"framework": "cobol", "requirements": []}}, "framework"),
        ({"visibility": "secret"}, "visibility"),
        ({"workspace_id": 999}, "workspace 999"),
    ],
)
def test_bad_metadata_is_refused_and_nothing_is_written(
    emulator: Emulator, admin: Api, onnx_bytes: bytes, change: dict, field: str
) -> None:
    metadata = {k: v for k, v in (TODAYS_METADATA | change).items() if v is not None}
    answer = metadata_upload(admin, onnx_bytes, metadata)
    assert answer.status_code in (400, 404) and field in answer.json()["msg"]
    assert list(emulator.config.model_dir.iterdir()) == []
    assert emulator.state.db.one("SELECT count(*) AS n FROM model_versions")["n"] == 0


def test_invite_answers_id_and_password_that_log_in(emulator: Emulator, admin: Api) -> None:
    invited = admin.ok("users/invite", {"email": "new@example.com"})
    assert set(invited) == {"id", "password"}
    assert emulator.token("new@example.com", invited["password"])
    users = admin.ok("users/query", {"user_ids": [invited["id"], str(uuid.uuid4())]})["users"]
    assert users[invited["id"]]["email"] == "new@example.com"
    assert list(users.values())[1] is None


def test_seed_invite_and_query_answer_as_before(seed: Emulator) -> None:
    admin = seed.admin()
    invited = admin.ok("users/invite", {"email": "new@example.com"})
    assert set(invited) == {"user_id", "sent_email"}
    assert admin.post("users/query", {"user_ids": [str(uuid.uuid4())]}).status_code == 404


@pytest.mark.parametrize(("flags", "mode"), [([], "current"), (["--api", "seed"], "seed")])
def test_emulator_command_takes_the_api_mode(flags: list[str], mode: str) -> None:
    assert emulator_config(build_parser().parse_args(["emulator", *flags])).api == mode


def test_emulator_command_refuses_an_unknown_api_mode(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["emulator", "--api", "2019"])
    assert "invalid choice: '2019'" in capsys.readouterr().err


def test_seed_upload_knows_only_the_form_fields(seed: Emulator, onnx_bytes: bytes) -> None:
    answer = metadata_upload(seed.admin(), onnx_bytes, TODAYS_METADATA)
    assert answer.status_code == 400 and "name is required" in answer.json()["msg"]
