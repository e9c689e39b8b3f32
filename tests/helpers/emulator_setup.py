"""Building blocks for emulator tests that need a model, a pipeline and a running deployment,
made through the emulator's own API in either mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.helpers.emulators import Api, Emulator

MODEL = "housepricemodel"
PIPELINE = "housepricepipe"


def fresh_seed_emulator(
    shared_emulators: dict[str, Emulator], start_module_emulator: Any
) -> Emulator:
    """The module's seed-mode emulator, emptied, beside its current-mode `emulator`."""
    if "seed" not in shared_emulators:
        shared_emulators["seed"] = start_module_emulator(api="seed")
    shared_emulators["seed"].control("reset")
    return shared_emulators["seed"]


def upload_model(admin: Api, onnx_bytes: bytes, name: str = MODEL, workspace_id: int = 1) -> int:
    """The tutorial's form-field upload, which both modes take."""
    body = admin.ok(
        "models/upload",
        files={"file": (f"{name}.onnx", onnx_bytes)},
        data={"name": name, "visibility": "private", "workspace_id": str(workspace_id)},
    )
    return body["insert_models"]["returning"][0]["models"][0]["id"]


@dataclass
class Deployed:
    model_id: int
    pipeline_id: int
    version_pk: int
    version: str
    deployment_id: int

    @property
    def name(self) -> str:
        return f"{PIPELINE}-{self.deployment_id}"


def create_pipeline(admin: Api, model_id: int) -> dict[str, Any]:
    (version,) = admin.ok("models/get", {"id": model_id})["models"]
    step = {"name": MODEL, "version": version["model_version"], "sha": version["sha"]}
    return admin.ok(
        "pipelines/create",
        {
            "pipeline_id": PIPELINE,
            "workspace_id": 1,
            "definition": {"steps": [{"ModelInference": {"models": [step]}}]},
        },
    )


def deploy_running(emulator: Emulator, admin: Api, onnx_bytes: bytes) -> Deployed:
    """A model, a pipeline with it, deployed (by the version's pk) and Running."""
    model_id = upload_model(admin, onnx_bytes)
    created = create_pipeline(admin, model_id)
    deployment = admin.ok(
        "pipelines/deploy",
        {
            "deploy_id": PIPELINE,
            "pipeline_id": created["pipeline_pk_id"],
            "pipeline_version_pk_id": created["pipeline_variant_pk_id"],
        },
    )
    emulator.control("clock", {"advance_seconds": 10})
    return Deployed(
        model_id,
        created["pipeline_pk_id"],
        created["pipeline_variant_pk_id"],
        created["pipeline_variant_version"],
        deployment["id"],
    )
