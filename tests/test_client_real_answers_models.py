"""What REAL Wallaroo instances answered about models (2025-2026, as recorded in Wallaroo's
public tutorials): `owner_id` '""', `created_by` an email, a UUID or '', `error_summary` null, a
message or the text 'null', version statuses beyond ready, list_versions answering other
models' versions, a null model config. Parsed, and rendered through `models` and `model`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.services import open_services
from bot.wallaroo.models import ModelsEnvelope, parse_response
from tests.helpers.commands import say
from tests.helpers.real_answers import MODEL_VERSION, SHA
from tests.helpers.recorded_wallaroo import RecordedServers


@pytest.fixture
async def recorded() -> AsyncIterator[RecordedServers]:
    async with RecordedServers() as servers:
        yield servers


# --- models/list, models/get, list_versions, get_config_by_id --------------------------------

WORKSPACE = {
    "id": 9,
    "name": "houseprice-ws",
    "archived": False,
    "created_at": "2025-03-28T18:50:26.145232+00:00",
    "created_by": "john.hummel@wallaroo.ai",
    "models": [4, 5, 6],
    "pipelines": [3],
}


def model_item(pk: int, name: str, **version: Any) -> dict[str, Any]:
    """A models/list item as a 2025-2026 instance answered it; `version` overrides fields."""
    return {
        "model": {
            "id": pk,
            "name": name,
            "owner_id": '""',
            "created_at": "2025-03-28T18:51:02.551208+00:00",
            "updated_at": "2025-03-28T18:51:02.551208+00:00",
            "workspace_id": 9,
        },
        "model_versions": [
            {
                "model_version": {
                    "name": name,
                    "visibility": "private",
                    "workspace_id": 9,
                    "conversion": {
                        "arch": "x86",
                        "accel": "none",
                        "python_version": "3.8",
                        "requirements": [],
                        "framework": "onnx",
                    },
                    "id": pk + 10,
                    "image_path": None,
                    "status": "ready",
                    "task_id": None,
                    "file_info": {
                        "version": f"{MODEL_VERSION[:-2]}{pk:02d}",
                        "sha": SHA,
                        "file_name": f"{name}.onnx",
                    },
                    "created_on_version": "2025.1.0",
                    "created_by": "john.hummel@wallaroo.ai",
                    "created_at": "2025-03-28T18:51:02.551208+00:00",
                    "error_summary": None,
                    "deployed": False,
                }
                | version,
                "config": {"id": pk + 20, "model_version_id": pk + 10, "runtime": "onnx"},
            }
        ],
        "workspace": WORKSPACE,
    }


MODELS = {
    "models": [
        model_item(4, "house-price-prime"),
        model_item(
            5,
            "llm-custom",
            status="error",
            error_summary="Failed to load: python_version 3.8 is not supported by BYOP",
            created_by="",
            conversion={"framework": "custom", "requirements": [], "arch": "arm", "accel": "cuda"},
        ),
        model_item(
            6,
            "slow-loader",
            status="pending_load_native",
            error_summary="null",
            created_by="3f5a9e21-6c1d-4b7e-8a2f-9d0c4e6b1a73",
        ),
        model_item(7, "container-model", status="attempting_load_container"),
    ]
}


def test_models_list_reads_every_recorded_variant() -> None:
    models = parse_response(ModelsEnvelope, MODELS, "models/list").models
    assert [m.owner_id for m in models] == ['""'] * 4
    states = [(m.latest_version.status, m.latest_version.error_summary) for m in models]
    assert states == [
        ("ready", None),
        ("error", "Failed to load: python_version 3.8 is not supported by BYOP"),
        ("pending_load_native", None),  # the text "null" is no error summary
        ("attempting_load_container", None),
    ]
    assert models[1].latest_version.model_extra["conversion"]["accel"] == "cuda"


async def test_models_and_model_render_error_and_pending(
    recorded: RecordedServers, tmp_path: Path
) -> None:
    version = {
        "sha": SHA,
        "models_pk_id": 5,
        "model_version": f"{MODEL_VERSION[:-2]}05",
        "owner_id": '""',
        "model_id": "llm-custom",
        "id": 15,
        "file_name": "llm-custom.onnx",
        "image_path": None,
    }
    got = {**MODELS["models"][1]["model"], "models": [version], "workspace": WORKSPACE}
    server, _ = await recorded.start(
        {
            "/v1/api/workspaces/list": {"workspaces": [WORKSPACE]},
            "/v1/api/models/list": MODELS,
            "/v1/api/models/get": got,
        }
    )
    async with open_services(server.bot_settings(tmp_path)) as services:
        listing = await say(services, "models houseprice-ws")
        detail = await say(services, "model houseprice-ws llm-custom")
    rows = {line.split("  ·  ")[0]: line for line in listing.splitlines()[2:]}
    assert "latest version" not in rows["house-price-prime"]  # ready: nothing to add
    assert "error: Failed to load: python_version 3.8" in rows["llm-custom"]
    assert "not ready yet (pending_load_native)" in rows["slow-loader"]
    assert "not ready yet (attempting_load_container)" in rows["container-model"]
    assert "1 version" in detail and "error: Failed to load" in detail


async def test_list_versions_keeps_only_the_asked_models_versions(
    recorded: RecordedServers,
) -> None:
    def item(pk: int, name: str, version_id: int) -> dict[str, Any]:
        return {
            "sha": SHA,
            "models_pk_id": pk,
            "model_version": f"{MODEL_VERSION[:-2]}{version_id:02d}",
            "owner_id": '""',
            "model_id": name,
            "id": version_id,
            "file_name": f"{name}.onnx",
            "image_path": None,
            "status": "ready",
        }

    # Recorded: versions of another model, and of a same-named model in another workspace.
    answer = [
        item(4, "house-price-prime", 14),
        item(3, "ccfraud", 13),
        item(8, "house-price-prime", 18),
    ]
    _, client = await recorded.start({"/v1/api/models/list_versions": answer})
    (only,) = await client.list_model_versions("house-price-prime", 4)
    assert (only.id, only.models_pk_id, only.model_id) == (14, 4, "house-price-prime")
    # The tutorial's pk 0 keeps every model of that name.
    assert [v.id for v in await client.list_model_versions("house-price-prime", 0)] == [14, 18]


async def test_get_config_by_id_may_answer_a_null_config(recorded: RecordedServers) -> None:
    _, client = await recorded.start({"/v1/api/models/get_config_by_id": {"model_config": None}})
    assert await client.get_model_config(4) is None
